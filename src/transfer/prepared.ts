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

/**
 * Stack two sites' embedding matrices into one table for pooled training: [pad; rows of a; rows of b],
 * so b's token id t becomes (rows(a) - 1) + t.
 */
export function stackEmbeddings(a: EmbeddingMatrix, b: EmbeddingMatrix): EmbeddingMatrix {
  if (a.dim !== b.dim) throw new Error(`embedding dimensions differ: ${a.dim} vs ${b.dim}`);
  const rows = a.rows + b.rows - 1;
  const data = new Float32Array(rows * a.dim);
  data.set(a.data);
  data.set(b.data.subarray(b.dim), a.rows * a.dim);
  return { rows, dim: a.dim, data };
}
