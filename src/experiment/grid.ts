import { createHash } from "node:crypto";
import type { Scenario } from "../transfer/scenarios.js";
import { stableStringify } from "../util/stable-json.js";
import type { CellKey } from "./results.js";
import { directionsOf, type ExperimentSpec, type ScenarioName } from "./spec.js";

/**
 * The grid: every arm of a spec as cells, grouped into jobs that share expensive work. A job is
 * either target-only (local arms at one target) or one direction (source -> target): it trains the
 * source model once and runs every transfer arm from it. Jobs are the unit handed to workers.
 */

export type ModelKind = "cnn" | "logistic";

/** A cell as the grid makes it: its scenario is one this code runs. */
export type GridCell = Omit<CellKey, "scenario"> & { scenario: Scenario };

export interface Job {
  id: string;
  kind: "target-only" | "transfer";
  source?: string;
  target: string;
  embedding: string;
  model: ModelKind;
  seed: number;
  cells: GridCell[];
}

/** Scenarios the logistic baseline runs (fine-tuning a one-layer model is just retraining it). */
const LOGISTIC_SCENARIOS: ReadonlySet<ScenarioName> = new Set(["local", "pooled", "source-only"]);
/** Arms trained at the target alone (one job per target, shared by every direction into it). */
const TARGET_ONLY: ReadonlySet<ScenarioName> = new Set(["local", "local-bow"]);
/** The tuned bag-of-tokens regression is a logistic model, listed under model "logistic". */
const LOGISTIC_ONLY: ReadonlySet<ScenarioName> = new Set(["local-bow"]);

export function expandGrid(spec: ExperimentSpec): Job[] {
  return fullGrid(spec)
    .map((j) => ({ ...j, cells: j.cells.filter((c) => !excluded(spec, c)) }))
    .filter((j) => j.cells.length > 0);
}

/** Whether a cell matches one of the spec's `exclude` entries (every field an entry names). */
function excluded(spec: ExperimentSpec, c: GridCell): boolean {
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
  const transferScenarios = spec.scenarios.filter((s) => !TARGET_ONLY.has(s));
  // local-bow is a logistic regression whatever the spec's model kinds: it adds a logistic job.
  const kinds: ModelKind[] =
    spec.scenarios.includes("local-bow") && !spec.model.kinds.includes("logistic")
      ? [...spec.model.kinds, "logistic"]
      : spec.model.kinds;
  for (const model of kinds) {
    const onlyBow = !spec.model.kinds.includes(model);
    const allowed = (s: ScenarioName) =>
      !onlyBow && (model === "cnn" ? !LOGISTIC_ONLY.has(s) : LOGISTIC_SCENARIOS.has(s));
    const targetOnly = (
      model === "logistic" ? (["local", "local-bow"] as const) : (["local"] as const)
    ).filter((s) => spec.scenarios.includes(s) && !(onlyBow && s === "local"));
    for (const embedding of Object.keys(spec.embeddings)) {
      for (const seed of spec.seeds) {
        if (targetOnly.length > 0) {
          for (const target of targets) {
            const cells = targetOnly.flatMap((scenario) =>
              spec.targetSizes.map((size) =>
                cellKey(spec, {
                  scenario,
                  model,
                  embedding,
                  target,
                  targetSize: size,
                  seed,
                  recalibration: "none",
                }),
              ),
            );
            jobs.push(job(spec, { kind: "target-only", target, embedding, model, seed, cells }));
          }
        }
        for (const { source, target } of directions) {
          const cells: GridCell[] = [];
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

type CellFields = Omit<GridCell, "id" | "task">;

export function cellKey(spec: ExperimentSpec, f: CellFields): GridCell {
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
