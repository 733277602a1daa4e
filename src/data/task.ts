import { InputError } from "../util/errors.js";
import type { SiteDataset } from "./types.js";

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
