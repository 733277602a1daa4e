import type { TokenSequences } from "../concepts/vocabulary.js";
import type { EmbeddingMatrix } from "../embed/types.js";
import { InputError } from "../util/errors.js";
import {
  cnnProbs,
  computeTables,
  identity,
  rankingPays,
  rankTables,
  softmaxRows,
} from "./engines/cnn-core.js";
import { cnnShape, paramsFromWeights } from "./params.js";
import type { ModelSnapshot } from "./types.js";

/**
 * Class probabilities (N x C row-major) of a model for token sequences whose ids index `embedding`
 * (rows = vocabulary + 1, row 0 = padding). `embedding` is the one the sequences were encoded
 * against: for the site the model was trained on with a tuned embedding, pass tunedEmbedding(snapshot).
 */
export function predictProba(
  snapshot: ModelSnapshot,
  embedding: EmbeddingMatrix,
  seqs: TokenSequences,
): Float64Array {
  const arch = snapshot.architecture;
  if (embedding.dim !== arch.embeddingDim)
    throw new InputError(`embedding has dimension ${embedding.dim}, the model expects ${arch.embeddingDim}`, {
      field: "embedding",
    });
  checkTokenIds(seqs, embedding.rows, "seqs");
  const p = paramsFromWeights(arch, snapshot.weights);
  const rows = embedding.rows;
  const used = usedTokens(seqs, rows);
  if (arch.kind === "concept-cnn") {
    const shape = cnnShape(arch);
    const tables = shape.kernels.map((k, i) => new Float64Array(k * rows * shape.filters[i]));
    computeTables(shape, p.convW, embedding.data, rows, tables, used, used.length);
    const sorted = rankingPays(rows, seqs) ? rankTables(shape, tables, rows) : null;
    return cnnProbs(shape, tables, rows, p.convB, p.denseW, p.denseB, seqs, null, sorted);
  }
  // mean-logistic: logits = mean_t E[t] W + b, through the token table T = E W.
  const C = arch.numClasses;
  const D = arch.embeddingDim;
  const T = new Float64Array(rows * C);
  for (const v of used)
    for (let d = 0; d < D; d++) {
      const x = embedding.data[v * D + d];
      for (let c = 0; c < C; c++) T[v * C + c] += x * p.denseW[d * C + c];
    }
  const N = seqs.count;
  const out = new Float64Array(N * C);
  const ids = identity(N);
  for (let b = 0; b < N; b++) {
    const n = ids[b];
    const s0 = seqs.offsets[n];
    const len = seqs.offsets[n + 1] - s0;
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let t = 0; t < len; t++) s += T[seqs.tokens[s0 + t] * C + c];
      out[b * C + c] = (len > 0 ? s / len : 0) + p.denseB[c];
    }
  }
  softmaxRows(out, N, C);
  return out;
}

/** The tuned embedding a model carries when its embedding was trained, else undefined. */
export function tunedEmbedding(snapshot: ModelSnapshot): EmbeddingMatrix | undefined {
  const t = snapshot.weights.embedding;
  if (!t) return undefined;
  return { rows: t.shape[0], dim: t.shape[1], data: t.data };
}

/** Every token id must index a row of the embedding other than padding. */
export function checkTokenIds(seqs: TokenSequences, rows: number, field: string): void {
  if (seqs.offsets.length !== seqs.count + 1 || seqs.offsets[seqs.count] > seqs.tokens.length)
    throw new InputError("offsets do not match count/tokens", { field });
  for (let i = 0; i < seqs.count; i++)
    if (seqs.offsets[i + 1] < seqs.offsets[i]) throw new InputError(`offsets decrease at ${i}`, { field });
  const end = seqs.offsets[seqs.count];
  for (let t = 0; t < end; t++) {
    const v = seqs.tokens[t];
    if (v === 0 || v >= rows)
      throw new InputError(`token id ${v} at position ${t} is outside 1..${rows - 1} of the embedding`, {
        field,
      });
  }
}

function usedTokens(seqs: TokenSequences, rows: number): Int32Array {
  const seen = new Uint8Array(rows);
  const end = seqs.offsets[seqs.count];
  let n = 0;
  for (let t = 0; t < end; t++) {
    const v = seqs.tokens[t];
    if (seen[v] === 0) {
      seen[v] = 1;
      n++;
    }
  }
  const out = new Int32Array(n);
  let k = 0;
  for (let v = 0; v < rows; v++) if (seen[v]) out[k++] = v;
  return out;
}
