/**
 * The project's one AUROC: model selection calls it directly, src/eval/metrics.ts wraps it with input
 * checks (the data flows model -> eval, so it lives here). Ties get average ranks (Mann-Whitney U),
 * which equals sklearn's roc_auc_score. Every partial sum is a multiple of 1/2 below 2^53, so U is
 * exact and the result is U / (pos x neg) correctly rounded, whatever the summation order.
 * NaN when one class is absent; labels other than 1 count as negatives.
 */
export function binaryAuroc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  const n = labels.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => scores[a] - scores[b]);
  let pos = 0;
  let rankSum = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]] === scores[order[i]]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (labels[order[k]] === 1) {
        pos++;
        rankSum += avgRank;
      }
    }
    i = j + 1;
  }
  const neg = n - pos;
  if (pos === 0 || neg === 0) return Number.NaN;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/**
 * AUROC of class 1's probability for C = 2; otherwise the mean one-vs-rest AUROC over classes that
 * have both positives and negatives (NaN when none has). probs is N x C row-major.
 */
export function macroAuroc(labels: ArrayLike<number>, probs: ArrayLike<number>, C: number): number {
  const n = labels.length;
  const scores = new Float64Array(n);
  const bin = new Uint8Array(n);
  const one = (c: number): number => {
    for (let i = 0; i < n; i++) {
      scores[i] = probs[i * C + c];
      bin[i] = labels[i] === c ? 1 : 0;
    }
    return binaryAuroc(bin, scores);
  };
  if (C === 2) return one(1);
  let sum = 0;
  let count = 0;
  for (let c = 0; c < C; c++) {
    const a = one(c);
    if (!Number.isNaN(a)) {
      sum += a;
      count++;
    }
  }
  return count > 0 ? sum / count : Number.NaN;
}

/**
 * Standard error of a (macro) AUROC by Hanley & McNeil (1982): for each one-vs-rest class,
 * sqrt((A(1-A) + (n1-1)(Q1-A^2) + (n0-1)(Q2-A^2)) / (n1 n0)) with Q1 = A/(2-A), Q2 = 2A^2/(1+A);
 * multi-class: the mean over classes (the macro AUROC's classes are not independent, so this is a
 * working figure for the one-standard-error rule, not a test). NaN when a class is empty.
 */
export function aurocStandardError(labels: ArrayLike<number>, auroc: number, C: number): number {
  const se = (n1: number, n0: number, A: number) => {
    if (n1 === 0 || n0 === 0 || Number.isNaN(A)) return Number.NaN;
    const q1 = A / (2 - A);
    const q2 = (2 * A * A) / (1 + A);
    return Math.sqrt((A * (1 - A) + (n1 - 1) * (q1 - A * A) + (n0 - 1) * (q2 - A * A)) / (n1 * n0));
  };
  const counts = new Array<number>(C).fill(0);
  for (let i = 0; i < labels.length; i++) counts[labels[i]]++;
  const n = labels.length;
  if (C === 2) return se(counts[1], counts[0], auroc);
  let sum = 0;
  let k = 0;
  for (let c = 0; c < C; c++) {
    const s = se(counts[c], n - counts[c], auroc);
    if (!Number.isNaN(s)) {
      sum += s;
      k++;
    }
  }
  return k > 0 ? sum / k : Number.NaN;
}
