import { type LabeledSequences, subsetLabeled } from "../concepts/sequences.js";
import type { TokenSequences } from "../concepts/vocabulary.js";
import { macroAuroc } from "./auroc.js";
import { lbfgsMinimize } from "./lbfgs.js";

/**
 * Multinomial logistic regression on an encounter's bag of tokens (each token 0/1; ids 1..V of a
 * vocabulary) plus optional dense features (e.g. a source model's logits, for stacking), with an L2
 * penalty whose strength is chosen by stratified k-fold cross-validation: the tuned local baseline
 * every transfer arm is judged against, and the learner of the `stacked` arm.
 *
 * Binary tasks have one logit (class 0's weights fixed at 0), multi-class a full softmax, as
 * scikit-learn's LogisticRegression (test/model/bow-logistic.test.ts compares the two).
 *
 * Objective: (1/n) sum_i -log softmax(z_i)[y_i] + (lambda/2) sum_j m_j ||w_j||^2, z_i = b +
 * sum_{t in i} W[t] + sum_f x_if U[f]; intercepts unpenalized; m_j = 1 for token weights and
 * `densePenalty` for dense features (a small multiplier lets a useful source logit carry the model
 * while the many token weights stay shrunk). Convex and smooth: minimized to convergence by L-BFGS
 * (model/lbfgs.ts), warm-started along the lambda path from strong to weak penalty.
 *
 * Hand-written because no npm package fits: ml-logistic-regression (mljs) is dense, binary
 * one-vs-rest and plain gradient descent, far too slow for a cross-validated path.
 */

export interface BowData {
  seqs: TokenSequences;
  labels: Int32Array;
  /** Dense features, n x F row-major (F = 0 when absent). */
  dense?: Float64Array;
}

export interface BowModel {
  classes: number;
  vocab: number;
  denseCount: number;
  /** (vocab + 1) x C token weights (row 0, padding, stays 0), F x C dense weights, C intercepts. */
  tokenW: Float64Array;
  denseW: Float64Array;
  bias: Float64Array;
  lambda: number;
}

export interface BowFitOptions {
  classes: number;
  /** Largest token id (the vocabulary size). */
  vocab: number;
  lambda: number;
  /** Penalty multiplier of the dense features (default 1). */
  densePenalty?: number;
  /**
   * Where the dense weights' penalty pulls them (F x C, the layout of BowModel.denseW; default 0):
   * stacking centres them on the source model itself, so a strong penalty gives the source model
   * back and a weak one lets the target's data correct it.
   */
  denseCenter?: Float64Array;
  /** Warm start. */
  init?: BowModel;
  maxIterations?: number;
  /** Stop when no gradient entry exceeds this (default 1e-6). */
  gradientTolerance?: number;
}

/** Fit at one penalty strength. */
export function fitBow(data: BowData, o: BowFitOptions): BowModel {
  if (o.classes === 2) return fitBinary(data, o);
  const C = o.classes;
  const V = o.vocab;
  const n = data.labels.length;
  const F = data.dense ? data.dense.length / Math.max(1, n) : 0;
  const nTok = (V + 1) * C;
  const nDense = F * C;
  const size = nTok + nDense + C;
  const x = new Float64Array(size);
  const center = o.denseCenter ?? new Float64Array(nDense);
  if (o.init && o.init.vocab === V && o.init.denseCount === F) {
    x.set(o.init.tokenW, 0);
    x.set(o.init.denseW, nTok);
    x.set(o.init.bias, nTok + nDense);
  } else x.set(center, nTok);
  const mDense = o.densePenalty ?? 1;
  const { seqs, labels } = data;
  const z = new Float64Array(C);
  const objective = (w: Float64Array, g: Float64Array): number => {
    g.fill(0);
    let loss = 0;
    // Four classes (the common multi-class case) unrolled: 2-3 times faster than the loop over c,
    // the same sums in the same order (test/model/bow-logistic.test.ts compares the two).
    if (C === 4) loss = tokenLoss4(w, g, seqs, labels, nTok, data.dense, F);
    else
      for (let i = 0; i < n; i++) {
        for (let c = 0; c < C; c++) z[c] = w[nTok + nDense + c];
        for (let k = seqs.offsets[i]; k < seqs.offsets[i + 1]; k++) {
          const base = seqs.tokens[k] * C;
          for (let c = 0; c < C; c++) z[c] += w[base + c];
        }
        for (let f = 0; f < F; f++) {
          const v = (data.dense as Float64Array)[i * F + f];
          if (v !== 0) for (let c = 0; c < C; c++) z[c] += v * w[nTok + f * C + c];
        }
        const sum = expShifted(z, C);
        const y = labels[i];
        loss -= Math.log(z[y] / sum);
        for (let c = 0; c < C; c++) {
          const r = (z[c] / sum - (c === y ? 1 : 0)) / n;
          z[c] = r;
          g[nTok + nDense + c] += r;
        }
        for (let k = seqs.offsets[i]; k < seqs.offsets[i + 1]; k++) {
          const base = seqs.tokens[k] * C;
          for (let c = 0; c < C; c++) g[base + c] += z[c];
        }
        for (let f = 0; f < F; f++) {
          const v = (data.dense as Float64Array)[i * F + f];
          if (v !== 0) for (let c = 0; c < C; c++) g[nTok + f * C + c] += v * z[c];
        }
      }
    loss /= Math.max(1, n);
    let penalty = 0;
    for (let j = C; j < nTok; j++) {
      penalty += w[j] * w[j];
      g[j] += o.lambda * w[j];
    }
    let densePen = 0;
    for (let j = nTok; j < nTok + nDense; j++) {
      const d = w[j] - center[j - nTok];
      densePen += d * d;
      g[j] += o.lambda * mDense * d;
    }
    if (C === 2) {
      // Binary: one logit (class 1 against a class 0 fixed at zero), as a binary logistic
      // regression has; a symmetric two-column softmax would halve the effective penalty.
      for (let j = 0; j < size; j += C) g[j] = 0;
    }
    return loss + 0.5 * o.lambda * (penalty + mDense * densePen);
  };
  lbfgsMinimize(objective, x, {
    maxIterations: o.maxIterations ?? 300,
    gradientTolerance: o.gradientTolerance ?? 1e-6,
  });
  return {
    classes: C,
    vocab: V,
    denseCount: F,
    tokenW: x.slice(0, nTok),
    denseW: x.slice(nTok, nTok + nDense),
    bias: x.slice(nTok + nDense),
    lambda: o.lambda,
  };
}

/**
 * The data term of the 4-class objective: sum of -log softmax, its gradient (already divided by n)
 * added into g. Token weights at id * 4, dense weights at nTok + f * 4, intercepts after them.
 */
function tokenLoss4(
  w: Float64Array,
  g: Float64Array,
  seqs: TokenSequences,
  labels: Int32Array,
  nTok: number,
  dense: Float64Array | undefined,
  F: number,
): number {
  const { offsets, tokens } = seqs;
  const n = labels.length;
  const bias = nTok + F * 4;
  let loss = 0;
  for (let i = 0; i < n; i++) {
    let z0 = w[bias];
    let z1 = w[bias + 1];
    let z2 = w[bias + 2];
    let z3 = w[bias + 3];
    const start = offsets[i];
    const end = offsets[i + 1];
    for (let k = start; k < end; k++) {
      const b = tokens[k] * 4;
      z0 += w[b];
      z1 += w[b + 1];
      z2 += w[b + 2];
      z3 += w[b + 3];
    }
    for (let f = 0; f < F; f++) {
      const v = (dense as Float64Array)[i * F + f];
      if (v === 0) continue;
      const b = nTok + f * 4;
      z0 += v * w[b];
      z1 += v * w[b + 1];
      z2 += v * w[b + 2];
      z3 += v * w[b + 3];
    }
    let max = z0;
    if (z1 > max) max = z1;
    if (z2 > max) max = z2;
    if (z3 > max) max = z3;
    const e0 = Math.exp(z0 - max);
    const e1 = Math.exp(z1 - max);
    const e2 = Math.exp(z2 - max);
    const e3 = Math.exp(z3 - max);
    const sum = e0 + e1 + e2 + e3;
    const y = labels[i];
    loss -= Math.log((y === 0 ? e0 : y === 1 ? e1 : y === 2 ? e2 : e3) / sum);
    const r0 = (e0 / sum - (y === 0 ? 1 : 0)) / n;
    const r1 = (e1 / sum - (y === 1 ? 1 : 0)) / n;
    const r2 = (e2 / sum - (y === 2 ? 1 : 0)) / n;
    const r3 = (e3 / sum - (y === 3 ? 1 : 0)) / n;
    g[bias] += r0;
    g[bias + 1] += r1;
    g[bias + 2] += r2;
    g[bias + 3] += r3;
    for (let k = start; k < end; k++) {
      const b = tokens[k] * 4;
      g[b] += r0;
      g[b + 1] += r1;
      g[b + 2] += r2;
      g[b + 3] += r3;
    }
    for (let f = 0; f < F; f++) {
      const v = (dense as Float64Array)[i * F + f];
      if (v === 0) continue;
      const b = nTok + f * 4;
      g[b] += v * r0;
      g[b + 1] += v * r1;
      g[b + 2] += v * r2;
      g[b + 3] += v * r3;
    }
  }
  return loss;
}

/**
 * The binary case with one logit per token (class 0's column fixed at zero): the same objective as
 * the general one restricted to that column, at half its cost; the result in the general layout.
 */
function fitBinary(data: BowData, o: BowFitOptions): BowModel {
  const V = o.vocab;
  const n = data.labels.length;
  const F = data.dense ? data.dense.length / Math.max(1, n) : 0;
  const dense = data.dense;
  const nTok = V + 1;
  const size = nTok + F + 1;
  const x = new Float64Array(size);
  const center = new Float64Array(F);
  if (o.denseCenter) for (let f = 0; f < F; f++) center[f] = o.denseCenter[f * 2 + 1];
  if (o.init && o.init.vocab === V && o.init.denseCount === F) {
    for (let t = 0; t < nTok; t++) x[t] = o.init.tokenW[t * 2 + 1];
    for (let f = 0; f < F; f++) x[nTok + f] = o.init.denseW[f * 2 + 1];
    x[nTok + F] = o.init.bias[1];
  } else x.set(center, nTok);
  const mDense = o.densePenalty ?? 1;
  const { offsets, tokens } = data.seqs;
  const labels = data.labels;
  const objective = (w: Float64Array, g: Float64Array): number => {
    g.fill(0);
    let loss = 0;
    const b = w[nTok + F];
    let gb = 0;
    for (let i = 0; i < n; i++) {
      let z = b;
      for (let k = offsets[i]; k < offsets[i + 1]; k++) z += w[tokens[k]];
      if (F > 0) for (let f = 0; f < F; f++) z += (dense as Float64Array)[i * F + f] * w[nTok + f];
      // loss = log(1 + e^z) - y z, computed stably; r = sigmoid(z) - y.
      const y = labels[i];
      loss += (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z))) - y * z;
      const r = (1 / (1 + Math.exp(-z)) - y) / n;
      gb += r;
      for (let k = offsets[i]; k < offsets[i + 1]; k++) g[tokens[k]] += r;
      if (F > 0) for (let f = 0; f < F; f++) g[nTok + f] += (dense as Float64Array)[i * F + f] * r;
    }
    g[nTok + F] = gb;
    let pen = 0;
    g[0] = 0;
    for (let t = 1; t < nTok; t++) {
      pen += w[t] * w[t];
      g[t] += o.lambda * w[t];
    }
    let densePen = 0;
    for (let f = 0; f < F; f++) {
      const d = w[nTok + f] - center[f];
      densePen += d * d;
      g[nTok + f] += o.lambda * mDense * d;
    }
    return loss / Math.max(1, n) + 0.5 * o.lambda * (pen + mDense * densePen);
  };
  lbfgsMinimize(objective, x, {
    maxIterations: o.maxIterations ?? 300,
    gradientTolerance: o.gradientTolerance ?? 1e-6,
  });
  const tokenW = new Float64Array(nTok * 2);
  for (let t = 0; t < nTok; t++) tokenW[t * 2 + 1] = x[t];
  const denseW = new Float64Array(F * 2);
  for (let f = 0; f < F; f++) denseW[f * 2 + 1] = x[nTok + f];
  return {
    classes: 2,
    vocab: V,
    denseCount: F,
    tokenW,
    denseW,
    bias: Float64Array.from([0, x[nTok + F]]),
    lambda: o.lambda,
  };
}

/** z[c] <- exp(z[c] - max z) in place (the stable softmax's numerators); returns their sum. */
function expShifted(z: Float64Array, C: number): number {
  let max = z[0];
  for (let c = 1; c < C; c++) if (z[c] > max) max = z[c];
  let sum = 0;
  for (let c = 0; c < C; c++) {
    z[c] = Math.exp(z[c] - max);
    sum += z[c];
  }
  return sum;
}

/** Class probabilities, N x C row-major. Token ids above the model's vocabulary count as absent. */
export function predictBow(m: BowModel, seqs: TokenSequences, dense?: Float64Array): Float64Array {
  const C = m.classes;
  const F = m.denseCount;
  const out = new Float64Array(seqs.count * C);
  const z = new Float64Array(C);
  for (let i = 0; i < seqs.count; i++) {
    for (let c = 0; c < C; c++) z[c] = m.bias[c];
    for (let k = seqs.offsets[i]; k < seqs.offsets[i + 1]; k++) {
      const t = seqs.tokens[k];
      if (t > m.vocab) continue;
      for (let c = 0; c < C; c++) z[c] += m.tokenW[t * C + c];
    }
    for (let f = 0; f < F; f++) {
      const v = (dense as Float64Array)[i * F + f];
      for (let c = 0; c < C; c++) z[c] += v * m.denseW[f * C + c];
    }
    const sum = expShifted(z, C);
    for (let c = 0; c < C; c++) out[i * C + c] = z[c] / sum;
  }
  return out;
}

/** Penalty strengths tried, strongest first (the warm-start order). */
export const BOW_LAMBDAS = [1, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001, 0.0003] as const;

export interface BowCvOptions extends Omit<BowFitOptions, "lambda" | "init"> {
  folds?: number;
  /**
   * What picks lambda on the held-out folds: log loss (default; a proper score, so the chosen model
   * is calibrated too, where AUROC alone picks heavy shrinkage and calibration slopes of 2-3) or AUROC.
   */
  select?: "loss" | "auroc";
  seed: number;
  lambdas?: readonly number[];
  /**
   * Take the strongest penalty whose held-out log loss is within one standard error of the best's
   * (a one-standard-error rule in the manner of Breiman's and glmnet's lambda.1se, on the paired
   * per-row differences) instead of the best: where the strong end is a model worth keeping
   * (stacking: the source model) small pools stay close to it.
   */
  oneStandardError?: boolean;
}

/**
 * Folds of the CV, the folds `auto` (transfer/auto.ts) scores its candidates on too: three, two
 * from 5,000 encounters on (each half then holds 2,500 or more, and the CV's cost, which auto pays
 * for every candidate, is what a large pool makes expensive).
 */
export const BOW_CV_FOLDS = 3;
export const LARGE_POOL = 5000;

/** The stratified folds of a pool: at most k (2 for a large pool), no more than its smallest class has members. */
export function poolCvFolds(labels: Int32Array, seed: number, k?: number): number[][] {
  const folds = k ?? (labels.length >= LARGE_POOL ? 2 : BOW_CV_FOLDS);
  return stratifiedFolds(labels, cvFolds(labels, folds), seed);
}

export interface BowCvResult extends BowModel {
  /** Pooled out-of-fold macro AUROC at the chosen lambda. */
  cvAuroc: number;
  /** Out-of-fold probabilities at the chosen lambda (n x C). */
  oof: Float64Array;
  /**
   * Cross-fitted out-of-fold probabilities: each fold's rows predicted by the model trained without
   * them, at the lambda that scored best on the *other* folds, so no fold's own rows had a say in
   * the strength its predictions come from. `auto` scores this arm with them instead of refitting
   * the whole CV inside each of its folds (the same folds: `folds`).
   */
  crossFit: { folds: number[][]; probs: Float64Array };
}

/**
 * Choose lambda by stratified k-fold cross-validation (pooled out-of-fold log loss, or macro AUROC;
 * ties go to the stronger penalty), then refit on all the data at that lambda.
 */
export function fitBowCv(data: BowData, o: BowCvOptions): BowCvResult {
  const lambdas = o.lambdas ?? BOW_LAMBDAS;
  const folds = poolCvFolds(data.labels, o.seed, o.folds);
  const C = o.classes;
  const F = data.dense ? data.dense.length / Math.max(1, data.labels.length) : 0;
  const parts = folds
    .filter((held) => held.length > 0)
    .map((held) => ({
      held,
      train: part(data, complement(held, data.labels.length), F),
      test: part(data, held, F),
    }));
  const warm: (BowModel | undefined)[] = parts.map(() => undefined);
  const score = (probs: Float64Array, rows?: number[]) =>
    o.select === "auroc" ? rowsAuroc(data.labels, probs, C, rows) : -meanLogLoss(data.labels, probs, C, rows);
  let best = Number.NEGATIVE_INFINITY;
  let bestI = 0;
  const path: Float64Array[] = [];
  let worse = 0;
  /** The first fold's model at each strength: a close warm start for the final refit. */
  const firstFold: BowModel[] = [];
  // Along the path from strong to weak penalty; out-of-fold AUROC rises then falls, so the walk
  // stops after two strengths in a row that do not beat the best (the weak end is the costly one).
  for (let li = 0; li < lambdas.length && worse < 2; li++) {
    const oof = new Float64Array(data.labels.length * C);
    parts.forEach((p, f) => {
      // Loose fits inside CV: the held-out ranking settles long before the last digits of the optimum.
      const m = fitBow(p.train, {
        ...o,
        lambda: lambdas[li],
        gradientTolerance: 1e-4,
        maxIterations: 100,
        ...(warm[f] ? { init: warm[f] } : {}),
      });
      warm[f] = m;
      if (f === 0) firstFold[li] = m;
      const probs = predictBow(m, p.test.seqs, p.test.dense);
      p.held.forEach((row, k) => {
        for (let c = 0; c < C; c++) oof[row * C + c] = probs[k * C + c];
      });
    });
    path.push(oof);
    const a = score(oof);
    if (a > best + 1e-12) {
      best = a;
      bestI = li;
      worse = 0;
    } else worse++;
  }
  /** The path index chosen on some rows: the best score, or the one-SE rule's strongest penalty. */
  const choose = (rows?: number[]): number => {
    let top = 0;
    path.forEach((oof, li) => {
      if (score(oof, rows) > score(path[top], rows) + 1e-12) top = li;
    });
    if (!o.oneStandardError || o.select === "auroc") return top;
    // The strongest penalty not clearly worse than the best: its paired excess log loss within one
    // standard error (of the per-row differences, which share the rows' noise and so are precise).
    for (let li = 0; li < top; li++) {
      const { mean, se } = pairedExcessLoss(data.labels, path[li], path[top], C, rows);
      if (mean <= se) return li;
    }
    return top;
  };
  if (o.oneStandardError) bestI = choose();
  // Refit on all the data at the chosen strength, from the first fold's solution there.
  const warmStart = firstFold[bestI];
  const model = fitBow(data, { ...o, lambda: lambdas[bestI], ...(warmStart ? { init: warmStart } : {}) });
  const crossFit = new Float64Array(data.labels.length * C);
  for (const p of parts) {
    const pick = choose(complement(p.held, data.labels.length));
    for (const row of p.held) for (let c = 0; c < C; c++) crossFit[row * C + c] = path[pick][row * C + c];
  }
  return {
    ...model,
    cvAuroc: macroAuroc(data.labels, path[bestI], C),
    oof: path[bestI],
    crossFit: { folds, probs: crossFit },
  };
}

/** Mean and standard error of the per-row log loss of `a` minus that of `b`, over some rows. */
function pairedExcessLoss(
  labels: Int32Array,
  a: Float64Array,
  b: Float64Array,
  C: number,
  rows?: number[],
): { mean: number; se: number } {
  const count = rows ? rows.length : labels.length;
  if (count < 2) return { mean: 0, se: 0 };
  let sum = 0;
  let sq = 0;
  for (let k = 0; k < count; k++) {
    const i = rows ? rows[k] : k;
    const at = i * C + labels[i];
    const d = Math.log(Math.max(b[at], 1e-15)) - Math.log(Math.max(a[at], 1e-15));
    sum += d;
    sq += d * d;
  }
  const mean = sum / count;
  return { mean, se: Math.sqrt(Math.max(0, sq / count - mean * mean) / (count - 1)) };
}

/** Macro AUROC over some rows (all when `rows` is absent). */
function rowsAuroc(labels: Int32Array, probs: Float64Array, C: number, rows?: number[]): number {
  if (!rows) return macroAuroc(labels, probs, C);
  const l = new Int32Array(rows.length);
  const p = new Float64Array(rows.length * C);
  rows.forEach((r, k) => {
    l[k] = labels[r];
    for (let c = 0; c < C; c++) p[k * C + c] = probs[r * C + c];
  });
  return macroAuroc(l, p, C);
}

function meanLogLoss(labels: Int32Array, probs: Float64Array, C: number, rows?: number[]): number {
  let s = 0;
  const count = rows ? rows.length : labels.length;
  for (let k = 0; k < count; k++) {
    const i = rows ? rows[k] : k;
    s -= Math.log(Math.max(probs[i * C + labels[i]], 1e-15));
  }
  return s / Math.max(1, count);
}

/** At most `k` folds, and no more than the smallest class has members (at least 2). */
export function cvFolds(labels: Int32Array, k: number): number {
  const counts = new Map<number, number>();
  for (const y of labels) counts.set(y, (counts.get(y) ?? 0) + 1);
  const smallest = Math.min(...counts.values());
  return Math.max(2, Math.min(k, smallest));
}

/** Stratified fold assignment: each class's members dealt round-robin after a seeded shuffle. */
export function stratifiedFolds(labels: Int32Array, k: number, seed: number): number[][] {
  const byClass = new Map<number, number[]>();
  labels.forEach((y, i) => {
    const list = byClass.get(y) ?? [];
    list.push(i);
    byClass.set(y, list);
  });
  const folds: number[][] = Array.from({ length: k }, () => []);
  let s = (seed >>> 0) ^ 0x9e3779b9;
  const rand = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
  let offset = 0;
  for (const y of [...byClass.keys()].sort((a, b) => a - b)) {
    const members = byClass.get(y) as number[];
    for (let i = members.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [members[i], members[j]] = [members[j], members[i]];
    }
    members.forEach((row, i) => {
      folds[(i + offset) % k].push(row);
    });
    offset += members.length;
  }
  for (const f of folds) f.sort((a, b) => a - b);
  return folds;
}

function complement(held: number[], n: number): number[] {
  const out: number[] = [];
  let h = 0;
  for (let i = 0; i < n; i++) {
    if (h < held.length && held[h] === i) h++;
    else out.push(i);
  }
  return out;
}

function part(data: BowData, rows: number[], F: number): BowData {
  const out: BowData = subsetLabeled(data, rows);
  if (data.dense && F > 0) {
    const dense = new Float64Array(rows.length * F);
    rows.forEach((r, k) => {
      dense.set((data.dense as Float64Array).subarray(r * F, (r + 1) * F), k * F);
    });
    out.dense = dense;
  }
  return out;
}

/** The labeled sequences as BoW data. */
export function bowData(s: LabeledSequences, dense?: Float64Array): BowData {
  return { seqs: s.seqs, labels: s.labels, ...(dense ? { dense } : {}) };
}
