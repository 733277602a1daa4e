import { createHash } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import type { EncodedSite } from "../concepts/encoded-site.js";
import { withEmbedding } from "../embed/embedded-site.js";
import type { EmbeddingMatrix } from "../embed/types.js";
import { meanLogistic, paperCnn } from "../model/architecture.js";
import { loadModel, saveModel } from "../model/model-file.js";
import type { ModelArchitecture } from "../model/types.js";
import { needsSourceModel } from "../transfer/scenarios.js";
import { writeFileAtomic } from "../util/atomic-write.js";
import { InputError } from "../util/errors.js";
import { acquireLock, lockedMessage, lockHolder } from "../util/lock.js";
import { createProgress } from "../util/progress.js";
import { redactUrlsDeep } from "../util/redact.js";
import { containedPath } from "../util/safe-path.js";
import { stableStringify } from "../util/stable-json.js";
import { CODE_VERSION, codeVersionString } from "../util/version.js";
import { expectedCellCosts } from "./cell-cost.js";
import { experimentChecks } from "./checks.js";
import { countCells, expandGrid, type GridCell, type Job } from "./grid.js";
import type { JobPayload } from "./job.js";
import { createJobRunner, type JobRunner } from "./pool.js";
import { type Anchor, type PreparedExperiment, prepareExperiment } from "./prepare.js";
import type { CellKey, CellResult } from "./results.js";
import { jobsOfShard } from "./shard.js";
import { type LoadedSpec, specAsWritten } from "./spec.js";
import {
  checkStoreFor,
  clearStore,
  experimentFingerprint,
  LOCK_FILE,
  latestById,
  MANIFEST_FILE,
  makeManifest,
  RESULTS_FILE,
  ResultsStore,
  type ShardSpec,
  type StoreManifest,
  writeManifest,
} from "./store.js";

export interface RunOptions {
  /** Output folder: results.jsonl, provenance.json, models/. */
  out: string;
  /** Worker threads (default: one per core, at most the number of jobs). */
  workers?: number;
  /**
   * List the grid and check everything the real run checks (the store's experiment, sites, target
   * sizes, embeddings and their coverage of every site's tokens), then stop short of training.
   * Writes nothing.
   */
  dryRun?: boolean;
  /** Delete the folder's results (of whatever experiment) and start over. */
  forceNew?: boolean;
  /** Run only this shard of the grid (`run --shard k/N`); the store records it. */
  shard?: ShardSpec | null;
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
  const out = resolve(opts.out);
  const grid = expandGrid(spec);
  const shard = opts.shard ?? null;
  const identity: Omit<StoreManifest, "format" | "version" | "createdAt"> = {
    fingerprint: experimentFingerprint(spec, CODE_VERSION),
    spec: spec.name,
    codeVersion: CODE_VERSION,
    grid: grid.flatMap((j) => j.cells.map((c) => c.id)),
    shard,
  };
  // Every path the run writes is checked to stay inside --out (or the models folder given).
  const paths = {
    out,
    results: containedPath(out, [RESULTS_FILE], "results store"),
    models: opts.modelsDir ?? containedPath(out, ["models"], "models folder"),
  };
  if (opts.dryRun) return dryRun(loaded, opts, grid, identity, paths);
  mkdirSync(out, { recursive: true });
  // One writer per store: a second run on the same folder stops here, naming the holder.
  const lock = acquireLock(
    containedPath(out, [LOCK_FILE], "lock file"),
    `conceptbridge run ${loaded.path}${shard ? ` --shard ${shard.index}/${shard.count}` : ""}`,
  );
  try {
    if (opts.forceNew) clearStore(out);
    checkStoreFor(out, identity);
    return await runInStore(loaded, opts, grid, identity, paths);
  } finally {
    lock.release();
  }
}

interface RunPaths {
  out: string;
  results: string;
  models: string;
}

/** The dry run: the real run's checks, then the grid listed; nothing is written. */
async function dryRun(
  loaded: LoadedSpec,
  opts: RunOptions,
  grid: Job[],
  identity: Omit<StoreManifest, "format" | "version" | "createdAt">,
  paths: RunPaths,
): Promise<RunSummary> {
  const log = opts.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const fresh = opts.forceNew === true;
  if (!fresh) checkStoreFor(paths.out, identity);
  const store = new ResultsStore(paths.results, { create: false });
  const done = fresh ? new Set<string>() : store.finishedIds();
  const jobs = jobsOfShard(grid, identity.shard);
  const pendingJobs = pendingOf(jobs, done);
  await validateRun(loaded, grid, pendingJobs);
  const total = countCells(jobs);
  const pendingCells = pendingJobs.reduce((n, j) => n + j.pending.length, 0);
  for (const j of jobs)
    for (const c of j.cells) log(`${done.has(c.id) ? "done   " : "pending"} ${describeCell(c)}  [${c.id}]`);
  const shard = identity.shard ? ` (shard ${identity.shard.index}/${identity.shard.count})` : "";
  log(`${total} cells in ${jobs.length} jobs${shard}: ${total - pendingCells} done, ${pendingCells} to run`);
  if (fresh) log(`--force-new: the results in ${paths.out} would be deleted first`);
  const holder = lockHolder(join(paths.out, LOCK_FILE));
  if (holder) log(`note: this store is ${lockedMessage(holder)}; a run now would stop at once`);
  return fresh
    ? { cells: total, skipped: 0, ran: 0, failed: 0, results: [], resultsPath: paths.results }
    : summary(store, total, total - pendingCells, 0, 0);
}

function pendingOf(jobs: Job[], done: Set<string>): { job: Job; pending: GridCell[] }[] {
  return jobs
    .map((j) => ({ job: j, pending: j.cells.filter((c) => !done.has(c.id)) }))
    .filter((j) => j.pending.length > 0);
}

/**
 * Everything checked before the first cell, by the real run and the dry run alike: every site of
 * the whole grid loads (a shard checks the others' too, so all shards agree on what the data is),
 * target sizes fit, and every (embedding, anchor, site) still to run embeds: a token without a vector
 * fails here, naming the embedding in the spec.
 */
async function validateRun(
  loaded: LoadedSpec,
  grid: Job[],
  pendingJobs: { job: Job; pending: GridCell[] }[],
): Promise<PreparedExperiment> {
  const needed = new Set<string>();
  for (const j of grid) {
    needed.add(j.target);
    if (j.source) needed.add(j.source);
  }
  const prepared = await prepareExperiment(loaded, needed);
  validateSizes(loaded, prepared);
  for (const { job } of pendingJobs) await tablesFor(job, prepared);
  return prepared;
}

async function runInStore(
  loaded: LoadedSpec,
  opts: RunOptions,
  grid: Job[],
  identity: Omit<StoreManifest, "format" | "version" | "createdAt">,
  paths: RunPaths,
): Promise<RunSummary> {
  const { spec } = loaded;
  const store = new ResultsStore(paths.results);
  store.repair();
  const done = store.finishedIds();
  const jobs = jobsOfShard(grid, identity.shard);
  const total = countCells(jobs);
  const pendingJobs = pendingOf(jobs, done);
  const pendingCells = pendingJobs.reduce((n, j) => n + j.pending.length, 0);

  const prepared = await validateRun(loaded, grid, pendingJobs);
  // The store is this experiment's from now on (written only once the spec has passed every check,
  // so a spec refused above leaves no manifest that would refuse its corrected version).
  if (!existsSync(join(paths.out, MANIFEST_FILE))) writeManifest(paths.out, makeManifest(identity));
  await writeProvenance(loaded, prepared, paths.out, identity);
  opts.onStart?.({ cells: total, pending: pendingCells });
  if (pendingCells === 0) return summary(store, total, total, 0, 0);

  const workers = Math.max(1, Math.min(opts.workers ?? availableParallelism(), pendingJobs.length));
  const runner = opts.runner ?? createJobRunner(workers);
  // The ETA weighs each cell by its expected cost (experiment/cell-cost.ts), not all cells alike.
  const costs = await expectedCellCosts(spec, prepared, pendingJobs);
  const progress = createProgress({
    label: spec.name,
    total: pendingCells,
    work: [...costs.values()].reduce((a, b) => a + b, 0),
    silent: opts.quiet,
  });
  let ran = 0;
  let failed = 0;
  let firstError: Error | null = null;
  const modelsDir = paths.models;
  const saves: Promise<void>[] = [];
  try {
    const queue = [...pendingJobs];
    const lanes = Array.from({ length: workers }, async () => {
      for (;;) {
        const next = queue.shift();
        if (!next || (firstError && opts.failFast)) return;
        const sourceModelPath = sourceModelFile(loaded, next.job, modelsDir, prepared.classes);
        const needsSource =
          next.job.source !== undefined && next.pending.some((c) => needsSourceModel(c.scenario));
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
            progress.tick(
              1,
              `ERROR ${describeCell(e.result.key)}: ${e.result.error}`,
              costs.get(e.result.key.id),
            );
            if (opts.failFast && !firstError)
              firstError = new Error(`${describeCell(e.result.key)}: ${e.result.error}`);
          } else
            progress.tick(
              1,
              `${describeCell(e.result.key)} AUROC ${m ? m.auroc.toFixed(3) : "?"}`,
              costs.get(e.result.key.id),
            );
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
  return { ...paperCnn(dim, classes), kernelSizes: m.kernelSizes, filters: m.filters, dropout: m.dropout };
}

async function buildPayload(
  loaded: LoadedSpec,
  prepared: PreparedExperiment,
  job: Job,
  pending: GridCell[],
  modelsDir: string,
): Promise<JobPayload> {
  const tables = await tablesFor(job, prepared);
  const site = (name: string, table: { matrix: EmbeddingMatrix; providerId: string }) =>
    withEmbedding(prepared.sites.get(name) as EncodedSite, table.matrix, table.providerId);
  const sourceModelPath = sourceModelFile(loaded, job, modelsDir, prepared.classes);
  const sourceModel =
    job.source && existsSync(sourceModelPath) ? await loadModel(sourceModelPath) : undefined;
  const anchorTable = tables.source ?? tables.target;
  return {
    job,
    pending,
    classes: prepared.classes,
    architecture: architectureOf(loaded, job, anchorTable.matrix.dim, prepared.classes.length),
    training: job.model === "logistic" ? loaded.spec.baselineTraining : loaded.spec.training,
    finetuning: loaded.spec.finetuning,
    recipe: loaded.spec.recipe,
    bootstrap: loaded.spec.evaluation.bootstrap,
    confidence: loaded.spec.evaluation.confidence,
    target: site(job.target, tables.target),
    ...(job.source && tables.source ? { source: site(job.source, tables.source) } : {}),
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
  return containedPath(
    modelsDir,
    [`source-${job.source}-${job.embedding}-${job.model}-${job.seed}-${key}.json`],
    "source model file",
  );
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

async function writeProvenance(
  loaded: LoadedSpec,
  prepared: PreparedExperiment,
  out: string,
  identity: Pick<StoreManifest, "fingerprint" | "shard">,
): Promise<void> {
  const ids: Record<string, string> = {};
  for (const name of Object.keys(loaded.spec.embeddings)) {
    const first = prepared.sites.keys().next().value as string;
    ids[name] = (await prepared.embeddingTable(name, { sites: [first] }, first)).providerId;
  }
  // A spec may hold an endpoint URL with a key in it: what is written beside the results never does.
  const provenance = {
    spec: redactUrlsDeep(specAsWritten(loaded)),
    specFile: loaded.path,
    fingerprint: identity.fingerprint,
    shard: identity.shard,
    codeVersion: codeVersionString(),
    node: process.version,
    seeds: loaded.spec.seeds,
    classes: prepared.classes,
    embeddingProviders: redactUrlsDeep(ids),
    sites: prepared.siteSummaries,
    // Data checks behind the report's warnings (patients at two sites, coverage, embedding tables).
    checks: await experimentChecks(loaded, prepared),
    writtenAt: new Date().toISOString(),
  };
  await writeFileAtomic(join(out, "provenance.json"), `${JSON.stringify(provenance, null, 2)}\n`);
}
