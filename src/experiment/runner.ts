import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { stableStringify } from "../embed/types.js";
import { meanLogistic } from "../model/architecture.js";
import { loadModel, saveModel } from "../model/model-file.js";
import type { ModelArchitecture } from "../model/types.js";
import { needsSourceModel, type Scenario } from "../transfer/scenarios.js";
import { writeFileAtomic } from "../util/atomic-write.js";
import { InputError } from "../util/errors.js";
import { createProgress } from "../util/progress.js";
import { codeVersionString } from "../util/version.js";
import { countCells, expandGrid, type Job } from "./grid.js";
import type { JobPayload, SitePayload } from "./job.js";
import { createJobRunner, type JobRunner } from "./pool.js";
import { type Anchor, type PreparedExperiment, prepareExperiment } from "./prepare.js";
import type { CellKey, CellResult } from "./results.js";
import type { LoadedSpec } from "./spec.js";
import { latestById, ResultsStore } from "./store.js";

export interface RunOptions {
  /** Output folder: results.jsonl, provenance.json, models/. */
  out: string;
  /** Worker threads (default: one per core, at most the number of jobs). */
  workers?: number;
  dryRun?: boolean;
  failFast?: boolean;
  quiet?: boolean;
  /** Where listings go (dry run); defaults to stdout. */
  log?: (line: string) => void;
  /**
   * Folder of trained source models (default: <out>/models). Files are named by a hash of everything
   * a source model depends on, so specs that share a source arm can share the folder and train it once.
   */
  modelsDir?: string;
  /**
   * Run jobs on this pool instead of one of the run's own (several specs run at once on one pool;
   * the caller closes it). `workers` still bounds how many of this run's jobs wait on it at once.
   */
  runner?: JobRunner;
  /** Called when the grid is known: all cells, and those still to run. */
  onStart?: (info: { cells: number; pending: number }) => void;
  /** Called for every finished cell (after it is stored). */
  onCell?: (result: CellResult) => void;
}

/**
 * Source models being trained right now, by file. A job whose source model another job (of this
 * run or of another run sharing the models folder) is training waits for that file instead of
 * training the same model again.
 */
const trainingSourceModels = new Map<string, Promise<void>>();

export interface RunSummary {
  cells: number;
  skipped: number;
  ran: number;
  failed: number;
  results: CellResult[];
  resultsPath: string;
}

/**
 * Run a spec's grid: expand it, skip cells already in the results store (resume after Ctrl-C or
 * kill -9), validate everything that can be validated before the first cell (sites, embeddings'
 * coverage of every site's tokens, target sizes), then run jobs on the worker pool, storing each
 * cell the moment it finishes. A failing cell is recorded and the run goes on unless failFast.
 */
export async function runExperiment(loaded: LoadedSpec, opts: RunOptions): Promise<RunSummary> {
  const { spec } = loaded;
  const log = opts.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const jobs = expandGrid(spec);
  const store = new ResultsStore(join(opts.out, "results.jsonl"));
  store.repair();
  const done = store.finishedIds();
  const total = countCells(jobs);
  const pendingJobs = jobs
    .map((j) => ({ job: j, pending: j.cells.filter((c) => !done.has(c.id)) }))
    .filter((j) => j.pending.length > 0);
  const pendingCells = pendingJobs.reduce((n, j) => n + j.pending.length, 0);

  if (opts.dryRun) {
    for (const j of jobs)
      for (const c of j.cells) log(`${done.has(c.id) ? "done   " : "pending"} ${describeCell(c)}  [${c.id}]`);
    log(`${total} cells in ${jobs.length} jobs: ${total - pendingCells} done, ${pendingCells} to run`);
    return summary(store, total, total - pendingCells, 0, 0);
  }

  const needed = new Set<string>();
  for (const j of jobs) {
    needed.add(j.target);
    if (j.source) needed.add(j.source);
  }
  const prepared = await prepareExperiment(loaded, needed);
  validateSizes(loaded, prepared);
  // Embed every (embedding, anchor, site) the grid needs now: a token without a vector fails the run
  // here, before any cell, naming the embedding in the spec.
  for (const { job } of pendingJobs) await tablesFor(job, prepared);
  await writeProvenance(loaded, prepared, opts.out);
  opts.onStart?.({ cells: total, pending: pendingCells });
  if (pendingCells === 0) return summary(store, total, total, 0, 0);

  const workers = Math.max(1, Math.min(opts.workers ?? availableParallelism(), pendingJobs.length));
  const runner = opts.runner ?? createJobRunner(workers);
  const progress = createProgress({ label: spec.name, total: pendingCells, silent: opts.quiet });
  let ran = 0;
  let failed = 0;
  let firstError: Error | null = null;
  const modelsDir = opts.modelsDir ?? join(opts.out, "models");
  const saves: Promise<void>[] = [];
  try {
    const queue = [...pendingJobs];
    const lanes = Array.from({ length: workers }, async () => {
      for (;;) {
        const next = queue.shift();
        if (!next || (firstError && opts.failFast)) return;
        const sourceModelPath = sourceModelFile(loaded, next.job, modelsDir, prepared.classes);
        const needsSource =
          next.job.source !== undefined && next.pending.some((c) => needsSourceModel(c.scenario as Scenario));
        // Claim the source model synchronously (no await in between), or wait for its trainer.
        let trained: (() => void) | undefined;
        const inflight = needsSource ? trainingSourceModels.get(sourceModelPath) : undefined;
        if (inflight) await inflight;
        else if (needsSource && !existsSync(sourceModelPath)) {
          trainingSourceModels.set(sourceModelPath, new Promise<void>((r) => (trained = r)));
        }
        const release = () => {
          if (!trained) return;
          trained();
          trained = undefined;
          trainingSourceModels.delete(sourceModelPath);
        };
        const payload = await buildPayload(loaded, prepared, next.job, next.pending, modelsDir).catch((e) => {
          release();
          throw e;
        });
        let saving: Promise<void> | null = null;
        const running = runner.run(payload, (e) => {
          if (e.type === "source-model") {
            saving = saveModel(sourceModelPath, e.model).finally(release);
            saves.push(saving);
            return;
          }
          store.append(e.result);
          opts.onCell?.(e.result);
          ran++;
          const m = e.result.metrics;
          if (e.result.status === "error") {
            failed++;
            progress.tick(1, `ERROR ${describeCell(e.result.key)}: ${e.result.error}`);
            if (opts.failFast && !firstError)
              firstError = new Error(`${describeCell(e.result.key)}: ${e.result.error}`);
          } else progress.tick(1, `${describeCell(e.result.key)} AUROC ${m ? m.auroc.toFixed(3) : "?"}`);
        });
        // A job that failed before its source model was saved must not leave others waiting.
        await running.finally(() => {
          if (saving === null) release();
        });
      }
    });
    await Promise.all(lanes);
  } finally {
    if (!opts.runner) await runner.close();
    await Promise.all(saves);
    progress.done();
  }
  if (firstError) throw firstError;
  return summary(store, total, total - pendingCells, ran, failed);
}

function summary(
  store: ResultsStore,
  cells: number,
  skipped: number,
  ran: number,
  failed: number,
): RunSummary {
  return {
    cells,
    skipped,
    ran,
    failed,
    results: [...latestById(store.read()).values()],
    resultsPath: store.path,
  };
}

export function describeCell(c: CellKey): string {
  const dir = c.source ? `${c.source}->${c.target}` : c.target;
  const recal = c.recalibration !== "none" ? ` +recal:${c.recalibration}` : "";
  return `${c.scenario}${c.model === "logistic" ? "(logistic)" : ""} ${c.embedding} ${dir} n=${c.targetSize} seed=${c.seed}${recal}`;
}

function anchorOf(job: Job): Anchor {
  return { sites: [job.source ?? job.target] };
}

async function tablesFor(job: Job, prepared: PreparedExperiment) {
  const anchor = anchorOf(job);
  const target = await prepared.embeddingTable(job.embedding, anchor, job.target);
  const source = job.source ? await prepared.embeddingTable(job.embedding, anchor, job.source) : undefined;
  let pooled: { source: Awaited<typeof target>; target: Awaited<typeof target> } | undefined;
  if (job.source && job.cells.some((c) => c.scenario === "pooled")) {
    const both = { sites: [job.source, job.target] };
    pooled = {
      source: await prepared.embeddingTable(job.embedding, both, job.source),
      target: await prepared.embeddingTable(job.embedding, both, job.target),
    };
  }
  return { target, source, pooled };
}

function architectureOf(loaded: LoadedSpec, job: Job, dim: number, classes: number): ModelArchitecture {
  const m = loaded.spec.model;
  if (job.model === "logistic") return meanLogistic(dim, classes);
  return {
    kind: "concept-cnn",
    embeddingDim: dim,
    kernelSizes: m.kernelSizes,
    filters: m.filters,
    numClasses: classes,
    dropout: m.dropout,
  };
}

async function buildPayload(
  loaded: LoadedSpec,
  prepared: PreparedExperiment,
  job: Job,
  pending: CellKey[],
  modelsDir: string,
): Promise<JobPayload> {
  const tables = await tablesFor(job, prepared);
  const site = (name: string, matrix: SitePayload["embedding"]): SitePayload => {
    const s = prepared.sites.get(name)!;
    return {
      name,
      embedding: matrix,
      vocabulary: s.vocabulary.tokens.map((t) => ({ key: t.key, text: t.text })),
      pool: s.pool,
      test: s.test,
    };
  };
  const sourceModelPath = sourceModelFile(loaded, job, modelsDir, prepared.classes);
  const sourceModel =
    job.source && existsSync(sourceModelPath) ? await loadModel(sourceModelPath) : undefined;
  const anchorTable = tables.source ?? tables.target;
  return {
    job,
    pending,
    classes: prepared.classes,
    architecture: architectureOf(loaded, job, anchorTable.matrix.dim, prepared.classes.length),
    embeddingRef: { providerId: anchorTable.providerId, dimension: anchorTable.matrix.dim, trainable: false },
    training: loaded.spec.training,
    finetuning: loaded.spec.finetuning,
    baselineTraining: loaded.spec.baselineTraining,
    bootstrap: loaded.spec.evaluation.bootstrap,
    confidence: loaded.spec.evaluation.confidence,
    target: site(job.target, tables.target.matrix),
    ...(job.source && tables.source ? { source: site(job.source, tables.source.matrix) } : {}),
    ...(tables.pooled
      ? {
          pooled: {
            source: tables.pooled.source.matrix,
            target: tables.pooled.target.matrix,
            providerId: tables.pooled.target.providerId,
          },
        }
      : {}),
    ...(sourceModel ? { sourceModel } : {}),
  };
}

/**
 * The source model depends on the source site, the task and its classes, embedding, model and
 * training settings, seed and code version only.
 */
function sourceModelFile(loaded: LoadedSpec, job: Job, modelsDir: string, classes: string[]): string {
  const { spec } = loaded;
  const key = createHash("sha256")
    .update(
      stableStringify({
        site: job.source ? spec.sites[job.source] : null,
        task: spec.task,
        classes,
        embedding: spec.embeddings[job.embedding],
        model: { ...spec.model, kinds: undefined },
        kind: job.model,
        training: job.model === "logistic" ? spec.baselineTraining : spec.training,
        tokenText: spec.tokenText ?? null,
        seed: job.seed,
        code: codeVersionString(),
      }),
    )
    .digest("hex")
    .slice(0, 16);
  return join(modelsDir, `source-${job.source}-${job.embedding}-${job.model}-${job.seed}-${key}.json`);
}

function validateSizes(loaded: LoadedSpec, prepared: PreparedExperiment): void {
  const { spec, path } = loaded;
  const targets = new Set(expandGrid(spec).map((j) => j.target));
  for (const t of targets) {
    if (prepared.sites.get(t)!.test.labels.length === 0)
      throw new InputError(`site "${t}" is a target but has no test set (give it a test file or a split)`, {
        file: path,
        field: `sites.${t}`,
      });
  }
  spec.targetSizes.forEach((size, i) => {
    if (size === "all") return;
    for (const t of targets) {
      const pool = prepared.sites.get(t)!.pool.labels.length;
      if (size > pool)
        throw new InputError(
          `target size ${size} is larger than site "${t}"'s training pool (${pool} encounters)`,
          {
            file: path,
            field: `targetSizes.${i}`,
          },
        );
      if (size < 10)
        throw new InputError(`target size ${size} is too small to split into training and validation data`, {
          file: path,
          field: `targetSizes.${i}`,
        });
    }
  });
}

async function writeProvenance(loaded: LoadedSpec, prepared: PreparedExperiment, out: string): Promise<void> {
  const ids: Record<string, string> = {};
  for (const name of Object.keys(loaded.spec.embeddings)) {
    const first = prepared.sites.keys().next().value as string;
    ids[name] = (await prepared.embeddingTable(name, { sites: [first] }, first)).providerId;
  }
  const provenance = {
    spec: loaded.spec,
    specFile: loaded.path,
    codeVersion: codeVersionString(),
    node: process.version,
    seeds: loaded.spec.seeds,
    classes: prepared.classes,
    embeddingProviders: ids,
    sites: prepared.siteSummaries,
    writtenAt: new Date().toISOString(),
  };
  await writeFileAtomic(join(out, "provenance.json"), `${JSON.stringify(provenance, null, 2)}\n`);
}
