import type { TokenSequences } from "../../concepts/vocabulary.js";

/**
 * The distinct token ids of batch rows idx[start..start+nb) into `distinct`; returns how many. `seen`
 * (one byte per token id, all zero) is a scratch set and is left all zero again.
 */
export function collectBatchTokens(
  seqs: TokenSequences,
  idx: Uint32Array,
  start: number,
  nb: number,
  seen: Uint8Array,
  distinct: Int32Array,
): number {
  let nd = 0;
  for (let b = 0; b < nb; b++) {
    const n = idx[start + b];
    for (let t = seqs.offsets[n]; t < seqs.offsets[n + 1]; t++) {
      const v = seqs.tokens[t];
      if (seen[v] === 0) {
        seen[v] = 1;
        distinct[nd++] = v;
      }
    }
  }
  for (let r = 0; r < nd; r++) seen[distinct[r]] = 0;
  return nd;
}
