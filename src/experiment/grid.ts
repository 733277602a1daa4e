import { createHash } from "node:crypto";
import { stableStringify } from "../embed/types.js";
import type { CellKey } from "./results.js";
import { directionsOf, type ExperimentSpec, type ScenarioName } from "./spec.js";

/**
 * The grid: every arm of a spec as cells, grouped into jobs that share expensive work. A job is
 * either target-only (local arms at one target) or one direction (source -> target): it trains the
 * source model once and runs every transfer arm from it. Jobs are the unit handed to workers.
 */

export type ModelKind = "cnn" | "logistic";

export interface Job {
  id: string;
  kind: "target-only" | "transfer";
  source?: string;
  target: string;
  embedding: string;
  model: ModelKind;
  seed: number;
  cells: CellKey[];
}

/** Scenarios the logistic baseline runs (fine-tuning a one-layer model is just retraining it). */
const LOGISTIC_SCENARIOS: ReadonlySet<ScenarioName> = new Set(["local", "pooled", "source-only"]);

export function expandGrid(spec: ExperimentSpec): Job[] {
  return fullGrid(spec)
    .map((j) => ({ ...j, cells: j.cells.filter((c) => !excluded(spec, c)) }))
    .filter((j) => j.cells.length > 0);
}

/** Whether a cell matches one of the spec's `exclude` entries (every field an entry names). */
function excluded(spec: ExperimentSpec, c: CellKey): boolean {
  return spec.exclude.some(
    (e) =>
      (e.scenario === undefined || e.scenario === c.scenario) &&
      (e.embedding === undefined || e.embedding === c.embedding) &&
      (e.model === undefined || e.model === c.model) &&
      (e.target === undefined || e.target === c.target) &&
      (e.source === undefined || e.source === c.source),
  );
}

function fullGrid(spec: ExperimentSpec): Job[] {
  const jobs: Job[] = [];
  const directions = directionsOf(spec);
  const targets = [...new Set(directions.map((d) => d.target))];
  const transferScenarios = spec.scenarios.filter((s) => s !== "local");
  for (const model of spec.model.kinds) {
    const allowed = (s: ScenarioName) => model === "cnn" || LOGISTIC_SCENARIOS.has(s);
    for (const embedding of Object.keys(spec.embeddings)) {
      for (const seed of spec.seeds) {
        if (spec.scenarios.includes("local")) {
          for (const target of targets) {
            const cells = spec.targetSizes.map((size) =>
              cellKey(spec, {
                scenario: "local",
                model,
                embedding,
                target,
                targetSize: size,
                seed,
                recalibration: "none",
              }),
            );
            jobs.push(job(spec, { kind: "target-only", target, embedding, model, seed, cells }));
          }
        }
        for (const { source, target } of directions) {
          const cells: CellKey[] = [];
          for (const scenario of transferScenarios.filter(allowed)) {
            // source-only uses no target training data: one size; pooled and fine-tuning sweep sizes.
            const sizes = scenario === "source-only" ? (["all"] as const) : spec.targetSizes;
            const recals = scenario === "pooled" ? (["none"] as const) : spec.recalibration;
            for (const targetSize of sizes)
              for (const recalibration of recals)
                cells.push(
                  cellKey(spec, {
                    scenario,
                    model,
                    embedding,
                    source,
                    target,
                    targetSize,
                    seed,
                    recalibration,
                  }),
                );
          }
          if (cells.length > 0)
            jobs.push(job(spec, { kind: "transfer", source, target, embedding, model, seed, cells }));
        }
      }
    }
  }
  return jobs;
}

function job(spec: ExperimentSpec, j: Omit<Job, "id">): Job {
  return {
    ...j,
    id: hash({ ctx: contextOf(spec, j.source, j.target, j.embedding), j: { ...j, cells: undefined } }),
  };
}

type CellFields = Omit<CellKey, "id" | "task">;

export function cellKey(spec: ExperimentSpec, f: CellFields): CellKey {
  const fields = { ...f, task: spec.task.name };
  return { id: hash({ ctx: contextOf(spec, f.source, f.target, f.embedding), fields }), ...fields };
}

/** Everything in the spec that can change a cell's result (so an edited spec never reuses old cells). */
function contextOf(
  spec: ExperimentSpec,
  source: string | undefined,
  target: string,
  embedding: string,
): unknown {
  return {
    source: source === undefined ? null : spec.sites[source],
    target: spec.sites[target],
    task: spec.task,
    embedding: spec.embeddings[embedding],
    model: { ...spec.model, kinds: undefined },
    training: spec.training,
    finetuning: spec.finetuning,
    baselineTraining: spec.baselineTraining,
    evaluation: spec.evaluation,
    tokenText: spec.tokenText ?? null,
  };
}

function hash(v: unknown): string {
  return createHash("sha256").update(stableStringify(v)).digest("hex").slice(0, 16);
}

export function countCells(jobs: Job[]): number {
  return jobs.reduce((n, j) => n + j.cells.length, 0);
}
