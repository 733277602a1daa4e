import { InputError } from "../util/errors.js";
import type { Job } from "./grid.js";
import type { ShardSpec } from "./store.js";

/**
 * `run --shard k/N`: a deterministic share of a grid's jobs, for the schedulers sites already run
 * (a Slurm array task, a Kubernetes Indexed Job pod: `--shard $((INDEX + 1))/N`). Jobs are grouped
 * by the source model they train (source site, embedding, model kind, seed), so a source model is
 * trained in exactly one shard and shared by every job of it there; a target-only job is a group of
 * its own. Groups go, largest first (ties in grid order), to the shard with the fewest cells so far
 * (ties: the lowest index). The same spec always gives the same shares; together they are the grid.
 */
export function parseShard(text: string): ShardSpec {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = m ? Number(m[1]) : Number.NaN;
  const count = m ? Number(m[2]) : Number.NaN;
  if (!m || count < 1 || index < 1 || index > count)
    throw new InputError(`"${text}" is not k/N with 1 <= k <= N (e.g. 2/8)`, { field: "--shard" });
  return { index, count };
}

function groupKey(j: Job): string {
  return j.source === undefined
    ? `job|${j.id}`
    : `source|${JSON.stringify([j.source, j.embedding, j.model, j.seed])}`;
}

/** The shard index (1-based) of every job, by job id. */
export function shardOfJobs(jobs: Job[], count: number): Map<string, number> {
  const groups = new Map<string, { order: number; cells: number; jobs: Job[] }>();
  for (const j of jobs) {
    const k = groupKey(j);
    let g = groups.get(k);
    if (!g) {
      g = { order: groups.size, cells: 0, jobs: [] };
      groups.set(k, g);
    }
    g.cells += j.cells.length;
    g.jobs.push(j);
  }
  const load = new Array<number>(count).fill(0);
  const out = new Map<string, number>();
  const sorted = [...groups.values()].sort((a, b) => b.cells - a.cells || a.order - b.order);
  for (const g of sorted) {
    let best = 0;
    for (let s = 1; s < count; s++) if (load[s] < load[best]) best = s;
    load[best] += g.cells;
    for (const j of g.jobs) out.set(j.id, best + 1);
  }
  return out;
}

/** The jobs of one shard, in grid order; every job when `shard` is null. */
export function jobsOfShard(jobs: Job[], shard: ShardSpec | null): Job[] {
  if (!shard) return jobs;
  const of = shardOfJobs(jobs, shard.count);
  return jobs.filter((j) => of.get(j.id) === shard.index);
}
