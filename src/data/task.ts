import { z } from "zod";
import { InputError, type InputLocation } from "../util/errors.js";
import type { SiteDataset } from "./types.js";

/**
 * The prediction task and the labels it gives each encounter. One definition for experiments, the
 * CLI and bundles: binary (a positive class vs the rest) or multi-class with one class list across
 * sites (the union of the sites' classes, sorted), so a model's outputs mean the same everywhere.
 * Label -1 marks an unlabeled encounter; every split and training set drops those.
 */
export const TaskSpec = z.discriminatedUnion("type", [
  z
    .object({
      type: z.literal("binary").describe("One class against all others."),
      name: z.string().describe("Task name as tables and result cells show it, e.g. influenza-vs-rest."),
      positive: z
        .string()
        .describe("The positive class, as the sites' label column writes it; every other class is negative."),
    })
    .strict(),
  z
    .object({
      type: z
        .literal("multiclass")
        .describe("Every class of the sites (their union, sorted), macro one-vs-rest AUROC."),
      name: z.string().describe("Task name as tables and result cells show it, e.g. 4-class."),
    })
    .strict(),
]);
export type TaskSpec = z.infer<typeof TaskSpec>;

/** The task's class names in output order. */
export function taskClasses(task: TaskSpec, sites: SiteDataset[]): string[] {
  if (task.type === "binary") return [`not ${task.positive}`, task.positive];
  const all = new Set<string>();
  for (const s of sites) for (const c of s.labelClasses) all.add(c);
  return [...all].sort();
}

/** Class index per encounter under the task (-1 = unlabeled). */
export function taskLabels(task: TaskSpec, ds: SiteDataset, classes: string[]): Int32Array {
  if (task.type === "binary") {
    if (!ds.labelClasses.includes(task.positive)) {
      throw new InputError(
        `positive class "${task.positive}" does not occur at site "${ds.name}" (classes: ${ds.labelClasses.join(", ")})`,
        { field: "task.positive" },
      );
    }
    return binaryLabels(ds, task.positive);
  }
  const map = ds.labelClasses.map((c) => classes.indexOf(c));
  const raw = ds.encounters.labels;
  const out = new Int32Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw[i] < 0 ? -1 : map[raw[i]];
  return out;
}

/**
 * The site's labels in a given model's class order (a model that travelled to this site): classes
 * matched by name; a binary model whose positive class (its second) is one of the site's classes is
 * used one-vs-rest.
 */
export function labelsForClasses(ds: SiteDataset, classes: string[], where: InputLocation = {}): Int32Array {
  const src = ds.encounters.labels;
  const out = new Int32Array(src.length).fill(-1);
  const byName = ds.labelClasses.map((c) => classes.indexOf(c));
  if (byName.every((i) => i >= 0)) {
    for (let i = 0; i < src.length; i++) out[i] = src[i] < 0 ? -1 : byName[src[i]];
    return out;
  }
  if (classes.length === 2 && ds.labelClasses.includes(classes[1])) return binaryLabels(ds, classes[1]);
  throw new InputError(
    `the site's classes (${ds.labelClasses.join(", ")}) do not match the model's (${classes.join(", ")})`,
    { field: "classes", ...where },
  );
}

/**
 * Labels for a one-vs-rest task: 1 where the encounter's class is `positiveClass`, 0 for any other
 * class, -1 kept for unlabeled encounters (callers drop those before training or scoring).
 */
export function binaryLabels(ds: SiteDataset, positiveClass: string): Int32Array {
  const pos = ds.labelClasses.indexOf(positiveClass);
  if (pos < 0) {
    throw new InputError(
      `positive class "${positiveClass}" is not one of the site's classes (${ds.labelClasses.join(", ")})`,
      { file: ds.name, field: "positiveClass" },
    );
  }
  const src = ds.encounters.labels;
  const out = new Int32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = src[i] < 0 ? -1 : src[i] === pos ? 1 : 0;
  return out;
}

/** Labels for a multi-class task: class indices into `classes` (a copy, so callers may edit). */
export function multiclassLabels(ds: SiteDataset): { labels: Int32Array; classes: string[] } {
  return { labels: ds.encounters.labels.slice(), classes: [...ds.labelClasses] };
}

/** Indices of the labeled encounters (label >= 0). */
export function labeledIndices(labels: Int32Array): Uint32Array {
  let n = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] >= 0) n++;
  const out = new Uint32Array(n);
  let k = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] >= 0) out[k++] = i;
  return out;
}

/** Count of encounters per class index (length = number of classes; unlabeled ignored). */
export function classCounts(labels: ArrayLike<number>, classCount: number): number[] {
  const c = new Array<number>(classCount).fill(0);
  for (let i = 0; i < labels.length; i++) if (labels[i] >= 0 && labels[i] < classCount) c[labels[i]]++;
  return c;
}
