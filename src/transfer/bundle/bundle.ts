import type { KeyObject } from "node:crypto";
import { readFile } from "node:fs/promises";
import { FittedPostprocess, postprocessFitOfId } from "../../embed/postprocess.js";
import { validateArchitecture } from "../../model/architecture.js";
import { checkWeights } from "../../model/params.js";
import { TrainSettings, type TrainSettingsInput } from "../../model/train-settings.js";
import type { ModelSnapshot, Tensor } from "../../model/types.js";
import { writeFileAtomic } from "../../util/atomic-write.js";
import { InputError } from "../../util/errors.js";
import { parseInput } from "../../util/parse-input.js";
import { codeVersionString } from "../../util/version.js";
import { decodeContainer, encodeContent, FORMAT_VERSION, sealContainer, sha256 } from "./container.js";
import { reportedCount } from "./privacy.js";
import {
  BundleHeader,
  BundleMetrics,
  type BundlePerformance,
  EMBEDDING_POSTPROCESS_PART,
  MODEL_CARD_PART,
  type PartEntry,
  VOCABULARY_PART,
  VocabularyPart,
  WEIGHT_PREFIX,
} from "./schema.js";
import { keyFingerprint, signatureValid, signDigest } from "./signing.js";

/**
 * A model bundle: one file a source site hands to target sites. It holds the model (architecture,
 * weights, classes, the source vocabulary's token keys and texts), the embedding it expects (provider
 * id and dimension), the training settings, a performance summary with small counts suppressed, the
 * code version, and a SHA-256 manifest, optionally Ed25519-signed. See container.ts for the bytes.
 */

/** Performance as the exporter knows it: exact counts, which are suppressed/rounded on the way in. */
export interface PerformanceInput {
  description?: string;
  task?: string;
  metrics: BundleMetrics;
  counts?: { train?: number; validation?: number; test?: number };
}

export interface BundleExport {
  snapshot: ModelSnapshot;
  /** The settings the model was trained with (validated: hyperparameters only, nothing else gets in). */
  training?: TrainSettingsInput | null;
  performance?: PerformanceInput | null;
  signingKey?: KeyObject;
  /** ISO time stamp; defaults to now. */
  createdAt?: string;
  /** Only for tests of version handling: the container format version to write. */
  formatVersion?: number;
  /**
   * The embedding's fitted postprocess transform: required when the snapshot's provider id names one
   * (its `postprocessFit`), refused otherwise.
   */
  embeddingTransform?: FittedPostprocess | null;
  /** The model card (Markdown), stored as part `model-card.md`. */
  modelCard?: string;
}

export interface OpenedBundle {
  header: BundleHeader;
  snapshot: ModelSnapshot;
  /** SHA-256 of the content (hex): the bundle's identity. */
  digest: string;
  /** The signer's key fingerprint when signed (the signature has been checked against it). */
  signer: { fingerprint: string; publicKey: Uint8Array } | null;
  /** Whether the signer is the trusted key passed in. */
  trusted: boolean;
  /** The embedding's fitted postprocess transform, when the model's embedding has one. */
  embeddingTransform: FittedPostprocess | null;
  /** The model card the bundle carries (Markdown), if any. */
  modelCard: string | null;
}

export interface OpenOptions {
  /** Trusted public key (SPKI DER): the bundle must be signed by exactly this key. */
  trustedKey?: Uint8Array;
}

export function encodeBundle(x: BundleExport): Buffer {
  const snap = x.snapshot;
  validateArchitecture(snap.architecture);
  checkWeights(snap.architecture, snap.weights);
  const parts: Uint8Array[] = [];
  const entries: PartEntry[] = [];
  const add = (name: string, kind: PartEntry["kind"], bytes: Uint8Array, shape?: number[]): void => {
    parts.push(bytes);
    entries.push({
      name,
      kind,
      ...(shape ? { shape } : {}),
      length: bytes.length,
      sha256: sha256(bytes).toString("hex"),
    });
  };
  const vocabulary = VocabularyPart.parse(snap.vocabulary.map((v) => ({ key: v.key, text: v.text })));
  add(VOCABULARY_PART, "json", Buffer.from(JSON.stringify(vocabulary), "utf8"));
  // The model's own transform (a model file carries it) when the caller gives none.
  const transform =
    x.embeddingTransform ??
    (snap.embedding.postprocess
      ? FittedPostprocess.fromJSON(snap.embedding.postprocess, { field: "embedding.postprocess" })
      : null);
  checkTransform(snap.embedding.providerId, transform, {});
  if (transform)
    add(EMBEDDING_POSTPROCESS_PART, "json", Buffer.from(JSON.stringify(transform.toJSON()), "utf8"));
  if (x.modelCard !== undefined)
    add(MODEL_CARD_PART, "json", Buffer.from(JSON.stringify(x.modelCard), "utf8"));
  for (const name of Object.keys(snap.weights).sort()) {
    const t = snap.weights[name];
    add(`${WEIGHT_PREFIX}${name}`, "tensor", float32le(t.data), t.shape);
  }
  const header: BundleHeader = BundleHeader.parse({
    format: "conceptbridge.bundle",
    createdAt: x.createdAt ?? new Date().toISOString(),
    codeVersion: codeVersionString(),
    model: {
      snapshotVersion: snap.version,
      architecture: snap.architecture,
      classes: snap.classes,
      embedding: {
        providerId: snap.embedding.providerId,
        dimension: snap.embedding.dimension,
        trainable: snap.embedding.trainable,
      },
      vocabularySize: snap.vocabulary.length,
    },
    training: x.training ? trainingRecord(x.training) : null,
    performance: x.performance ? sanitizePerformance(x.performance) : null,
    parts: entries,
  });
  const content = encodeContent(Buffer.from(JSON.stringify(header), "utf8"), parts, x.formatVersion);
  const key = x.signingKey;
  return sealContainer(content, key ? (digest) => signDigest(key, digest) : undefined);
}

/** Parse and fully verify a bundle; every failure is an InputError naming the file. */
export function decodeBundle(bytes: Uint8Array, file: string, opts: OpenOptions = {}): OpenedBundle {
  let header: BundleHeader | undefined;
  const decoded = decodeContainer(bytes, file, (raw) => {
    const parsed = BundleHeader.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new InputError(`bundle header invalid (corrupt, tampered or incompatible): ${issue.message}`, {
        file,
        field: issue.path.join("."),
      });
    }
    header = parsed.data;
    return parsed.data.parts;
  });
  if (!header) throw new Error("decodeBundle: header not parsed");
  const h = header;
  let signer: OpenedBundle["signer"] = null;
  if (decoded.signature) {
    if (!signatureValid(decoded.signature, decoded.digest)) {
      throw new InputError("bundle signature is invalid (tampered bundle or signature)", { file });
    }
    signer = {
      fingerprint: keyFingerprint(decoded.signature.publicKey),
      publicKey: decoded.signature.publicKey,
    };
  }
  let trusted = false;
  if (opts.trustedKey) {
    if (!signer) throw new InputError("bundle is not signed, but a trusted public key was given", { file });
    if (!Buffer.from(signer.publicKey).equals(Buffer.from(opts.trustedKey))) {
      throw new InputError(
        `bundle is signed by key ${signer.fingerprint}, not by the trusted key ${keyFingerprint(opts.trustedKey)}`,
        { file },
      );
    }
    trusted = true;
  }
  const { snapshot, embeddingTransform, modelCard } = snapshotFromParts(h, decoded.parts, file);
  checkTransform(h.model.embedding.providerId, embeddingTransform, {
    file,
    field: EMBEDDING_POSTPROCESS_PART,
  });
  return {
    header: h,
    // The model carries its transform as a model file does (`bundle import` writes it there).
    snapshot: embeddingTransform
      ? { ...snapshot, embedding: { ...snapshot.embedding, postprocess: embeddingTransform.toJSON() } }
      : snapshot,
    digest: Buffer.from(decoded.digest).toString("hex"),
    signer,
    trusted,
    embeddingTransform,
    modelCard,
  };
}

/** A bundle carries a transform exactly when its embedding names one, and then exactly that one. */
function checkTransform(
  providerId: string,
  t: FittedPostprocess | null,
  where: { file?: string; field?: string },
): void {
  const want = postprocessFitOfId(providerId);
  if (want !== undefined && !t) {
    throw new InputError(
      `the model's embedding has a fitted postprocess transform (${want}) that the bundle must carry, and none was given`,
      { ...where, field: "model.embedding.providerId" },
    );
  }
  if (t && t.fit !== want) {
    throw new InputError(
      `the bundle's postprocess transform (${t.fit ?? "not fitted"}) is not the one the embedding names (${want ?? "none"})`,
      where,
    );
  }
}

function snapshotFromParts(
  h: BundleHeader,
  parts: Uint8Array[],
  file: string,
): { snapshot: ModelSnapshot; embeddingTransform: FittedPostprocess | null; modelCard: string | null } {
  let vocabulary: { key: string; text: string }[] | undefined;
  let embeddingTransform: FittedPostprocess | null = null;
  let modelCard: string | null = null;
  const weights: Record<string, Tensor> = {};
  h.parts.forEach((e, i) => {
    const bytes = parts[i];
    if (e.name === MODEL_CARD_PART && e.kind === "json") {
      const card = parseJson(bytes);
      if (typeof card !== "string")
        throw new InputError("bundle model card part is malformed", { file, field: e.name });
      modelCard = card;
    } else if (e.name === EMBEDDING_POSTPROCESS_PART && e.kind === "json") {
      embeddingTransform = FittedPostprocess.fromJSON(parseJson(bytes), { file, field: e.name });
    } else if (e.name === VOCABULARY_PART && e.kind === "json") {
      const parsed = VocabularyPart.safeParse(parseJson(bytes));
      if (!parsed.success)
        throw new InputError("bundle vocabulary part is malformed", { file, field: e.name });
      vocabulary = parsed.data;
    } else if (e.name.startsWith(WEIGHT_PREFIX) && e.kind === "tensor" && e.shape) {
      const n = e.shape.reduce((a, b) => a * b, 1);
      if (bytes.length !== n * 4) {
        throw new InputError(`tensor of shape [${e.shape}] needs ${n * 4} bytes, has ${bytes.length}`, {
          file,
          field: e.name,
        });
      }
      weights[e.name.slice(WEIGHT_PREFIX.length)] = { shape: e.shape, data: readFloat32le(bytes) };
    } else {
      throw new InputError(`unknown bundle part "${e.name}" (${e.kind}); written by a newer ConceptBridge?`, {
        file,
      });
    }
  });
  if (!vocabulary) throw new InputError(`bundle has no ${VOCABULARY_PART} part`, { file });
  if (vocabulary.length !== h.model.vocabularySize) {
    throw new InputError(
      `vocabulary has ${vocabulary.length} tokens, header says ${h.model.vocabularySize}`,
      { file },
    );
  }
  const m = h.model;
  if (m.architecture.numClasses !== m.classes.length) {
    throw new InputError(
      `architecture has ${m.architecture.numClasses} classes, the bundle names ${m.classes.length}`,
      {
        file,
      },
    );
  }
  if (m.architecture.embeddingDim !== m.embedding.dimension) {
    throw new InputError(
      `architecture expects embedding dimension ${m.architecture.embeddingDim}, embedding says ${m.embedding.dimension}`,
      { file },
    );
  }
  validateArchitecture(m.architecture, file);
  checkWeights(m.architecture, weights, file);
  const snapshot: ModelSnapshot = {
    format: "conceptbridge.model",
    version: m.snapshotVersion,
    architecture: m.architecture,
    weights,
    embedding: { ...m.embedding },
    classes: [...m.classes],
    vocabulary,
  };
  return { snapshot, embeddingTransform, modelCard };
}

/**
 * Refuse a bundle whose embedding the target cannot reproduce: the target re-embeds its own tokens
 * with the same provider, so provider id and dimension must both match.
 */
export function checkEmbeddingCompatible(
  header: BundleHeader,
  target: { providerId?: string; dimension?: number },
  file: string,
): void {
  checkEmbeddingMatches(
    header.model.embedding,
    target,
    { file, field: "model.embedding" },
    "the bundle's model",
  );
}

/** The same check for any model's embedding reference; `where.field` prefixes the fields named. */
export function checkEmbeddingMatches(
  e: { providerId: string; dimension: number },
  target: { providerId?: string; dimension?: number },
  where: { file: string; field: string },
  what = "the model",
): void {
  if (target.providerId !== undefined && target.providerId !== e.providerId) {
    throw new InputError(
      `embedding mismatch: ${what} was trained with provider ${e.providerId}, the target's is ${target.providerId}`,
      { file: where.file, field: `${where.field}.providerId` },
    );
  }
  if (target.dimension !== undefined && target.dimension !== e.dimension) {
    throw new InputError(
      `embedding dimension mismatch: ${what} needs ${e.dimension}, the target's provider gives ${target.dimension}`,
      { file: where.file, field: `${where.field}.dimension` },
    );
  }
}

export async function readBundleFile(path: string, opts: OpenOptions = {}): Promise<OpenedBundle> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new InputError(`cannot read bundle: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, {
      file: path,
    });
  }
  return decodeBundle(bytes, path, opts);
}

/** Encode, re-verify the bytes, then write atomically: a bundle on disk is always a readable one. */
export async function writeBundleFile(path: string, x: BundleExport): Promise<OpenedBundle> {
  const bytes = encodeBundle(x);
  const opened = decodeBundle(bytes, path);
  await writeFileAtomic(path, bytes);
  return opened;
}

function trainingRecord(t: TrainSettingsInput): Record<string, unknown> {
  return { ...parseInput(TrainSettings, t, { field: "training", what: "training settings" }) };
}

function sanitizePerformance(p: PerformanceInput): BundlePerformance {
  const counts: NonNullable<BundlePerformance["counts"]> = {};
  for (const k of ["train", "validation", "test"] as const) {
    const n = p.counts?.[k];
    if (n !== undefined) counts[k] = reportedCount(n);
  }
  return {
    ...(p.description !== undefined ? { description: p.description } : {}),
    ...(p.task !== undefined ? { task: p.task } : {}),
    metrics: BundleMetrics.parse(p.metrics),
    ...(p.counts ? { counts } : {}),
  };
}

function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    return undefined;
  }
}

function float32le(data: Float32Array): Buffer {
  const out = Buffer.alloc(data.length * 4);
  for (let i = 0; i < data.length; i++) out.writeFloatLE(data[i], i * 4);
  return out;
}

function readFloat32le(bytes: Uint8Array): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

export { FORMAT_VERSION };
