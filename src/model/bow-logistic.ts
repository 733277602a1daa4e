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
  if (o.init && o.init.vocab === V && o.init.denseCount === F) {
    x.set(o.init.tokenW, 0);
    x.set(o.init.denseW, nTok);
    x.set(o.init.bias, nTok + nDense);
  }
  const mDense = o.densePenalty ?? 1;
  const { seqs, labels } = data;
  const z = new Float64Array(C);
  const objective = (w: Float64Array, g: Float64Array): number => {
    g.fill(0);
    let loss = 0;
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
      let max = z[0];
      for (let c = 1; c < C; c++) if (z[c] > max) max = z[c];
      let sum = 0;
      for (let c = 0; c < C; c++) {
        z[c] = Math.exp(z[c] - max);
        sum += z[c];
      }
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
      densePen += w[j] * w[j];
      g[j] += o.lambda * mDense * w[j];
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
  if (o.init && o.init.vocab === V && o.init.denseCount === F) {
    for (let t = 0; t < nTok; t++) x[t] = o.init.tokenW[t * 2 + 1];
    for (let f = 0; f < F; f++) x[nTok + f] = o.init.denseW[f * 2 + 1];
    x[nTok + F] = o.init.bias[1];
  }
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
      densePen += w[nTok + f] ** 2;
      g[nTok + f] += o.lambda * mDense * w[nTok + f];
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
    let max = z[0];
    for (let c = 1; c < C; c++) if (z[c] > max) max = z[c];
    let sum = 0;
    for (let c = 0; c < C; c++) {
      z[c] = Math.exp(z[c] - max);
      sum += z[c];
    }
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
}

/**
 * Choose lambda by stratified k-fold cross-validation (pooled out-of-fold log loss, or macro AUROC;
 * ties go to the stronger penalty), then refit on all the data at that lambda.
 */
export function fitBowCv(
  data: BowData,
  o: BowCvOptions,
): BowModel & {
  cvAuroc: number /** Out-of-fold probabilities at the chosen lambda (n x C). */;
  oof: Float64Array;
} {
  const lambdas = o.lambdas ?? BOW_LAMBDAS;
  // Five folds on small pools, three from 1,000 encounters on (each fold is large enough then).
  const k = o.folds ?? (data.labels.length >= 1000 ? 3 : 5);
  const folds = stratifiedFolds(data.labels, cvFolds(data.labels, k), o.seed);
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
  let best = Number.NEGATIVE_INFINITY;
  let bestI = 0;
  let bestOof = new Float64Array(data.labels.length * C);
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
    const a = o.select === "auroc" ? macroAuroc(data.labels, oof, C) : -meanLogLoss(data.labels, oof, C);
    if (a > best + 1e-12) {
      best = a;
      bestI = li;
      bestOof = oof;
      worse = 0;
    } else worse++;
  }
  // Refit on all the data at the chosen strength, from the first fold's solution there.
  const warmStart = firstFold[bestI];
  const model = fitBow(data, { ...o, lambda: lambdas[bestI], ...(warmStart ? { init: warmStart } : {}) });
  return { ...model, cvAuroc: macroAuroc(data.labels, bestOof, C), oof: bestOof };
}

function meanLogLoss(labels: Int32Array, probs: Float64Array, C: number): number {
  let s = 0;
  for (let i = 0; i < labels.length; i++) s -= Math.log(Math.max(probs[i * C + labels[i]], 1e-15));
  return s / Math.max(1, labels.length);
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
