import type { TokenSequences } from "../concepts/vocabulary.js";
import type { EmbeddingMatrix } from "../embed/types.js";

/** Token sequences with their class labels (0..C-1). */
export interface LabeledSequences {
  seqs: TokenSequences;
  labels: Int32Array;
}

/**
 * One site as a scenario sees it: its own vocabulary embedded with the arm's provider (row 0 =
 * padding) and its encounters already split. Only this site's process ever holds these rows.
 */
export interface PreparedSite {
  name: string;
  /** (vocabulary size + 1) x D, row 0 the zero padding vector. */
  embedding: EmbeddingMatrix;
  /** Token key and text per token id - 1 (what a model file records; no patient data). */
  vocabulary: { key: string; text: string }[];
  train: LabeledSequences;
  validation: LabeledSequences;
}

/** Concatenate CSR token sequences; token ids of `b` are shifted by `shiftB` (for merged vocabularies). */
export function concatSequences(a: TokenSequences, b: TokenSequences, shiftB = 0): TokenSequences {
  const offsets = new Uint32Array(a.count + b.count + 1);
  offsets.set(a.offsets.subarray(0, a.count + 1));
  const baseB = a.offsets[a.count];
  for (let i = 1; i <= b.count; i++) offsets[a.count + i] = baseB + b.offsets[i];
  const tokens = new Uint32Array(a.tokens.length + b.tokens.length);
  tokens.set(a.tokens);
  for (let i = 0; i < b.tokens.length; i++) tokens[a.tokens.length + i] = b.tokens[i] + shiftB;
  return { count: a.count + b.count, offsets, tokens };
}

export function concatLabeled(a: LabeledSequences, b: LabeledSequences, shiftB = 0): LabeledSequences {
  const labels = new Int32Array(a.labels.length + b.labels.length);
  labels.set(a.labels);
  labels.set(b.labels, a.labels.length);
  return { seqs: concatSequences(a.seqs, b.seqs, shiftB), labels };
}

/** Sequences with every token id t replaced by remap[t] (remap[0] = 0: padding stays padding). */
export function remapSequences(seqs: TokenSequences, remap: Uint32Array): TokenSequences {
  return { count: seqs.count, offsets: seqs.offsets, tokens: seqs.tokens.map((t) => remap[t]) };
}

/**
 * One token table for pooled training over two sites: the source's rows, then the target's tokens
 * the source lacks. A target token whose key AND vector equal a source token's shares its row: the
 * model sees a token only through its vector, so a duplicate row would be the same token twice (same
 * table values, same updates) at twice the per-step cost. `remap` maps target token ids to rows.
 */
export function poolTables(
  source: Pick<PreparedSite, "embedding" | "vocabulary">,
  target: Pick<PreparedSite, "embedding" | "vocabulary">,
): { embedding: EmbeddingMatrix; vocabulary: { key: string; text: string }[]; remap: Uint32Array } {
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
