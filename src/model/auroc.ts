/**
 * Minimal AUROC for model selection (src/eval/metrics.ts has the full metrics). Ties get average
 * ranks (Mann-Whitney U), which equals sklearn's roc_auc_score.
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
