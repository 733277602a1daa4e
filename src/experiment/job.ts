import type { EmbeddedSite } from "../embed/embedded-site.js";
import type { EmbeddingMatrix } from "../embed/types.js";
import { recalibrateRows } from "../eval/recalibrate.js";
import { summarizePredictions } from "../eval/summarize.js";
import type { TrainSettings } from "../model/train-settings.js";
import type { ModelArchitecture, ModelSnapshot } from "../model/types.js";
import { runAuto } from "../transfer/auto.js";
import {
  needsSourceModel,
  runScenario,
  type Scenario,
  type ScenarioInput,
  type ScenarioOutput,
  type SplitSettings,
  trainSourceModel,
} from "../transfer/scenarios.js";
import { subsamplePool } from "../transfer/training-data.js";
import { codeVersionString } from "../util/version.js";
import type { GridCell, Job } from "./grid.js";
import type { CellResult } from "./results.js";

/**
 * One job of the grid, run in a worker thread: train the source model once (transfer jobs), then
 * every pending cell through transfer/scenarios.ts, the same functions the CLI and the library call.
 * Everything arrives as plain data (typed arrays and parsed settings) so it can be posted to a
 * worker: token ids and labels only, no encounter ids.
 */
export interface JobPayload {
  job: Job;
  /** Cells of the job still to run (finished ones are skipped on resume). */
  pending: GridCell[];
  classes: string[];
  architecture: ModelArchitecture;
  /** Parsed settings (experiment/spec.ts); the job's seed is set here, nowhere else. */
  training: TrainSettings;
  finetuning: TrainSettings;
  /** The training recipe the settings came from (recorded in every cell). */
  recipe: string;
  bootstrap?: number;
  confidence: number;
  target: EmbeddedSite;
  source?: EmbeddedSite;
  /** Embedding tables anchored on both sites' tokens, for the pooled arm (one-hot, co-occurrence). */
  pooled?: { source: EmbeddingMatrix; target: EmbeddingMatrix; providerId: string };
  /** Previously trained source model for this job (resume), if any. */
  sourceModel?: ModelSnapshot;
}

export type JobEvent = { type: "source-model"; model: ModelSnapshot } | { type: "cell"; result: CellResult };

export function executeJob(p: JobPayload, emit: (e: JobEvent) => void): void {
  const seed = p.job.seed;
  const training: TrainSettings = { ...p.training, seed };
  const finetuning: TrainSettings = { ...p.finetuning, seed };
  const split: SplitSettings = { validationFraction: training.validationFraction, seed };
  let sourceModel = p.sourceModel;
  const needsModel = p.pending.some((c) => needsSourceModel(c.scenario));
  if (p.source && needsModel && !sourceModel) {
    const trained = trainSourceModel({
      architecture: p.architecture,
      classes: p.classes,
      training,
      source: p.source,
      split,
    }).snapshot;
    sourceModel = trained;
    emit({ type: "source-model", model: trained });
  }
  const trained = new Map<string, ScenarioOutput>();
  // Metrics by prediction array: auto's cell holds its winner's very predictions, so its bootstrap
  // interval is the winner cell's (same labels, seed and resamples), computed once.
  const summaries: Summaries = new WeakMap();
  const autos = new Map<string, ScenarioOutput>();
  const autoArm = (size: GridCell["targetSize"], run: () => ScenarioOutput) => {
    const key = String(size);
    let out = autos.get(key);
    if (!out) {
      out = run();
      autos.set(key, out);
    }
    return out;
  };
  for (const cell of p.pending) {
    const started = Date.now();
    try {
      const pool = subsamplePool(p.target.pool, cell.targetSize, seed);
      let target: EmbeddedSite = { ...p.target, pool };
      let source = p.source;
      if (cell.scenario === "pooled") {
        if (!p.source || !p.pooled) throw new Error("pooled arm without pooled embeddings");
        source = { ...p.source, embedding: p.pooled.source, providerId: p.pooled.providerId };
        target = { ...target, embedding: p.pooled.target, providerId: p.pooled.providerId };
      }
      // Recalibration variants of an arm share its trained model: train once, recalibrate each;
      // `auto` shares its winner's training with that arm's own cell.
      const input: Omit<ScenarioInput, "scenario"> = {
        architecture: p.architecture,
        classes: p.classes,
        target,
        ...(source ? { source } : {}),
        ...(sourceModel ? { sourceModel } : {}),
        training,
        finetuning,
        split,
      };
      const plain = (scenario: Scenario): ScenarioOutput => {
        const key = `${scenario}|${cell.targetSize}`;
        let out = trained.get(key);
        if (!out) {
          out = runScenario({ ...input, scenario });
          trained.set(key, out);
        }
        return out;
      };
      const out =
        cell.scenario === "auto"
          ? autoArm(cell.targetSize, () => runAuto({ ...input, scenario: "auto" }, plain))
          : plain(cell.scenario);
      emit({ type: "cell", result: cellResult(p, cell, out, summaries) });
    } catch (e) {
      emit({
        type: "cell",
        result: {
          key: cell,
          status: "error",
          error: e instanceof Error ? e.message : String(e),
          trainSeconds: (Date.now() - started) / 1000,
          finishedAt: new Date().toISOString(),
          codeVersion: codeVersionString(),
        },
      });
    }
  }
}

type Summaries = WeakMap<Float64Array, ReturnType<typeof summarizePredictions>>;

/** A cell's stored result: metrics (before and after recalibration), test predictions, counts. */
function cellResult(p: JobPayload, cell: GridCell, out: ScenarioOutput, summaries: Summaries): CellResult {
  const C = p.classes.length;
  const labels = p.target.test.labels;
  let testProbs = out.testProbs;
  const summarize = (probs: Float64Array) => {
    let s = summaries.get(probs);
    if (!s) {
      s = summarizePredictions(labels, C === 2 ? column(probs, C, 1) : probs, p.classes, {
        ...(p.bootstrap !== undefined ? { bootstrap: p.bootstrap } : {}),
        seed: p.job.seed,
        level: p.confidence,
      });
      summaries.set(probs, s);
    }
    return s;
  };
  let before: CellResult["metricsBeforeRecalibration"];
  if (cell.recalibration !== "none") {
    before = summarize(testProbs);
    testProbs = recalibrateRows(cell.recalibration, out.validationLabels, out.validationProbs, testProbs, C);
  }
  return {
    key: cell,
    status: "ok",
    metrics: summarize(testProbs),
    ...(before ? { metricsBeforeRecalibration: before } : {}),
    predictions: {
      classes: p.classes,
      labels: Array.from(labels),
      scores: Array.from(C === 2 ? column(testProbs, C, 1) : testProbs, round6),
    },
    counts: out.counts,
    trainSeconds: out.trainSeconds,
    ...(out.bestValidationAuroc !== null ? { bestValidationAuroc: out.bestValidationAuroc } : {}),
    ...(out.engine !== null ? { engine: out.engine } : {}),
    recipe: p.recipe,
    ...(out.selection ? { selection: finite(out.selection) } : {}),
    ...(out.convergence ? { convergence: finite(out.convergence) } : {}),
    finishedAt: new Date().toISOString(),
    codeVersion: codeVersionString(),
  };
}

/** A copy without non-finite numbers (JSON has no NaN): they are left out. */
function finite<T>(v: T): T {
  return JSON.parse(
    JSON.stringify(v, (_k, x) => (typeof x === "number" && !Number.isFinite(x) ? undefined : x)),
  );
}

function column(probs: Float64Array, C: number, c: number): Float64Array {
  const n = probs.length / C;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = probs[i * C + c];
  return out;
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
