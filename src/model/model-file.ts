import { readFile } from "node:fs/promises";
import { z } from "zod";
import { FittedPostprocess, postprocessFitOfId } from "../embed/postprocess.js";
import { writeFileAtomic } from "../util/atomic-write.js";
import { InputError } from "../util/errors.js";
import { parseInput } from "../util/parse-input.js";
import { validateArchitecture } from "./architecture.js";
import { checkWeights } from "./params.js";
import type { EmbeddingRef, ModelSnapshot, Tensor } from "./types.js";

/**
 * Model files: one JSON document (versioned, validated on load) whose tensors are little-endian
 * float32 in base64. Holds weights, architecture, class names, the token vocabulary (keys and
 * texts) and the embedding provider id: never patient rows.
 */
export const MODEL_FORMAT = "conceptbridge.model";
export const MODEL_VERSION = 1;

/** The architecture as stored in model files and bundles (one schema for both). */
export const ArchitectureSchema = z.discriminatedUnion("kind", [
  z
    .object({
      kind: z.literal("concept-cnn"),
      embeddingDim: z.number().int().positive(),
      kernelSizes: z.array(z.number().int().positive()).min(1),
      filters: z.array(z.number().int().positive()).min(1),
      numClasses: z.number().int().min(2),
      dropout: z.number().min(0).lt(1),
    })
    .strict(),
  z
    .object({
      kind: z.literal("mean-logistic"),
      embeddingDim: z.number().int().positive(),
      numClasses: z.number().int().min(2),
    })
    .strict(),
]);

const TensorFileSchema = z
  .object({
    shape: z.array(z.number().int().nonnegative()),
    dtype: z.literal("float32"),
    base64: z.string(),
  })
  .strict();

const ModelFileSchema = z
  .object({
    format: z.literal(MODEL_FORMAT),
    version: z.literal(MODEL_VERSION),
    architecture: ArchitectureSchema,
    weights: z.record(z.string(), TensorFileSchema),
    embedding: z
      .object({
        providerId: z.string(),
        dimension: z.number().int().positive(),
        trainable: z.boolean(),
        /** The fitted postprocess transform (validated by FittedPostprocess.fromJSON below). */
        postprocess: z.unknown().optional(),
      })
      .strict(),
    classes: z.array(z.string()).min(2),
    vocabulary: z.array(z.object({ key: z.string(), text: z.string() }).strict()),
  })
  .strict();

function encodeTensor(t: Tensor): z.infer<typeof TensorFileSchema> {
  const bytes = Buffer.alloc(t.data.length * 4);
  for (let i = 0; i < t.data.length; i++) bytes.writeFloatLE(t.data[i], i * 4);
  return { shape: [...t.shape], dtype: "float32", base64: bytes.toString("base64") };
}

function decodeTensor(t: z.infer<typeof TensorFileSchema>, file: string | undefined, name: string): Tensor {
  const bytes = Buffer.from(t.base64, "base64");
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (bytes.length !== n * 4)
    throw new InputError(`holds ${bytes.length / 4} floats, shape [${t.shape}] needs ${n}`, {
      file,
      field: `weights.${name}`,
    });
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = bytes.readFloatLE(i * 4);
  return { shape: t.shape, data };
}

/** The model as the JSON text of a model file. */
export function serializeModel(snapshot: ModelSnapshot): string {
  const weights: Record<string, z.infer<typeof TensorFileSchema>> = {};
  for (const [name, t] of Object.entries(snapshot.weights)) weights[name] = encodeTensor(t);
  return JSON.stringify({
    format: MODEL_FORMAT,
    version: MODEL_VERSION,
    architecture: snapshot.architecture,
    weights,
    embedding: snapshot.embedding,
    classes: snapshot.classes,
    vocabulary: snapshot.vocabulary,
  });
}

/** Parse and validate a model file's text; InputError (naming `file` and the field) when it is not one. */
export function parseModel(text: string, file?: string): ModelSnapshot {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InputError(`not a model file (invalid JSON: ${(e as Error).message})`, { file });
  }
  return modelFromJson(raw, file);
}

/** Validate a model file's parsed JSON (for callers that parsed it already: a site model holds one). */
export function modelFromJson(raw: unknown, file?: string): ModelSnapshot {
  const header = raw as { format?: unknown; version?: unknown } | null;
  if (header === null || typeof header !== "object" || header.format !== MODEL_FORMAT)
    throw new InputError(`not a ConceptBridge model file (format must be "${MODEL_FORMAT}")`, {
      file,
      field: "format",
    });
  if (header.version !== MODEL_VERSION)
    throw new InputError(
      `model file version ${JSON.stringify(header.version)} is not supported (this version reads ${MODEL_VERSION})`,
      { file, field: "version" },
    );
  const m = parseInput(ModelFileSchema, raw, { ...(file !== undefined ? { file } : {}) });
  validateArchitecture(m.architecture, file);
  const a = m.architecture;
  if (m.classes.length !== a.numClasses)
    throw new InputError(`${m.classes.length} class names for ${a.numClasses} outputs`, {
      file,
      field: "classes",
    });
  if (m.embedding.dimension !== a.embeddingDim)
    throw new InputError(
      `dimension ${m.embedding.dimension} differs from the architecture's ${a.embeddingDim}`,
      {
        file,
        field: "embedding.dimension",
      },
    );
  const embedding = modelEmbedding(m.embedding, file);
  const weights: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(m.weights)) weights[name] = decodeTensor(t, file, name);
  checkWeights(a, weights, file);
  const known = new Set([...Object.keys(expectedNames(weights, a)), "embedding"]);
  for (const name of Object.keys(weights))
    if (!known.has(name)) throw new InputError("unknown weight tensor", { file, field: `weights.${name}` });
  const emb = weights.embedding;
  if (emb && (emb.shape.length !== 2 || emb.shape[1] !== a.embeddingDim))
    throw new InputError(`shape [${emb.shape}] is not [rows, ${a.embeddingDim}]`, {
      file,
      field: "weights.embedding",
    });
  return {
    format: MODEL_FORMAT,
    version: MODEL_VERSION,
    architecture: a,
    weights,
    embedding,
    classes: m.classes,
    vocabulary: m.vocabulary,
  };
}

/**
 * The model's embedding reference: a transform is there exactly when the provider id names a fitted
 * one, and then it is that one (its parameters hash to the id's postprocessFit).
 */
function modelEmbedding(
  e: { providerId: string; dimension: number; trainable: boolean; postprocess?: unknown },
  file: string | undefined,
): EmbeddingRef {
  const named = postprocessFitOfId(e.providerId);
  const field = "embedding.postprocess";
  if (e.postprocess === undefined) {
    if (named !== undefined)
      throw new InputError(
        `the embedding names a fitted postprocess transform (${named}) the file does not hold`,
        { file, field },
      );
    return { providerId: e.providerId, dimension: e.dimension, trainable: e.trainable };
  }
  const t = FittedPostprocess.fromJSON(e.postprocess, { ...(file !== undefined ? { file } : {}), field });
  if (t.fit === undefined || t.fit !== named)
    throw new InputError(
      `the postprocess transform (${t.fit ?? "not fitted"}) is not the one the embedding names (${named ?? "none"})`,
      { file, field },
    );
  return {
    providerId: e.providerId,
    dimension: e.dimension,
    trainable: e.trainable,
    postprocess: t.toJSON(),
  };
}

function expectedNames(_w: Record<string, Tensor>, a: ModelSnapshot["architecture"]): Record<string, true> {
  const names: Record<string, true> = { "dense.weight": true, "dense.bias": true };
  if (a.kind === "concept-cnn")
    a.kernelSizes.forEach((_, i) => {
      names[`conv${i}.weight`] = true;
      names[`conv${i}.bias`] = true;
    });
  return names;
}

/** Write a model file atomically (readers never see half a file). */
export async function saveModel(path: string, snapshot: ModelSnapshot): Promise<void> {
  await writeFileAtomic(path, serializeModel(snapshot));
}

export async function loadModel(path: string): Promise<ModelSnapshot> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new InputError(`cannot read model file: ${(e as Error).message}`, { file: path });
  }
  return parseModel(text, path);
}
