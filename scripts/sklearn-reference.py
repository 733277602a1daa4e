#!/usr/bin/python3
"""Reference values for ConceptBridge's evaluation metrics (src/eval/), computed with scikit-learn.

Regenerate the test fixture with Debian's Python (python3-sklearn 1.2.1, numpy 1.24, scipy 1.10):

    /usr/bin/python3 scripts/sklearn-reference.py > test/eval/fixtures/sklearn-reference.json

The fixed input vectors are defined here (deliberately full of ties, including scores exactly on
calibration bin edges) and written into the fixture next to the expected values, so the TypeScript
tests and this script always look at the same numbers. Everything that sklearn does not provide
(DeLong, multi-class Brier, top-label ECE, calibration-in-the-large, Holm) is computed from its
textbook definition with plain numpy, independently of the fast TypeScript algorithms.
"""

import json
import sys
import warnings

import numpy as np
import sklearn
import sklearn.exceptions
from scipy import optimize, stats
from scipy.special import expit, logit
from sklearn.calibration import calibration_curve
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import label_binarize
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    brier_score_loss,
    log_loss,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

# Probabilities are clipped to [LOGIT_EPS, 1 - LOGIT_EPS] before taking logits (src/eval/calibration.ts).
LOGIT_EPS = 1e-15


def fl(a):
    return [float(x) for x in np.asarray(a).ravel()]


# ---------------------------------------------------------------------------------------------
# Fixed inputs
# ---------------------------------------------------------------------------------------------


def binary_cases():
    cases = {}
    # Small hand-written vector: ties inside and across classes, scores on bin edges (0.1, 0.3, 0.5).
    cases["small"] = dict(
        labels=[0, 0, 1, 1, 0, 1, 1, 0, 1, 0, 0, 1],
        scores=[0.1, 0.4, 0.35, 0.8, 0.4, 0.4, 0.9, 0.2, 0.35, 0.6, 0.1, 0.5],
        scores2=[0.2, 0.3, 0.3, 0.7, 0.5, 0.3, 0.7, 0.1, 0.6, 0.5, 0.2, 0.5],
    )
    # Medium random vector rounded to 0.05 so that many scores tie and many sit on bin edges.
    rs = np.random.RandomState(20240501)
    n = 300
    y = (rs.uniform(size=n) < 0.3).astype(int)
    z = -1.0 + 1.6 * y + rs.normal(size=n)
    p = np.round(expit(z) * 20) / 20
    z2 = -0.8 + 1.1 * y + 0.6 * (z + 1.0 - 1.6 * y) + rs.normal(size=n) * 0.9
    p2 = np.round(expit(z2) * 50) / 50
    cases["medium"] = dict(labels=fl(y), scores=fl(p), scores2=fl(p2))
    # Extremes: exact 0 and 1 probabilities (log loss clipping, logit clipping), heavy ties.
    rs = np.random.RandomState(7)
    n = 80
    y = (rs.uniform(size=n) < 0.5).astype(int)
    p = np.clip(np.round(rs.beta(1 + 2 * y, 3 - 2 * y) * 10) / 10, 0, 1)
    p2 = np.clip(np.round(rs.beta(1 + y, 2 - y) * 4) / 4, 0, 1)
    cases["extremes"] = dict(labels=fl(y), scores=fl(p), scores2=fl(p2))
    for c in cases.values():
        c["labels"] = [int(v) for v in c["labels"]]
    return cases


def multiclass_case():
    rs = np.random.RandomState(11)
    C = 4
    prototypes = np.array(
        [
            [0.7, 0.1, 0.1, 0.1],
            [0.1, 0.6, 0.2, 0.1],
            [0.25, 0.25, 0.25, 0.25],
            [0.1, 0.2, 0.3, 0.4],
            [0.05, 0.05, 0.8, 0.1],
            [0.4, 0.4, 0.1, 0.1],
        ]
    )
    rows = []
    for _ in range(120):
        rows.append(prototypes[rs.randint(len(prototypes))])
    for _ in range(120):
        r = np.round(rs.dirichlet(np.ones(C) * 1.2), 3)
        r[-1] = 1.0 - r[:-1].sum()
        if r[-1] < 0:
            r = np.array([0.25, 0.25, 0.25, 0.25])
        rows.append(r)
    P = np.array(rows)
    y = np.array([rs.choice(C, p=np.clip(r, 0, 1) / np.clip(r, 0, 1).sum()) for r in P])
    return dict(labels=[int(v) for v in y], probs=fl(P), classes=C)


# ---------------------------------------------------------------------------------------------
# Independent reference implementations of what sklearn lacks
# ---------------------------------------------------------------------------------------------


def delong_structural(y, s):
    """DeLong et al. (1988) structural components straight from the definition, O(m*n)."""
    pos = s[y == 1]
    neg = s[y == 0]
    psi = (pos[:, None] > neg[None, :]).astype(float) + 0.5 * (pos[:, None] == neg[None, :])
    return psi.mean(), psi.mean(axis=1), psi.mean(axis=0)


def delong_ref(y, s, s2, level=0.95):
    y = np.asarray(y)
    s = np.asarray(s, float)
    s2 = np.asarray(s2, float)
    a1, v10a, v01a = delong_structural(y, s)
    a2, v10b, v01b = delong_structural(y, s2)
    m, n = len(v10a), len(v01a)
    s10 = np.cov(np.vstack([v10a, v10b]))  # ddof = 1
    s01 = np.cov(np.vstack([v01a, v01b]))
    cov = s10 / m + s01 / n
    var_a = cov[0, 0]
    zq = stats.norm.ppf(0.5 + level / 2)
    se = np.sqrt(var_a)
    plain = [max(0.0, a1 - zq * se), min(1.0, a1 + zq * se)]
    lg = logit(a1)
    se_logit = se / (a1 * (1 - a1))
    logit_ci = [expit(lg - zq * se_logit), expit(lg + zq * se_logit)]
    diff = a1 - a2
    var_d = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
    z = diff / np.sqrt(var_d)
    p = 2 * stats.norm.sf(abs(z))
    ci_d = [diff - zq * np.sqrt(var_d), diff + zq * np.sqrt(var_d)]
    return dict(
        auc=a1,
        auc2=a2,
        variance=var_a,
        variance2=cov[1, 1],
        covariance=cov[0, 1],
        ciPlain=plain,
        ciLogit=[float(v) for v in logit_ci],
        diff=diff,
        z=z,
        p=p,
        diffCI=ci_d,
    )


def calibration_in_the_large(y, p):
    """Intercept a of logit P(y=1) = a + logit(p) (offset), solved from its score equation."""
    lp = logit(np.clip(p, LOGIT_EPS, 1 - LOGIT_EPS))
    return optimize.brentq(lambda a: np.sum(y - expit(a + lp)), -50, 50, xtol=1e-15, rtol=4 * np.finfo(float).eps)


def calibration_slope(y, p):
    """(intercept, slope) of logit P(y=1) = b0 + b1 logit(p), by sklearn's unpenalised logistic
    regression, cross-checked by solving the score equations with scipy."""
    lp = logit(np.clip(p, LOGIT_EPS, 1 - LOGIT_EPS))
    lr = LogisticRegression(penalty=None, solver="newton-cg", tol=1e-10, max_iter=10000)
    with warnings.catch_warnings():
        # newton-cg stops short of 1e-10 on some inputs; the scipy root below polishes the optimum.
        warnings.simplefilter("ignore", sklearn.exceptions.ConvergenceWarning)
        lr.fit(lp[:, None], y)
    b0, b1 = float(lr.intercept_[0]), float(lr.coef_[0, 0])

    def score(b):
        r = y - expit(b[0] + b[1] * lp)
        return [np.sum(r), np.sum(r * lp)]

    sol = optimize.root(score, [b0, b1], tol=1e-15)
    assert np.max(np.abs(score(sol.x))) < 1e-9 and abs(sol.x[0] - b0) < 1e-6 and abs(sol.x[1] - b1) < 1e-6, (sol.x, b0, b1)
    return float(sol.x[0]), float(sol.x[1])


def uniform_bins(p, n_bins):
    """sklearn 1.2.1 calibration_curve(strategy="uniform") binning, with the counts it does not return."""
    bins = np.linspace(0.0, 1.0, n_bins + 1)
    return np.searchsorted(bins[1:-1], p)


def ece_ref(y, p, n_bins):
    y = np.asarray(y, float)
    p = np.asarray(p, float)
    prob_true, prob_pred = calibration_curve(y, p, n_bins=n_bins, strategy="uniform")
    counts = np.bincount(uniform_bins(p, n_bins), minlength=n_bins)
    counts = counts[counts > 0]
    ece = float(np.sum(counts / len(p) * np.abs(prob_true - prob_pred)))
    return dict(
        ece=ece,
        observed=fl(prob_true),
        meanPredicted=fl(prob_pred),
        count=[int(c) for c in counts],
    )


def threshold_ref(y, s, threshold):
    pred = (s >= threshold).astype(int)
    tp = int(np.sum((pred == 1) & (y == 1)))
    fp = int(np.sum((pred == 1) & (y == 0)))
    tn = int(np.sum((pred == 0) & (y == 0)))
    fn = int(np.sum((pred == 0) & (y == 1)))
    return dict(
        threshold=float(threshold),
        tp=tp,
        fp=fp,
        tn=tn,
        fn=fn,
        sensitivity=tp / (tp + fn),
        specificity=tn / (tn + fp),
        ppv=tp / (tp + fp) if tp + fp > 0 else None,
        npv=tn / (tn + fn) if tn + fn > 0 else None,
    )


def youden_ref(y, s):
    fpr, tpr, thr = roc_curve(y, s, drop_intermediate=False)
    k = int(np.argmax(tpr - fpr))
    return threshold_ref(y, s, thr[k])


def holm_ref(pvals):
    p = np.asarray(pvals, float)
    order = np.argsort(p, kind="mergesort")
    m = len(p)
    adj = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adj[i] = running
    return fl(adj)


# ---------------------------------------------------------------------------------------------


def binary_reference(c):
    y = np.asarray(c["labels"])
    s = np.asarray(c["scores"], float)
    s2 = np.asarray(c["scores2"], float)
    out = {}
    out["auroc"] = roc_auc_score(y, s)
    out["auroc2"] = roc_auc_score(y, s2)
    out["auprc"] = average_precision_score(y, s)
    out["brier"] = brier_score_loss(y, s)
    out["logLoss"] = log_loss(y, s)
    out["accuracy"] = accuracy_score(y, (s > 0.5).astype(int))
    fpr, tpr, thr = roc_curve(y, s, drop_intermediate=True)
    out["roc"] = dict(fpr=fl(fpr), tpr=fl(tpr), thresholds=fl(thr))
    fpr, tpr, thr = roc_curve(y, s, drop_intermediate=False)
    out["rocFull"] = dict(fpr=fl(fpr), tpr=fl(tpr), thresholds=fl(thr))
    prec, rec, thr = precision_recall_curve(y, s)
    out["pr"] = dict(precision=fl(prec), recall=fl(rec), thresholds=fl(thr))
    out["threshold05"] = threshold_ref(y, s, 0.5)
    out["youden"] = youden_ref(y, s)
    out["ece10"] = ece_ref(y, s, 10)
    out["ece5"] = ece_ref(y, s, 5)
    out["calibrationIntercept"] = calibration_in_the_large(y, s)
    b0, b1 = calibration_slope(y, s)
    out["calibrationSlopeIntercept"] = b0
    out["calibrationSlope"] = b1
    out["delong"] = {k: (fl(v) if isinstance(v, list) else float(v)) for k, v in delong_ref(y, s, s2).items()}
    out["delong90"] = {k: (fl(v) if isinstance(v, list) else float(v)) for k, v in delong_ref(y, s, s2, 0.9).items()}
    return {k: (float(v) if isinstance(v, (float, np.floating)) else v) for k, v in out.items()}


def multiclass_reference(c):
    y = np.asarray(c["labels"])
    C = c["classes"]
    P = np.asarray(c["probs"], float).reshape(-1, C)
    out = {}
    out["macroAuroc"] = float(roc_auc_score(y, P, multi_class="ovr", average="macro"))
    out["perClassAuroc"] = [float(roc_auc_score((y == k).astype(int), P[:, k])) for k in range(C)]
    out["macroAuprc"] = float(average_precision_score(label_binarize(y, classes=list(range(C))), P, average="macro"))
    out["logLoss"] = float(log_loss(y, P, labels=list(range(C))))
    out["accuracy"] = float(accuracy_score(y, np.argmax(P, axis=1)))
    onehot = np.eye(C)[y]
    # Brier (1950): mean over encounters of the squared distance summed over classes (sklearn 1.2 has no multi-class Brier).
    out["brier"] = float(np.mean(np.sum((P - onehot) ** 2, axis=1)))
    conf = P.max(axis=1)
    correct = (np.argmax(P, axis=1) == y).astype(float)
    out["topLabelEce10"] = ece_ref(correct, conf, 10)
    return out


def main():
    warnings.simplefilter("error")  # a silent sklearn fallback would make a wrong reference
    cases = binary_cases()
    multi = multiclass_case()
    holm_in = [0.01, 0.04, 0.03, 0.2, 0.005, 0.04]
    doc = {
        "generatedBy": "/usr/bin/python3 scripts/sklearn-reference.py > test/eval/fixtures/sklearn-reference.json",
        "versions": {"sklearn": sklearn.__version__, "numpy": np.__version__, "scipy": __import__("scipy").__version__},
        "logitEps": LOGIT_EPS,
        "binary": {name: {"input": c, "expected": binary_reference(c)} for name, c in cases.items()},
        "multiclass": {"input": multi, "expected": multiclass_reference(multi)},
        "normalQuantiles": {str(q): float(stats.norm.ppf(q)) for q in [0.5, 0.8, 0.9, 0.95, 0.975, 0.995, 1e-6, 0.01]},
        "normalTwoSidedP": {str(z): float(2 * stats.norm.sf(abs(z))) for z in [0.0, 0.5, 1.0, 1.959963984540054, 3.0, 5.0, 8.0]},
        "holm": {"input": holm_in, "expected": holm_ref(holm_in)},
    }
    json.dump(doc, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
