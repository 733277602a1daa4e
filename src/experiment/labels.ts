import type { SiteDataset } from "../data/types.js";
import { InputError } from "../util/errors.js";
import type { TaskSpec } from "./spec.js";

/**
 * Task labels shared by every site of an experiment: binary (positive class vs rest) or multi-class
 * with one class list across sites (the union of the sites' classes, sorted), so a model's outputs
 * mean the same thing everywhere.
 */
export function taskClasses(task: TaskSpec, sites: SiteDataset[]): string[] {
  if (task.type === "binary") return [`not ${task.positive}`, task.positive];
  const all = new Set<string>();
  for (const s of sites) for (const c of s.labelClasses) all.add(c);
  return [...all].sort();
}

/** Class index per encounter under the task (-1 = unlabeled, dropped from every split). */
export function taskLabels(task: TaskSpec, ds: SiteDataset, classes: string[]): Int32Array {
  const raw = ds.encounters.labels;
  const out = new Int32Array(raw.length);
  if (task.type === "binary") {
    const pos = ds.labelClasses.indexOf(task.positive);
    if (pos < 0) {
      throw new InputError(
        `positive class "${task.positive}" does not occur at site "${ds.name}" (classes: ${ds.labelClasses.join(", ")})`,
        { field: "task.positive" },
      );
    }
    for (let i = 0; i < raw.length; i++) out[i] = raw[i] < 0 ? -1 : raw[i] === pos ? 1 : 0;
    return out;
  }
  const map = ds.labelClasses.map((c) => classes.indexOf(c));
  for (let i = 0; i < raw.length; i++) out[i] = raw[i] < 0 ? -1 : map[raw[i]];
  return out;
}
