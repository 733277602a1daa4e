import { macroAuroc } from "../model/auroc.js";
import { stratifiedFolds } from "../model/bow-logistic.js";
import { poolFolds } from "./adaptive.js";
import { runScenario, type Scenario, type ScenarioInput, type ScenarioOutput } from "./scenarios.js";

/**
 * `auto`: which arm to deploy, chosen by nested cross-validation inside the target's training data
 * only. The pool is cut into k stratified folds; every candidate is trained on k-1 folds exactly as
 * its plain arm would be (its own validation split, epochs, penalties) and scores the held-out fold;
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

export const AUTO_FOLDS = 3;

export function runAuto(
  input: ScenarioInput,
  plain: (scenario: Scenario) => ScenarioOutput,
  o: { candidates?: readonly Scenario[]; folds?: number } = {},
): ScenarioOutput {
  const { target } = input;
  const C = input.classes.length;
  const candidates = (o.candidates ?? AUTO_CANDIDATES).filter(
    (c) => input.sourceModel !== undefined || !(c === "source-only" || c === "stacked" || c.startsWith("finetune-")),
  );
  const pool = target.pool;
  const folds = poolFolds(pool, stratifiedFolds(pool.labels, o.folds ?? AUTO_FOLDS, input.split.seed));
  const oof = candidates.map(() => new Float64Array(pool.labels.length * C));
  for (const fold of folds) {
    if (fold.rows.length === 0) continue;
    const foldTarget = { ...target, pool: fold.train, test: fold.held };
    candidates.forEach((scenario, ci) => {
      const out = runScenario({ ...input, scenario, target: foldTarget });
      fold.rows.forEach((row, k) => {
        for (let c = 0; c < C; c++) oof[ci][row * C + c] = out.testProbs[k * C + c];
      });
    });
  }
  const scores: Record<string, number> = {};
  let winner = 0;
  candidates.forEach((c, ci) => {
    scores[c] = macroAuroc(pool.labels, oof[ci], C);
    if (scores[c] > scores[candidates[winner]] || Number.isNaN(scores[candidates[winner]])) winner = ci;
  });
  const chosen = plain(candidates[winner]);
  return { ...chosen, selection: { ...chosen.selection, winner: candidates[winner], scores } };
}
