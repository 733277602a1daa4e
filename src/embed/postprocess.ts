import { createHash } from "node:crypto";
import { z } from "zod";
import { InputError, type InputLocation } from "../util/errors.js";
import { stableStringify } from "../util/stable-json.js";
import { principalDirections } from "./linalg.js";
import type { EmbeddingMatrix } from "./types.js";

/**
 * Conditioning of an embedding space, fitted where the model is trained and applied unchanged where
 * it is used: the transform travels with the model, like its weights. BERT-family vectors are so
 * anisotropic (mean pairwise cosine 0.83-0.99 on the seed paper's 180 tokens) that "X" and "Not X"
 * are nearly one vector until the common direction is removed (BioBERT: cosine 0.871 raw, 0.082
 * centered). Steps, composable in any order, each fitted on the previous step's output:
 *
 * - `center`: x - mu, mu the mean of the source vocabulary's vectors.
 * - `whiten[:r]`: PCA whitening with a rank cut, z_i = u_i . (x - mu) / sqrt(lambda_i) for the top r
 *   eigenpairs of the covariance (1/n) sum (x - mu)(x - mu)^T; output dimension r. Without r, every
 *   component with lambda_i > 1e-6 lambda_1 (the rest is rounding noise that whitening would blow up).
 * - `remove-top-k[:k]`: all-but-the-top (Mu & Viswanath 2018): center, then remove the projections on
 *   the top k principal directions; k defaults to round(d / 100) (at least 1), the paper's rule.
 * - `l2`: scale to unit length.
 *
 * Token rows that are all zero (no vector: out-of-vocabulary words, unplaceable co-occurrence tokens)
 * are left out of the fit and stay zero. Parameters are fitted in float64 and stored as float32; every
 * step computes in float64 from float32 inputs and parameters and rounds its output to float32, so the
 * same transform gives bit-identical vectors in-process and after a trip through a bundle.
 */
export type PostprocessStep =
  | { kind: "center" }
  | { kind: "whiten"; rank?: number }
  | { kind: "remove-top-k"; k?: number }
  | { kind: "l2" };

const positive = z
  .number()
  .int()
  .min(1)
  .max(1 << 16);
/** The object form of a step is its parsed form, so a parsed spec is a valid spec again. */
const StepObject = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("center") }).strict(),
  z
    .object({
      kind: z.literal("whiten"),
      rank: positive
        .describe("Whitening rank = output dimension; default every non-negligible component.")
        .optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal("remove-top-k"),
      k: positive.describe("Principal directions removed; default round(d / 100), at least 1.").optional(),
    })
    .strict(),
  z.object({ kind: z.literal("l2") }).strict(),
]);

/** "center", "whiten:64", "remove-top-k:3", "l2" -> a step, or a message saying what is wrong. */
export function parseStep(text: string): PostprocessStep | string {
  const m = /^\s*([a-z0-9-]+)\s*(?::\s*(\S+)\s*)?$/i.exec(text);
  if (!m) return `"${text}" is not a postprocess step`;
  const name = m[1].toLowerCase();
  const arg = m[2];
  const int = arg === undefined ? undefined : Number(arg);
  if (arg !== undefined && (!Number.isInteger(int) || (int as number) < 1)) {
    return `"${text}": the number after ":" must be a positive integer`;
  }
  switch (name) {
    case "center":
    case "l2":
      if (arg !== undefined) return `"${text}": ${name} takes no number`;
      return { kind: name };
    case "whiten":
      return int === undefined ? { kind: "whiten" } : { kind: "whiten", rank: int };
    case "remove-top-k":
    case "abtt":
      return int === undefined ? { kind: "remove-top-k" } : { kind: "remove-top-k", k: int };
    default:
      return `unknown postprocess step "${m[1]}" (center, whiten[:rank], remove-top-k[:k], l2)`;
  }
}

const StepInput = z.union([z.string(), StepObject]);

function fromObject(o: z.infer<typeof StepObject>): PostprocessStep {
  switch (o.kind) {
    case "center":
    case "l2":
      return { kind: o.kind };
    case "whiten":
      return o.rank === undefined ? { kind: "whiten" } : { kind: "whiten", rank: o.rank };
    case "remove-top-k":
      return o.k === undefined ? { kind: "remove-top-k" } : { kind: "remove-top-k", k: o.k };
  }
}

/**
 * The `postprocess` setting of every provider: a list of steps (strings like "whiten:64" or objects
 * like { kind: whiten, rank: 64 }), or one comma-separated string ("center,remove-top-k:3,l2");
 * "none" or [] means no postprocessing (and a provider id without any postprocess field).
 */
export const PostprocessSettings = z
  .union([z.string(), z.array(StepInput).max(16)])
  .transform((v, ctx): PostprocessStep[] => {
    const t = typeof v === "string" ? v.trim() : "";
    const items = typeof v !== "string" ? v : t === "" || t.toLowerCase() === "none" ? [] : t.split(",");
    const steps: PostprocessStep[] = [];
    for (const [i, item] of items.entries()) {
      if (typeof item !== "string") {
        steps.push(fromObject(item));
        continue;
      }
      const r = parseStep(item);
      if (typeof r === "string") {
        ctx.addIssue({ code: "custom", message: r, ...(typeof v === "string" ? {} : { path: [i] }) });
        return z.NEVER;
      }
      steps.push(r);
    }
    return steps;
  })
  .describe(
    "Conditioning of the vectors, fitted on the source vocabulary: steps center, whiten[:rank], remove-top-k[:k], l2, as a list or one comma-separated string; default none.",
  );
export type PostprocessSettingsInput = z.input<typeof PostprocessSettings>;

/** Canonical text of steps as requested ("center,whiten:64,l2"): part of the provider id. */
export function describeSteps(steps: readonly PostprocessStep[]): string {
  return steps
    .map((s) => {
      switch (s.kind) {
        case "whiten":
          return s.rank === undefined ? "whiten" : `whiten:${s.rank}`;
        case "remove-top-k":
          return s.k === undefined ? "remove-top-k" : `remove-top-k:${s.k}`;
        default:
          return s.kind;
      }
    })
    .join(",");
}

/** Whether any step has parameters fitted on a source vocabulary (all but l2). */
export function needsFit(steps: readonly PostprocessStep[]): boolean {
  return steps.some((s) => s.kind !== "l2");
}

export type FittedStep =
  | { kind: "center"; mean: Float32Array }
  /** projection: rank x d, row i = u_i / sqrt(lambda_i). */
  | { kind: "whiten"; rank: number; mean: Float32Array; projection: Float32Array }
  /** directions: k x d unit vectors. */
  | { kind: "remove-top-k"; k: number; mean: Float32Array; directions: Float32Array }
  | { kind: "l2" };

export const POSTPROCESS_FORMAT = "conceptbridge.postprocess";

/** A fitted transform as JSON (float32 little-endian in base64): bundles and model files carry this. */
export interface PostprocessJson {
  format: typeof POSTPROCESS_FORMAT;
  version: 1;
  requested: string;
  inputDimension: number | null;
  steps: (
    | { kind: "center"; mean: string }
    | { kind: "whiten"; rank: number; mean: string; projection: string }
    | { kind: "remove-top-k"; k: number; mean: string; directions: string }
    | { kind: "l2" }
  )[];
}

const b64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/);
const PostprocessJsonSchema = z
  .object({
    format: z.literal(POSTPROCESS_FORMAT),
    version: z.literal(1),
    requested: z.string(),
    inputDimension: z.number().int().positive().nullable(),
    steps: z.array(
      z.discriminatedUnion("kind", [
        z.object({ kind: z.literal("center"), mean: b64 }).strict(),
        z.object({ kind: z.literal("whiten"), rank: positive, mean: b64, projection: b64 }).strict(),
        z.object({ kind: z.literal("remove-top-k"), k: positive, mean: b64, directions: b64 }).strict(),
        z.object({ kind: z.literal("l2") }).strict(),
      ]),
    ),
  })
  .strict();

function toBase64(a: Float32Array): string {
  const b = Buffer.alloc(a.length * 4);
  for (let i = 0; i < a.length; i++) b.writeFloatLE(a[i], i * 4);
  return b.toString("base64");
}

function fromBase64(s: string, expected: number, what: string, where: InputLocation): Float32Array {
  const b = Buffer.from(s, "base64");
  if (b.length !== expected * 4) {
    throw new InputError(`${what} holds ${b.length / 4} floats, expected ${expected}`, where);
  }
  const out = new Float32Array(expected);
  for (let i = 0; i < expected; i++) {
    out[i] = b.readFloatLE(i * 4);
    if (!Number.isFinite(out[i])) throw new InputError(`${what} has a non-finite value at ${i}`, where);
  }
  return out;
}

export class FittedPostprocess {
  constructor(
    /** The steps as requested (describeSteps): compared with a spec's postprocess setting. */
    readonly requested: string,
    readonly steps: readonly FittedStep[],
    /** Dimension the transform expects; null when no step is fitted (l2 only). */
    readonly inputDimension: number | null,
  ) {}

  /** Output dimension (whitening cuts it to its rank); null when unknown until applied (l2 only). */
  get outputDimension(): number | null {
    let d = this.inputDimension;
    for (const s of this.steps) if (s.kind === "whiten") d = s.rank;
    return d;
  }

  toJSON(): PostprocessJson {
    return {
      format: POSTPROCESS_FORMAT,
      version: 1,
      requested: this.requested,
      inputDimension: this.inputDimension,
      steps: this.steps.map((s): PostprocessJson["steps"][number] => {
        if (s.kind === "center") return { kind: "center", mean: toBase64(s.mean) };
        if (s.kind === "whiten") {
          return { kind: "whiten", rank: s.rank, mean: toBase64(s.mean), projection: toBase64(s.projection) };
        }
        if (s.kind === "remove-top-k") {
          return { kind: "remove-top-k", k: s.k, mean: toBase64(s.mean), directions: toBase64(s.directions) };
        }
        return { kind: "l2" };
      }),
    };
  }

  /** "sha256:<hex>" of the canonical JSON when any step has parameters (the provider id's postprocessFit). */
  get fit(): string | undefined {
    if (!this.steps.some((s) => s.kind !== "l2")) return undefined;
    return `sha256:${createHash("sha256").update(stableStringify(this.toJSON())).digest("hex")}`;
  }

  /** Read and validate a transform's JSON (a bundle part, a model file field); `where` names it in errors. */
  static fromJSON(raw: unknown, where: InputLocation = {}): FittedPostprocess {
    const r = PostprocessJsonSchema.safeParse(raw);
    if (!r.success) {
      const issue = r.error.issues[0];
      const field = [where.field, ...issue.path.map(String)].filter(Boolean).join(".");
      throw new InputError(`not a postprocess transform: ${issue.message}`, { ...where, field });
    }
    const j = r.data;
    let d = j.inputDimension;
    const steps: FittedStep[] = j.steps.map((s, i) => {
      const at = { ...where, field: [where.field, `steps.${i}`].filter(Boolean).join(".") };
      if (s.kind === "l2") return { kind: "l2" };
      if (d === null) throw new InputError("a fitted step needs inputDimension", at);
      const mean = fromBase64(s.mean, d, "mean", at);
      if (s.kind === "center") return { kind: "center", mean };
      if (s.kind === "whiten") {
        const projection = fromBase64(s.projection, s.rank * d, "projection", at);
        d = s.rank;
        return { kind: "whiten", rank: s.rank, mean, projection };
      }
      return {
        kind: "remove-top-k",
        k: s.k,
        mean,
        directions: fromBase64(s.directions, s.k * d, "directions", at),
      };
    });
    return new FittedPostprocess(j.requested, steps, j.inputDimension);
  }

  /** Apply to every row (a new matrix; the input is not changed). All-zero rows stay zero. */
  apply(m: EmbeddingMatrix, where: InputLocation = {}): EmbeddingMatrix {
    if (this.inputDimension !== null && m.dim !== this.inputDimension) {
      throw new InputError(
        `postprocess transform expects dimension ${this.inputDimension}, the provider gave ${m.dim}`,
        where,
      );
    }
    let cur: EmbeddingMatrix = m;
    for (const s of this.steps) cur = applyStep(s, cur);
    return cur === m ? { rows: m.rows, dim: m.dim, data: m.data.slice(0, m.rows * m.dim) } : cur;
  }
}

function isZeroRow(a: Float32Array, o: number, d: number): boolean {
  for (let k = 0; k < d; k++) if (a[o + k] !== 0) return false;
  return true;
}

function applyStep(s: FittedStep, m: EmbeddingMatrix): EmbeddingMatrix {
  const { rows, dim } = m;
  const outDim = s.kind === "whiten" ? s.rank : dim;
  const out = new Float32Array(rows * outDim);
  const t = new Float64Array(dim);
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    if (isZeroRow(m.data, o, dim)) continue;
    const w = r * outDim;
    switch (s.kind) {
      case "center":
        for (let k = 0; k < dim; k++) out[w + k] = m.data[o + k] - s.mean[k];
        break;
      case "whiten":
        for (let k = 0; k < dim; k++) t[k] = m.data[o + k] - s.mean[k];
        for (let i = 0; i < s.rank; i++) {
          let acc = 0;
          const p = i * dim;
          for (let k = 0; k < dim; k++) acc += s.projection[p + k] * t[k];
          out[w + i] = acc;
        }
        break;
      case "remove-top-k":
        for (let k = 0; k < dim; k++) t[k] = m.data[o + k] - s.mean[k];
        for (let i = 0; i < s.k; i++) {
          const p = i * dim;
          let c = 0;
          for (let k = 0; k < dim; k++) c += s.directions[p + k] * t[k];
          for (let k = 0; k < dim; k++) t[k] -= c * s.directions[p + k];
        }
        for (let k = 0; k < dim; k++) out[w + k] = t[k];
        break;
      case "l2": {
        let ss = 0;
        for (let k = 0; k < dim; k++) ss += m.data[o + k] * m.data[o + k];
        const inv = 1 / Math.sqrt(ss);
        for (let k = 0; k < dim; k++) out[w + k] = m.data[o + k] * inv;
        break;
      }
    }
  }
  return { rows, dim: outDim, data: out };
}

/** Mean (float64) of the given rows. */
function meanOf(m: EmbeddingMatrix, rows: readonly number[]): Float64Array {
  const mu = new Float64Array(m.dim);
  for (const r of rows) for (let k = 0; k < m.dim; k++) mu[k] += m.data[r * m.dim + k];
  for (let k = 0; k < m.dim; k++) mu[k] /= rows.length;
  return mu;
}

/** Rows minus the (float32-rounded) mean, as float64 for the eigenproblem. */
function centered(m: EmbeddingMatrix, rows: readonly number[], mean: Float32Array): Float64Array {
  const x = new Float64Array(rows.length * m.dim);
  rows.forEach((r, i) => {
    for (let k = 0; k < m.dim; k++) x[i * m.dim + k] = m.data[r * m.dim + k] - mean[k];
  });
  return x;
}

/**
 * Fit the steps on the source vocabulary's vectors `m` (zero rows left out). `where` names the setting
 * in errors (e.g. the spec's `embeddings.bert.postprocess`).
 */
export function fitPostprocess(
  steps: readonly PostprocessStep[],
  m: EmbeddingMatrix,
  where: InputLocation = {},
): FittedPostprocess {
  const requested = describeSteps(steps);
  if (!needsFit(steps))
    return new FittedPostprocess(
      requested,
      steps.map(() => ({ kind: "l2" })),
      null,
    );
  const fitted: FittedStep[] = [];
  let cur = m;
  for (const s of steps) {
    const rows: number[] = [];
    for (let r = 0; r < cur.rows; r++) if (!isZeroRow(cur.data, r * cur.dim, cur.dim)) rows.push(r);
    if (s.kind !== "l2" && rows.length < 2) {
      throw new InputError(
        `postprocess ${requested} needs at least 2 source vectors to fit on, got ${rows.length}`,
        where,
      );
    }
    const d = cur.dim;
    let f: FittedStep;
    switch (s.kind) {
      case "l2":
        f = { kind: "l2" };
        break;
      case "center":
        f = { kind: "center", mean: Float32Array.from(meanOf(cur, rows)) };
        break;
      case "whiten": {
        const mean = Float32Array.from(meanOf(cur, rows));
        const pc = principalDirections(centered(cur, rows, mean), rows.length, d, s.rank ?? d);
        const lambda = pc.values.map((v) => v / rows.length);
        const usable = lambda.filter((v) => v > 1e-6 * lambda[0]).length;
        const rank = s.rank ?? usable;
        if (rank > usable || rank < 1) {
          throw new InputError(
            `whiten:${rank} asks for more components than the ${usable} the ${rows.length} source vectors of dimension ${d} have`,
            where,
          );
        }
        const projection = new Float32Array(rank * d);
        for (let i = 0; i < rank; i++) {
          const inv = 1 / Math.sqrt(lambda[i]);
          for (let k = 0; k < d; k++) projection[i * d + k] = pc.directions[i * d + k] * inv;
        }
        f = { kind: "whiten", rank, mean, projection };
        break;
      }
      case "remove-top-k": {
        const k = s.k ?? Math.max(1, Math.round(d / 100));
        if (k >= Math.min(d, rows.length)) {
          throw new InputError(
            `remove-top-k:${k} must be below the dimension (${d}) and the number of source vectors (${rows.length})`,
            where,
          );
        }
        const mean = Float32Array.from(meanOf(cur, rows));
        const pc = principalDirections(centered(cur, rows, mean), rows.length, d, k);
        f = { kind: "remove-top-k", k, mean, directions: Float32Array.from(pc.directions) };
        break;
      }
    }
    fitted.push(f);
    cur = applyStep(f, cur);
  }
  return new FittedPostprocess(requested, fitted, m.dim);
}

/** The postprocessFit a provider id names (ids are sorted-key JSON; anything else names none). */
export function postprocessFitOfId(providerId: string): string | undefined {
  try {
    const info = JSON.parse(providerId) as { postprocessFit?: unknown };
    return typeof info?.postprocessFit === "string" ? info.postprocessFit : undefined;
  } catch {
    return undefined;
  }
}
