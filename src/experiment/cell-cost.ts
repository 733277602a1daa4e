import type { TrainSettings } from "../model/train-settings.js";
import type { GridCell, Job } from "./grid.js";
import type { PreparedExperiment } from "./prepare.js";
import type { ExperimentSpec } from "./spec.js";

/**
 * The expected cost of each grid cell, in arbitrary units, for the progress ETA (util/progress.ts):
 * a grid's cells differ 100-fold (a logistic regression on a 128-dimensional hashing embedding vs
 * fine-tuning every vector of a 768-dimensional one), so counting cells makes "90%" mean little. The
 * model: training examples seen (epochs x iterations x batch) plus validation and test scoring,
 * each times the per-encounter cost of the model (embedding dimension x filters for the CNN, the
 * dimension for the logistic model), times 3 when the embedding itself is trained. A source model is
 * trained once per job: its cost is spread over the job's cells that use it. Recalibrated variants
 * share their arm's training and cost little.
 */

export interface CostContext {
  spec: ExperimentSpec;
  /** Training-pool and test-set sizes per site. */
  poolSize(site: string): number;
  testSize(site: string): number;
  /** Embedding dimension of a job's table. */
  dimension(job: Job): number;
}

/** Relative cost of each scenario's target-side work beyond one training run. */
const SCENARIO_FACTOR: Record<string, number> = {
  "source-only": 0,
  // auto runs nested cross-validation over its candidates: several trainings per cell.
  auto: 6,
  "local-bow": 0.5,
  stacked: 0.3,
  "finetune-l2sp": 3, // one fine-tuning per L2-SP strength tried on validation
};

function perEncounter(kind: "cnn" | "logistic", dim: number, spec: ExperimentSpec): number {
  if (kind === "logistic") return dim;
  const filters = spec.model.filters.reduce((a, b) => a + b, 0);
  const kernel = spec.model.kernelSizes.reduce((a, b) => a + b, 0) / spec.model.kernelSizes.length;
  return dim * filters * kernel;
}

/** Training steps see epochs x iterations x batch examples whatever the data size; validation is per epoch. */
function trainingCost(s: TrainSettings, perEnc: number, validation: number): number {
  const trained = !s.freeze.embedding ? 3 : 1;
  return s.epochs * (s.itersPerEpoch * s.batchSize * trained + validation) * perEnc;
}

export function cellCosts(
  jobs: readonly { job: Job; pending: readonly GridCell[] }[],
  ctx: CostContext,
): Map<string, number> {
  const { spec } = ctx;
  const out = new Map<string, number>();
  for (const { job, pending } of jobs) {
    const dim = ctx.dimension(job);
    const perEnc = perEncounter(job.model, dim, spec);
    const training = job.model === "logistic" ? spec.baselineTraining : spec.training;
    const test = ctx.testSize(job.target) * perEnc;
    let sourceShare = 0;
    const usesSource = pending.filter(
      (c) => c.scenario !== "local" && c.scenario !== "local-bow" && c.recalibration === "none",
    );
    if (job.source !== undefined && usesSource.length > 0) {
      const pool = ctx.poolSize(job.source);
      sourceShare = trainingCost(training, perEnc, pool * training.validationFraction) / usesSource.length;
    }
    for (const c of pending) {
      const n = c.targetSize === "all" ? ctx.poolSize(c.target) : c.targetSize;
      const validation = n * training.validationFraction;
      if (c.recalibration !== "none") {
        out.set(c.id, 0.05 * test + 1);
        continue;
      }
      let work: number;
      if (c.scenario.startsWith("finetune-")) {
        const ft = {
          ...spec.finetuning,
          freeze: { ...spec.finetuning.freeze, embedding: c.scenario !== "finetune-all" },
        };
        work = trainingCost(ft, perEnc, validation) * (SCENARIO_FACTOR[c.scenario] ?? 1);
      } else {
        work = trainingCost(training, perEnc, validation) * (SCENARIO_FACTOR[c.scenario] ?? 1);
      }
      const share = c.scenario === "local" || c.scenario === "local-bow" ? 0 : sourceShare;
      out.set(c.id, work + share + test + 1);
    }
  }
  return out;
}

/** cellCosts with the sizes and dimensions of a prepared experiment. */
export async function expectedCellCosts(
  spec: ExperimentSpec,
  prepared: PreparedExperiment,
  jobs: readonly { job: Job; pending: readonly GridCell[] }[],
): Promise<Map<string, number>> {
  const dims = new Map<string, number>();
  for (const { job } of jobs) {
    const t = await prepared.embeddingTable(job.embedding, { sites: [job.source ?? job.target] }, job.target);
    dims.set(job.id, t.matrix.dim);
  }
  return cellCosts(jobs, {
    spec,
    poolSize: (s) => prepared.sites.get(s)?.pool.labels.length ?? 0,
    testSize: (s) => prepared.sites.get(s)?.test.labels.length ?? 0,
    dimension: (job) => dims.get(job.id) ?? 1,
  });
}
