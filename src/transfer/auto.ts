import { macroAuroc } from "../model/auroc.js";
import { BOW_CV_FOLDS, poolCvFolds } from "../model/bow-logistic.js";
import { poolFolds } from "./adaptive.js";
import { runScenario, type Scenario, type ScenarioInput, type ScenarioOutput } from "./scenarios.js";

/**
 * `auto`: which arm to deploy, chosen by nested cross-validation inside the target's training data
 * only. The pool is cut into k stratified folds; every candidate is trained on k-1 folds exactly as
 * its plain arm would be (its own validation split, epochs, penalties) and scores the held-out fold
 * (the cross-validated logistic arms bring these out-of-fold predictions from their plain run, whose
 * CV uses the same folds and never lets a fold's rows choose the penalty that predicts them);
 * the candidate with the best pooled out-of-fold AUROC (macro for multi-class) wins, ties going to
 * the earlier (simpler) candidate. The winner's plain arm, trained on the whole pool, is the
 * result: the same training the plain arm's cell does, shared through `plain`. The target's test
 * set is never read before the choice is made (test/transfer/auto.test.ts poisons it to prove it).
 */

/** Candidates, simplest first (the tie-break order). */
export const AUTO_CANDIDATES: readonly Scenario[] = [
  "source-only",
  "local-bow",
  "stacked",
  "finetune-dense",
  "finetune-l2sp",
  "finetune-conv",
  "local",
];

/** Auto's folds are the logistic arms' CV folds (model/bow-logistic.ts poolCvFolds): 3, 2 for a large pool. */
export const AUTO_FOLDS = BOW_CV_FOLDS;

/** Arms whose plain run already holds out-of-fold predictions on auto's folds (ScenarioOutput.crossFit). */
const SHARES_FOLDS: ReadonlySet<Scenario> = new Set(["local-bow", "stacked"]);

function sameFolds(a: number[][], b: number[][]): boolean {
  return (
    a.length === b.length && a.every((f, i) => f.length === b[i].length && f.every((r, k) => r === b[i][k]))
  );
}

export function runAuto(
  input: ScenarioInput,
  plain: (scenario: Scenario) => ScenarioOutput,
  o: {
    candidates?: readonly Scenario[];
    folds?: number;
    /** After each candidate's fold is trained: trainings done, trainings in all, what just ran. */
    onFold?: (done: number, total: number, what: string) => void;
  } = {},
): ScenarioOutput {
  const { target } = input;
  const C = input.classes.length;
  const candidates = (o.candidates ?? AUTO_CANDIDATES).filter(
    (c) =>
      input.sourceModel !== undefined ||
      !(c === "source-only" || c === "stacked" || c.startsWith("finetune-")),
  );
  const pool = target.pool;
  const folds = poolCvFolds(pool.labels, input.split.seed, o.folds);
  const parts = poolFolds(pool, folds);
  // The cross-validated logistic arms computed out-of-fold predictions on these very folds while
  // fitting: their plain run (shared with their own cells) is their score.
  const shared = candidates.map((scenario) => {
    const fit = SHARES_FOLDS.has(scenario) ? plain(scenario).crossFit : undefined;
    return fit && sameFolds(fit.folds, folds) ? fit.probs : undefined;
  });
  const trainings = shared.filter((p) => p === undefined).length * parts.length;
  let done = 0;
  const oof = candidates.map((scenario, ci) => {
    const own = shared[ci];
    if (own) return own;
    const probs = new Float64Array(pool.labels.length * C);
    parts.forEach((fold, f) => {
      if (fold.rows.length === 0) return;
      const out = runScenario({
        ...input,
        scenario,
        target: { ...target, pool: fold.train, test: fold.held },
      });
      fold.rows.forEach((row, k) => {
        for (let c = 0; c < C; c++) probs[row * C + c] = out.testProbs[k * C + c];
      });
      o.onFold?.(++done, trainings, `${scenario} fold ${f + 1}/${parts.length}`);
    });
    return probs;
  });
  const scores: Record<string, number> = {};
  let winner = 0;
  candidates.forEach((c, ci) => {
    scores[c] = macroAuroc(pool.labels, oof[ci], C);
    if (scores[c] > scores[candidates[winner]] || Number.isNaN(scores[candidates[winner]])) winner = ci;
  });
  const chosen = plain(candidates[winner]);
  return { ...chosen, selection: { ...chosen.selection, winner: candidates[winner], scores } };
}
