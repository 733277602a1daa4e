"""Reference values for src/model/bow-logistic.ts: scikit-learn's L2 multinomial logistic regression
(newton-cg, tight tolerance) on binary bag-of-tokens features, written to
test/model/fixtures/bow-logistic-reference.json. Run with /usr/bin/python3 (Debian python3-sklearn).

ConceptBridge's objective (1/n) sum loss + (lambda/2)||W||^2 equals sklearn's with C = 1/(n lambda).
"""
import json
import os

import numpy as np
from sklearn.linear_model import LogisticRegression

rng = np.random.default_rng(20241201)
out = {"cases": []}
for classes, n, vocab, lam, dense in [(2, 120, 15, 0.05, 0), (4, 200, 25, 0.01, 0), (3, 150, 12, 0.02, 2)]:
    seqs = []
    labels = rng.integers(0, classes, size=n)
    X = np.zeros((n, vocab + dense))
    for i in range(n):
        k = int(rng.integers(1, 6))
        # Tokens carry signal: token (label + 1) appears more often for its class.
        toks = set(int(t) for t in rng.integers(1, vocab + 1, size=k))
        if rng.random() < 0.6:
            toks.add(int(labels[i]) + 1)
        toks = sorted(toks)
        seqs.append(toks)
        for t in toks:
            X[i, t - 1] = 1.0
        for f in range(dense):
            X[i, vocab + f] = float(rng.normal() + (0.8 if labels[i] == f else 0.0))
    C = 1.0 / (n * lam)
    # newton-cg: lbfgs stops a few 1e-5 short of the optimum on these flat objectives.
    m = LogisticRegression(C=C, tol=1e-14, max_iter=100000, solver="newton-cg")
    m.fit(X, labels)
    probs = m.predict_proba(X)
    out["cases"].append(
        {
            "classes": classes,
            "vocab": vocab,
            "lambda": lam,
            "dense": [[float(v) for v in X[i, vocab:]] for i in range(n)] if dense else None,
            "seqs": seqs,
            "labels": [int(y) for y in labels],
            "probs": [[float(p) for p in row] for row in probs],
        }
    )

path = os.path.join(os.path.dirname(__file__), "..", "test", "model", "fixtures", "bow-logistic-reference.json")
with open(path, "w") as f:
    json.dump(out, f)
print("wrote", path)
