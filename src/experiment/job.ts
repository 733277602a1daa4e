import { subsetSequences } from "../concepts/merge-vocabulary.js";
import type { TokenSequences } from "../concepts/vocabulary.js";
import { stratifiedSplit, subsampleStratified } from "../data/splits.js";
import type { EmbeddingMatrix } from "../embed/types.js";
import { recalibrateRows } from "../eval/recalibrate.js";
import { summarizePredictions } from "../eval/summarize.js";
import { BASELINE_SETTINGS, FINETUNE_SETTINGS, TrainSettings } from "../model/train-settings.js";
import type { EmbeddingRef, ModelArchitecture, ModelSnapshot } from "../model/types.js";
import type { LabeledSequences, PreparedSite } from "../transfer/prepared.js";
import { runScenario, type Scenario, type ScenarioOutput, trainSourceModel } from "../transfer/scenarios.js";
import { codeVersionString } from "../util/version.js";
import type { Job } from "./grid.js";
import type { CellKey, CellResult } from "./results.js";

/**
 * Everything one job needs, as plain data (typed arrays) so it can be posted to a worker thread.
 * Built in the main process from one site's data each: only aggregate-free arrays of token ids and
 * labels, no encounter ids.
 */
export interface SitePayload {
  name: string;
  embedding: EmbeddingMatrix;
  vocabulary: { key: string; text: string }[];
  pool: LabeledSequences;
  test: LabeledSequences;
}

export interface JobPayload {
  job: Job;
  /** Cells of the job still to run (finished ones are skipped on resume). */
  pending: CellKey[];
  classes: string[];
  architecture: ModelArchitecture;
  embeddingRef: EmbeddingRef;
  training: Record<string, unknown>;
  finetuning: Record<string, unknown>;
  baselineTraining: Record<string, unknown>;
  bootstrap?: number;
  confidence: number;
  target: SitePayload;
  source?: SitePayload;
  /** Embedding tables anchored on both sites' tokens, for the pooled arm (one-hot, co-occurrence). */
  pooled?: { source: EmbeddingMatrix; target: EmbeddingMatrix; providerId: string };
  /** Previously trained source model for this job (resume), if any. */
  sourceModel?: ModelSnapshot;
}

export type JobEvent = { type: "source-model"; model: ModelSnapshot } | { type: "cell"; result: CellResult };

export function executeJob(p: JobPayload, emit: (e: JobEvent) => void): void {
  const training =
    p.job.model === "logistic"
      ? TrainSettings.parse({ ...BASELINE_SETTINGS, ...p.baselineTraining, seed: p.job.seed })
      : TrainSettings.parse({ ...p.training, seed: p.job.seed });
  const finetuning = TrainSettings.parse({ ...FINETUNE_SETTINGS, ...p.finetuning, seed: p.job.seed });
  let sourceModel = p.sourceModel;
  let sourceSite: PreparedSite | undefined;
  if (p.source) {
    sourceSite = splitSite(
      p.source,
      p.source.embedding,
      p.source.pool,
      training.validationFraction,
      p.job.seed,
    );
    const needsModel = p.pending.some(
      (c) => c.scenario === "source-only" || c.scenario.startsWith("finetune-"),
    );
    if (needsModel && !sourceModel) {
      const trained = trainSourceModel({
        architecture: p.architecture,
        embeddingRef: p.embeddingRef,
        classes: p.classes,
        training,
        source: sourceSite,
      }).snapshot;
      sourceModel = trained;
      emit({ type: "source-model", model: trained });
    }
  }
  const trained = new Map<string, ScenarioOutput>();
  for (const cell of p.pending) {
    const started = Date.now();
    try {
      const pool = targetPool(p.target.pool, cell.targetSize, p.job.seed);
      const target = splitSite(p.target, p.target.embedding, pool, training.validationFraction, p.job.seed);
      let source = sourceSite;
      let embeddingRef = p.embeddingRef;
      if (cell.scenario === "pooled") {
        if (!p.source || !p.pooled) throw new Error("pooled arm without pooled embeddings");
        source = {
          ...splitSite(p.source, p.pooled.source, p.source.pool, training.validationFraction, p.job.seed),
        };
        target.embedding = p.pooled.target;
        embeddingRef = { providerId: p.pooled.providerId, dimension: p.pooled.target.dim, trainable: false };
      }
      // Recalibration variants of an arm share its trained model: train once, recalibrate each.
      const armKey = `${cell.scenario}|${cell.targetSize}`;
      let out = trained.get(armKey);
      if (!out) {
        out = runScenario({
          scenario: cell.scenario as Scenario,
          architecture: p.architecture,
          embeddingRef,
          classes: p.classes,
          target,
          targetTest: p.target.test,
          source,
          sourceModel,
          training,
          finetuning,
        });
        trained.set(armKey, out);
      }
      const C = p.classes.length;
      const labels = p.target.test.labels;
      let testProbs = out.testProbs;
      const summarize = (probs: Float64Array) =>
        summarizePredictions(labels, C === 2 ? column(probs, C, 1) : probs, p.classes, {
          ...(p.bootstrap !== undefined ? { bootstrap: p.bootstrap } : {}),
          seed: p.job.seed,
          level: p.confidence,
        });
      let before: CellResult["metricsBeforeRecalibration"];
      if (cell.recalibration !== "none") {
        before = summarize(testProbs);
        testProbs = recalibrateRows(
          cell.recalibration,
          target.validation.labels,
          out.validationProbs,
          testProbs,
          C,
        );
      }
      const metrics = summarize(testProbs);
      emit({
        type: "cell",
        result: {
          key: cell,
          status: "ok",
          metrics,
          ...(before ? { metricsBeforeRecalibration: before } : {}),
          predictions: {
            classes: p.classes,
            labels: Array.from(labels),
            scores: Array.from(C === 2 ? column(testProbs, C, 1) : testProbs, round6),
          },
          counts: out.counts,
          trainSeconds: out.trainSeconds,
          ...(out.bestValidationAuroc !== null ? { bestValidationAuroc: out.bestValidationAuroc } : {}),
          finishedAt: new Date().toISOString(),
          codeVersion: codeVersionString(),
        },
      });
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

/** The arm's target training data: the whole pool, or a stratified subsample of the given size. */
function targetPool(pool: LabeledSequences, size: number | "all", seed: number): LabeledSequences {
  if (size === "all" || size >= pool.labels.length) return pool;
  const all = new Uint32Array(pool.labels.length);
  for (let i = 0; i < all.length; i++) all[i] = i;
  const idx = subsampleStratified(all, pool.labels, size, seed);
  return pick(pool, idx);
}

/** Split a training pool into train and validation (stratified, seeded), keeping the site's vocabulary. */
function splitSite(
  site: SitePayload,
  embedding: EmbeddingMatrix,
  pool: LabeledSequences,
  validationFraction: number,
  seed: number,
): PreparedSite {
  const [train, validation] = stratifiedSplit(
    pool.labels,
    [1 - validationFraction, validationFraction],
    seed,
  );
  return {
    name: site.name,
    embedding,
    vocabulary: site.vocabulary,
    train: pick(pool, train),
    validation: pick(pool, validation),
  };
}

function pick(s: LabeledSequences, idx: ArrayLike<number>): LabeledSequences {
  const labels = new Int32Array(idx.length);
  for (let k = 0; k < idx.length; k++) labels[k] = s.labels[idx[k]];
  return { seqs: subsetSequences(s.seqs, idx) as TokenSequences, labels };
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
