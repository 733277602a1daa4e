import { createHash } from "node:crypto";
import { type LabeledSequences, subsetLabeled } from "../concepts/sequences.js";
import type { EmbeddedSite } from "../embed/embedded-site.js";
import { aurocStandardError } from "../model/auroc.js";
import { type BowModel, bowData, fitBowCv, predictBow } from "../model/bow-logistic.js";
import { predictProba } from "../model/predict.js";
import type { TrainResult } from "../model/train.js";
import type { ModelSnapshot } from "../model/types.js";
import type { TrainValidation } from "./training-data.js";

/**
 * The arms that degrade gracefully when the source helps little: the tuned local baseline
 * (`local-bow`), stacking on the source model's logits (`stacked`), and the choice among L2-SP
 * fine-tuning strengths (`finetune-l2sp`). Each returns target test and honest validation
 * probabilities; the scenario module wraps them as a ScenarioOutput.
 */

export interface ArmProbs {
  testProbs: Float64Array;
  /** Out-of-fold probabilities over the pool (the pool is what these arms validate on). */
  validationProbs: Float64Array;
  validationLabels: Int32Array;
  /** What was chosen (penalty, strength), for the result record. */
  chosen: Record<string, number>;
  /** Cross-fitted out-of-fold probabilities over the pool and their folds (model/bow-logistic.ts). */
  crossFit: { folds: number[][]; probs: Float64Array };
  /** The regression refitted on the whole pool at the chosen penalty: what a site deploys (transfer/site-model.ts). */
  model: BowModel;
}

/**
 * Logistic regression on the target's bag of tokens, L2 strength by stratified k-fold CV. It reads
 * token ids, not vectors, so every embedding arm of one target and size gets the same model: the
 * result is kept (by the content of its data) for the next embedding's job in this thread.
 */
export function localBow(target: EmbeddedSite, C: number, seed: number): ArmProbs {
  const key = contentKey([target.pool, target.test], [C, seed, target.vocabulary.length]);
  const hit = bowResults.get(key);
  if (hit) return hit;
  const m = fitBowCv(bowData(target.pool), { classes: C, vocab: target.vocabulary.length, seed });
  const out: ArmProbs = {
    testProbs: predictBow(m, target.test.seqs),
    validationProbs: m.oof,
    validationLabels: target.pool.labels,
    chosen: { lambda: m.lambda, cvAuroc: m.cvAuroc },
    crossFit: m.crossFit,
    model: m,
  };
  // A handful of (size, seed) pools per thread at a time: the grid runs one job's embeddings together.
  if (bowResults.size >= 32) bowResults.delete(bowResults.keys().next().value as string);
  bowResults.set(key, out);
  return out;
}

const bowResults = new Map<string, ArmProbs>();

/** A digest of sequences, labels and numbers: equal data, equal key. */
function contentKey(parts: LabeledSequences[], numbers: number[]): string {
  const h = createHash("sha256");
  for (const p of parts) {
    h.update(new Uint8Array(p.seqs.offsets.buffer, p.seqs.offsets.byteOffset, p.seqs.offsets.byteLength));
    h.update(new Uint8Array(p.seqs.tokens.buffer, p.seqs.tokens.byteOffset, p.seqs.tokens.byteLength));
    h.update(new Uint8Array(p.labels.buffer, p.labels.byteOffset, p.labels.byteLength));
    h.update("|");
  }
  h.update(numbers.join(","));
  return h.digest("hex");
}

/**
 * Stacking: the same cross-validated logistic regression, with the source model's logit(s) as extra
 * features whose weights the penalty pulls towards the source model itself (weight 1 on the binary
 * log-odds; the identity on the multi-class centred log-probabilities) instead of towards zero. The
 * strong end of the penalty path is the source model with a recalibrated intercept, the weak end
 * the source model corrected by the target's own tokens: cross-validation picks how far to move
 * (the one-standard-error rule: no further than the held-out data clearly ask), so a good source carries the small-n case and a useless one is overridden as data accrue.
 */
export function stacked(target: EmbeddedSite, sourceModel: ModelSnapshot, C: number, seed: number): ArmProbs {
  const feats = (s: LabeledSequences) => stackedFeatures(sourceModel, target.embedding, s.seqs, C);
  const m = fitBowCv(bowData(target.pool, feats(target.pool)), {
    classes: C,
    vocab: target.vocabulary.length,
    seed,
    denseCenter: sourceCenter(C),
    oneStandardError: true,
  });
  return {
    testProbs: predictBow(m, target.test.seqs, feats(target.test)),
    validationProbs: m.oof,
    validationLabels: target.pool.labels,
    chosen: { lambda: m.lambda, cvAuroc: m.cvAuroc, sourceWeight: m.denseW[C === 2 ? 1 : 0] },
    crossFit: m.crossFit,
    model: m,
  };
}

/** Stacking's dense features for some encounters: the source model's logits on the site's embedding. */
export function stackedFeatures(
  sourceModel: ModelSnapshot,
  embedding: EmbeddedSite["embedding"],
  seqs: LabeledSequences["seqs"],
  C: number,
): Float64Array {
  return sourceLogits(predictProba(sourceModel, embedding, seqs), C);
}

/** The dense weights that reproduce the source model from sourceLogits (F x C, BowModel layout). */
export function sourceCenter(C: number): Float64Array {
  if (C === 2) return Float64Array.from([0, 1]);
  const center = new Float64Array(C * C);
  for (let c = 0; c < C; c++) center[c * C + c] = 1;
  return center;
}

/** Binary: the log-odds of class 1; multi-class: centred log-probabilities (n x F, F = 1 or C). */
export function sourceLogits(probs: Float64Array, C: number): Float64Array {
  const n = probs.length / C;
  const F = C === 2 ? 1 : C;
  const out = new Float64Array(n * F);
  const lp = (v: number) => Math.log(Math.min(Math.max(v, 1e-12), 1));
  for (let i = 0; i < n; i++) {
    if (C === 2) {
      out[i] = lp(probs[i * 2 + 1]) - lp(probs[i * 2]);
      continue;
    }
    let mean = 0;
    for (let c = 0; c < C; c++) mean += lp(probs[i * C + c]) / C;
    for (let c = 0; c < C; c++) out[i * C + c] = lp(probs[i * C + c]) - mean;
  }
  return out;
}

/** L2-SP strengths (weight decay towards the source weights), strongest first. */
export const L2SP_STRENGTHS = [1, 0.1, 0.01] as const;

/**
 * The one-standard-error rule (Breiman et al. 1984) over candidates ordered from most to least
 * conservative: the first whose validation AUROC is within one standard error of the best. With a
 * small validation set the rule keeps the model nearest the source; with a large one it takes the
 * best. Returns the chosen index.
 */
export function oneStandardError(scores: number[], validationLabels: Int32Array, C: number): number {
  let best = 0;
  scores.forEach((s, i) => {
    if (s > scores[best]) best = i;
  });
  if (Number.isNaN(scores[best])) return 0;
  const se = aurocStandardError(validationLabels, scores[best], C);
  const bar = scores[best] - (Number.isNaN(se) ? 0 : se);
  const first = scores.findIndex((s) => s >= bar);
  return first >= 0 ? first : best;
}

/** The validation AUROCs of L2-SP runs (each already kept its best epoch, epoch 0 included). */
export function pickL2sp(runs: TrainResult[], data: TrainValidation, C: number): number {
  return oneStandardError(
    runs.map((r) => r.bestValidationAuroc),
    data.validation.labels,
    C,
  );
}

/** The pool split into k stratified folds: the fold's training part and held-out part, per fold. */
export function poolFolds(
  pool: LabeledSequences,
  folds: number[][],
): { train: LabeledSequences; held: LabeledSequences; rows: number[] }[] {
  return folds.map((held) => {
    const heldSet = new Set(held);
    const keep: number[] = [];
    for (let i = 0; i < pool.labels.length; i++) if (!heldSet.has(i)) keep.push(i);
    return { train: subsetLabeled(pool, keep), held: subsetLabeled(pool, held), rows: held };
  });
}
