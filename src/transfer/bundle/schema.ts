import { z } from "zod";
import { MetricSummary } from "../../model/metric-summary.js";
import { ArchitectureSchema } from "../../model/model-file.js";
import type { ModelArchitecture } from "../../model/types.js";

/**
 * The JSON header of a model bundle. Everything in it is about the model, never about patients:
 * counts are small-cell suppressed (below 11) and rounded up to a multiple of 10 before they get here,
 * and the schema refuses any count that is not.
 */

/** Smallest count a bundle may state (the usual small-cell rule: cells of 1-10 are suppressed). */
export const MIN_REPORTED_COUNT = 11;

export { ArchitectureSchema };

// Compile-time guard: the schema and model/types.ts must describe the same shape.
type SameShape<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const architectureMatches: SameShape<z.infer<typeof ArchitectureSchema>, ModelArchitecture> = true;
void architectureMatches;

/** A count as a bundle states it: >= 11 (rounded up to a multiple of 10) or suppressed. */
export const ReportedCount = z.union([z.number().int().min(MIN_REPORTED_COUNT), z.literal("<11")]);
export type ReportedCount = z.infer<typeof ReportedCount>;

/** A cell's metric summary (model/metric-summary.ts); a bundle keeps only the known fields. */
export const BundleMetrics = MetricSummary
  // Unknown keys are dropped, not refused: a results line may carry more (predictions!) than a bundle may.
  .strip();
export type BundleMetrics = z.infer<typeof BundleMetrics>;

export const BundlePerformance = z
  .object({
    /** Where the numbers come from, e.g. "source test split (20%)" or an experiment cell id. */
    description: z.string().optional(),
    task: z.string().optional(),
    metrics: BundleMetrics,
    counts: z
      .object({ train: ReportedCount, validation: ReportedCount, test: ReportedCount })
      .partial()
      .strict()
      .optional(),
  })
  .strict();
export type BundlePerformance = z.infer<typeof BundlePerformance>;

export const PartEntry = z
  .object({
    name: z.string().min(1),
    /** "tensor": float32 little-endian values of `shape`; "json": UTF-8 JSON. */
    kind: z.enum(["tensor", "json"]),
    shape: z.array(z.number().int().nonnegative()).optional(),
    length: z.number().int().nonnegative(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
  })
  .strict();
export type PartEntry = z.infer<typeof PartEntry>;

export const BundleHeader = z
  .object({
    format: z.literal("conceptbridge.bundle"),
    createdAt: z.string(),
    /** ConceptBridge version (and commit) that wrote the bundle. */
    codeVersion: z.string(),
    model: z
      .object({
        snapshotVersion: z.literal(1),
        architecture: ArchitectureSchema,
        classes: z.array(z.string()).min(2),
        embedding: z
          .object({
            providerId: z.string().min(1),
            dimension: z.number().int().positive(),
            trainable: z.boolean(),
          })
          .strict(),
        vocabularySize: z.number().int().nonnegative(),
      })
      .strict(),
    /** The training settings the model was trained with (free-form JSON as the trainer records it). */
    training: z.record(z.string(), z.unknown()).nullable(),
    performance: BundlePerformance.nullable(),
    /** The manifest: parts in file order, each with its byte length and SHA-256. */
    parts: z.array(PartEntry),
  })
  .strict();
export type BundleHeader = z.infer<typeof BundleHeader>;

/** Part names. Tensors are "weights/<name>" as in ModelSnapshot.weights. */
export const VOCABULARY_PART = "vocabulary.json";
export const WEIGHT_PREFIX = "weights/";
/**
 * The embedding's fitted postprocess transform (src/embed/postprocess.ts, its JSON form), present
 * exactly when the provider id names one (`postprocessFit`): the target applies it unchanged.
 */
export const EMBEDDING_POSTPROCESS_PART = "embedding-postprocess.json";
/** The model card (report/model-card.ts), Markdown stored as one JSON string. */
export const MODEL_CARD_PART = "model-card.md";

export const VocabularyPart = z.array(z.object({ key: z.string(), text: z.string() }).strict());
