import { InputError } from "../../util/errors.js";
import { groupedSplit, stratifiedSplit, temporalSplit } from "../splits.js";
import type { SiteDataset } from "../types.js";
import type { SiteFiles } from "./adapters.js";
import { SplitSpec } from "./site-spec.js";

/**
 * A site's encounters as a training pool and a test set: from separate files, or one file split once
 * with a fixed seed (so every arm and experiment seed shares one test set). Unlabeled encounters are
 * in neither part. Positions refer to `datasets`.
 */
export interface SplitSite {
  name: string;
  /** The dataset(s); the site's vocabulary is the union of their tokens. */
  datasets: SiteDataset[];
  pool: DatasetPart;
  test: DatasetPart;
}

/** Encounters of one dataset, by position. */
export interface DatasetPart {
  dataset: number;
  indices: Uint32Array;
}

export function splitSite(name: string, files: SiteFiles, split: SplitSpec | undefined): SplitSite {
  if (files.test !== undefined) {
    return { name, datasets: [files.train, files.test], pool: all(files.train, 0), test: all(files.test, 1) };
  }
  const ds = files.train;
  const s = split ?? SplitSpec.parse({});
  const labels = ds.encounters.labels;
  const fractions = [1 - s.testFraction, s.testFraction];
  let pool: Uint32Array;
  let test: Uint32Array;
  switch (s.kind) {
    case "none":
      return { name, datasets: [ds], pool: all(ds, 0), test: { dataset: 0, indices: new Uint32Array(0) } };
    case "stratified":
      [pool, test] = stratifiedSplit(labels, fractions, s.seed);
      break;
    case "grouped":
      // No patient in both parts: a patient's later visit must not leak into the test set.
      [pool, test] = groupedSplit(ds.encounters.groups, labels, fractions, s.seed);
      break;
    case "temporal": {
      if (!s.testPeriods)
        throw new InputError("a temporal split needs testPeriods", { field: "split.testPeriods" });
      const r = temporalSplit(ds.encounters.periods, ds.encounters.periodNames, { test: s.testPeriods });
      pool = r.train;
      test = r.test;
      break;
    }
  }
  return {
    name,
    datasets: [ds],
    pool: { dataset: 0, indices: labeledOnly(ds, pool) },
    test: { dataset: 0, indices: labeledOnly(ds, test) },
  };
}

function all(ds: SiteDataset, dataset: number): DatasetPart {
  const indices = new Uint32Array(ds.encounters.count);
  for (let i = 0; i < indices.length; i++) indices[i] = i;
  return { dataset, indices: labeledOnly(ds, indices) };
}

function labeledOnly(ds: SiteDataset, idx: Uint32Array): Uint32Array {
  return idx.filter((i) => ds.encounters.labels[i] >= 0);
}
