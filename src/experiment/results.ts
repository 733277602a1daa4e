import { z } from "zod";
import { MetricSummary } from "../model/metric-summary.js";

/**
 * The results store: one JSON line per finished grid cell. The report, statistics and resume logic
 * read this. Predictions are kept (labels and scores only, in test-set order, no encounter ids) so
 * paired tests and bootstrap CIs can be computed later; they never reach a report.
 */
export const CellKey = z.object({
  /** Stable id: hash of the cell's settings; a rerun skips cells whose id is already stored. */
  id: z.string(),
  /** transfer/scenarios.ts names; stored as a plain string so a store of another version still reads. */
  scenario: z.string(),
  /** "cnn" (the paper's concept CNN) or "logistic" (the baseline on the mean token embedding). */
  model: z.enum(["cnn", "logistic"]).default("cnn"),
  /** Embedding name as the spec calls it, e.g. "onehot", "bert", "hashing". */
  embedding: z.string(),
  /** Source site (absent for target-only scenarios such as `local`). */
  source: z.string().optional(),
  target: z.string(),
  /** Target training encounters used ("all" = every one). */
  targetSize: z.union([z.number().int().positive(), z.literal("all")]),
  seed: z.number().int(),
  /** Task name, e.g. "influenza-vs-rest" or "4-class". */
  task: z.string(),
  /** Optional recalibration applied after transfer. */
  recalibration: z.enum(["none", "intercept", "logistic"]).default("none"),
});
export type CellKey = z.infer<typeof CellKey>;

export { MetricSummary } from "../model/metric-summary.js";

export const CellResult = z.object({
  key: CellKey,
  status: z.enum(["ok", "error"]),
  error: z.string().optional(),
  metrics: MetricSummary.optional(),
  /** Metrics before recalibration, when recalibration was applied. */
  metricsBeforeRecalibration: MetricSummary.optional(),
  /** Test-set labels (class index) and probabilities: binary -> P(positive); multi-class -> row-major N x C. */
  predictions: z
    .object({
      classes: z.array(z.string()),
      labels: z.array(z.number().int()),
      scores: z.array(z.number()),
    })
    .optional(),
  /** Number of training/validation/test encounters (aggregate counts only). */
  counts: z.object({ train: z.number(), validation: z.number(), test: z.number() }).optional(),
  trainSeconds: z.number().optional(),
  bestValidationAuroc: z.number().optional(),
  /** The training engine that ran (model/engines; absent when nothing was trained, e.g. source-only). */
  engine: z.string().optional(),
  /** The training recipe (`paper` or `converged`, experiment/spec.ts). */
  recipe: z.string().optional(),
  /**
   * What an adaptive arm chose: `auto`'s winning candidate and each candidate's cross-validated
   * AUROC; the penalty or L2-SP strength of local-bow, stacked and finetune-l2sp.
   */
  selection: z
    .object({
      winner: z.string().optional(),
      scores: z.record(z.string(), z.number()).optional(),
      chosen: z.record(z.string(), z.number()).optional(),
    })
    .optional(),
  /** How training ended: the kept epoch against the last epoch run, validation loss at both. */
  convergence: z
    .object({
      bestEpoch: z.number().int(),
      epochsRun: z.number().int(),
      bestValidationLoss: z.number().optional(),
      lastValidationLoss: z.number().optional(),
    })
    .optional(),
  finishedAt: z.string(),
  codeVersion: z.string(),
});
export type CellResult = z.infer<typeof CellResult>;
