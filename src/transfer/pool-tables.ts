import type { EmbeddingMatrix } from "../embed/types.js";

/**
 * One token table for pooled training over two sites: the source's rows, then the target's tokens
 * the source lacks. A target token whose key AND vector equal a source token's shares its row: the
 * model sees a token only through its vector, so a duplicate row would be the same token twice (same
 * table values, same updates) at twice the per-step cost. `remap` maps target token ids to rows.
 */
export function poolTables<T extends { key: string }>(
  source: { embedding: EmbeddingMatrix; vocabulary: readonly T[] },
  target: { embedding: EmbeddingMatrix; vocabulary: readonly T[] },
): { embedding: EmbeddingMatrix; vocabulary: T[]; remap: Uint32Array } {
  const a = source.embedding;
  const b = target.embedding;
  if (a.dim !== b.dim) throw new Error(`embedding dimensions differ: ${a.dim} vs ${b.dim}`);
  const D = a.dim;
  const rowOfKey = new Map(source.vocabulary.map((t, i) => [t.key, i + 1]));
  const remap = new Uint32Array(b.rows);
  const appended: number[] = [];
  for (let t = 1; t < b.rows; t++) {
    const r = rowOfKey.get(target.vocabulary[t - 1].key);
    if (r !== undefined && sameRow(a.data, r * D, b.data, t * D, D)) remap[t] = r;
    else {
      appended.push(t);
      remap[t] = a.rows - 1 + appended.length;
    }
  }
  const rows = a.rows + appended.length;
  const data = new Float32Array(rows * D);
  data.set(a.data);
  appended.forEach((t, k) => {
    data.set(b.data.subarray(t * D, (t + 1) * D), (a.rows + k) * D);
  });
  return {
    embedding: { rows, dim: D, data },
    vocabulary: [...source.vocabulary, ...appended.map((t) => target.vocabulary[t - 1])],
    remap,
  };
}

function sameRow(x: Float32Array, xo: number, y: Float32Array, yo: number, D: number): boolean {
  for (let d = 0; d < D; d++) if (x[xo + d] !== y[yo + d]) return false;
  return true;
}
