import { z } from "zod";
import { dictRecord } from "../util/dict.js";

/**
 * A model's measured performance on one set of predictions: the one definition of the metrics that
 * eval/summarize.ts computes, the results store keeps (experiment/results.ts) and a bundle carries
 * (transfer/bundle/schema.ts). It sits with the model because every later stage that speaks of a
 * model's performance (transfer, eval, experiment, report) may import it from here.
 */
export const MetricSummary = z.object({
  auroc: z.number(),
  aurocCI: z.tuple([z.number(), z.number()]).optional(),
  auprc: z.number().optional(),
  brier: z.number().optional(),
  logLoss: z.number().optional(),
  accuracy: z.number().optional(),
  ece: z.number().optional(),
  calibrationIntercept: z.number().optional(),
  calibrationSlope: z.number().optional(),
  /** Per-class one-vs-rest AUROC for multi-class tasks. */
  perClassAuroc: dictRecord(z.number()).optional(),
});
export type MetricSummary = z.infer<typeof MetricSummary>;
