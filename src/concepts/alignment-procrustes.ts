import { Matrix, SVD } from "ml-matrix";
import { normalizeRows, type VectorTable } from "./alignment.js";

/**
 * Mapping one site's embedding space onto another's with an orthogonal map fitted on anchor pairs
 * (orthogonal Procrustes, Schönemann 1966; the standard recipe for aligning separately trained word
 * embeddings, e.g. Artetxe et al. 2018). Needed for embeddings fitted at each site on its own data
 * (co-occurrence): the sites never pool encounters, so their spaces are unrelated until mapped.
 */

/** Unit rows, mean-centred, unit again: makes cosine geometry comparable across the two spaces. */
export function centreAndNormalize(m: VectorTable): VectorTable {
  const unit = normalizeRows(m);
  const mean = new Float64Array(m.dim);
  for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.dim; j++) mean[j] += unit[i * m.dim + j];
  for (let j = 0; j < m.dim; j++) mean[j] /= Math.max(1, m.rows);
  for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.dim; j++) unit[i * m.dim + j] -= mean[j];
  return { rows: m.rows, dim: m.dim, data: normalizeRows({ rows: m.rows, dim: m.dim, data: unit }) };
}

/**
 * The (semi-)orthogonal W (target dim x source dim) minimising ||T_a W - S_a||_F over anchor rows:
 * W = U V^T from the SVD of T_a^T S_a.
 */
export function fitOrthogonalMap(
  source: VectorTable,
  target: VectorTable,
  anchors: readonly { source: number; target: number }[],
): Matrix {
  if (anchors.length === 0) throw new Error("fitOrthogonalMap: no anchor pairs");
  const cross = Matrix.zeros(target.dim, source.dim);
  for (const a of anchors) {
    const toff = a.target * target.dim;
    const soff = a.source * source.dim;
    for (let i = 0; i < target.dim; i++) {
      const ti = target.data[toff + i];
      if (ti === 0) continue;
      for (let j = 0; j < source.dim; j++) cross.set(i, j, cross.get(i, j) + ti * source.data[soff + j]);
    }
  }
  const svd = new SVD(cross, { autoTranspose: true });
  const r = Math.min(target.dim, source.dim);
  const u = svd.leftSingularVectors.subMatrix(0, target.dim - 1, 0, r - 1);
  const v = svd.rightSingularVectors.subMatrix(0, source.dim - 1, 0, r - 1);
  return u.mmul(v.transpose());
}

export function applyMap(m: VectorTable, w: Matrix): VectorTable {
  if (w.rows !== m.dim) throw new Error(`applyMap: map has ${w.rows} rows, vectors have dim ${m.dim}`);
  const out = new Float32Array(m.rows * w.columns);
  const wd = w.to2DArray();
  for (let i = 0; i < m.rows; i++) {
    for (let k = 0; k < m.dim; k++) {
      const x = m.data[i * m.dim + k];
      if (x === 0) continue;
      const row = wd[k];
      for (let j = 0; j < w.columns; j++) out[i * w.columns + j] += x * row[j];
    }
  }
  return { rows: m.rows, dim: w.columns, data: out };
}

/**
 * Both sides centred and normalised, the target mapped into the source space through the anchors.
 * Returns the vectors to hand to alignVocabularies.
 */
export function procrustesAlign(
  source: VectorTable,
  target: VectorTable,
  anchors: readonly { source: number; target: number }[],
): { source: VectorTable; target: VectorTable } {
  const s = centreAndNormalize(source);
  const t = centreAndNormalize(target);
  return { source: s, target: applyMap(t, fitOrthogonalMap(s, t, anchors)) };
}
