import type { TokenSequences, VocabularyToken } from "./vocabulary.js";

/**
 * The one module of operations on encoded encounters: CSR token sequences (1-based vocabulary ids,
 * 0 = padding) with their class labels. Every stage that cuts, joins or re-indexes encounters (splits,
 * learning-curve subsamples, pooled training, vocabulary unions across files or sites) goes through
 * these functions, so an off-by-one in an offset array can only live in one place.
 */

/** Token sequences with their class labels (0 .. C-1). */
export interface LabeledSequences {
  seqs: TokenSequences;
  labels: Int32Array;
}

/** No encounters. */
export function emptySequences(): TokenSequences {
  return { count: 0, offsets: new Uint32Array(1), tokens: new Uint32Array(0) };
}

/** The encounters at the given positions of a sequence set (a copy, in the given order). */
export function subsetSequences(s: TokenSequences, idx: ArrayLike<number>): TokenSequences {
  let total = 0;
  for (let k = 0; k < idx.length; k++) total += s.offsets[idx[k] + 1] - s.offsets[idx[k]];
  const offsets = new Uint32Array(idx.length + 1);
  const tokens = new Uint32Array(total);
  let pos = 0;
  for (let k = 0; k < idx.length; k++) {
    const a = s.offsets[idx[k]];
    const b = s.offsets[idx[k] + 1];
    tokens.set(s.tokens.subarray(a, b), pos);
    pos += b - a;
    offsets[k + 1] = pos;
  }
  return { count: idx.length, offsets, tokens };
}

/** Sequences and labels at the given positions. */
export function subsetLabeled(s: LabeledSequences, idx: ArrayLike<number>): LabeledSequences {
  const labels = new Int32Array(idx.length);
  for (let k = 0; k < idx.length; k++) labels[k] = s.labels[idx[k]];
  return { seqs: subsetSequences(s.seqs, idx), labels };
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

/** Labeled sequences re-indexed by `remap` (labels unchanged). */
export function remapLabeled(s: LabeledSequences, remap: Uint32Array): LabeledSequences {
  return { seqs: remapSequences(s.seqs, remap), labels: s.labels };
}

/**
 * The union of several vocabularies by token key: the keys sorted (code-unit order, so the result
 * does not depend on which list came first), the first token seen for a key kept, and for each input
 * a map from its 1-based ids to the union's (`remaps[i][0] = 0`: padding stays padding).
 */
export function unionByKey<T extends Pick<VocabularyToken, "key">>(
  lists: readonly (readonly T[])[],
): { tokens: T[]; remaps: Uint32Array[] } {
  const byKey = new Map<string, T>();
  for (const list of lists) for (const t of list) if (!byKey.has(t.key)) byKey.set(t.key, t);
  const keys = [...byKey.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const idOf = new Map(keys.map((k, i) => [k, i + 1]));
  const remaps = lists.map((list) => {
    const r = new Uint32Array(list.length + 1);
    list.forEach((t, i) => {
      r[i + 1] = idOf.get(t.key) as number;
    });
    return r;
  });
  return { tokens: keys.map((k) => byKey.get(k) as T), remaps };
}
