import { readFindingsTable } from "../data/adapters/findings-table.js";
import { stratifiedSplit } from "../data/splits.js";
import type { SiteDataset } from "../data/types.js";
import { InputError, isInputError } from "../util/errors.js";
import { resolveSpecPath } from "./paths.js";
import { type SiteSpec, SplitSpec } from "./spec.js";

/**
 * A site as an experiment uses it: one or two datasets (a training pool and a test set, from separate
 * files or one file split once with a fixed seed so every arm and seed shares the same test set).
 */
export interface LoadedSite {
  name: string;
  /** The dataset(s); the vocabulary is the union of their tokens. */
  datasets: SiteDataset[];
  /** Training pool: (dataset index, encounter index) lists. */
  pool: { dataset: number; indices: Uint32Array };
  test: { dataset: number; indices: Uint32Array };
}

export async function loadSite(name: string, spec: SiteSpec, specDir: string, specFile: string): Promise<LoadedSite> {
  const at = `sites.${name}`;
  try {
    switch (spec.adapter) {
      case "findings": {
        const catalog = resolveSpecPath(spec.catalog, specDir);
        const train = await readFindingsTable({ file: resolveSpecPath(spec.train, specDir), catalog, name });
        if (spec.test !== undefined) {
          const test = await readFindingsTable({ file: resolveSpecPath(spec.test, specDir), catalog, name });
          return { name, datasets: [train, test], pool: all(train, 0), test: all(test, 1) };
        }
        return splitOnce(name, train, spec.split);
      }
      default:
        throw new InputError(`adapter "${spec.adapter}" cannot be used in experiments yet`, {
          file: specFile,
          field: `${at}.adapter`,
        });
    }
  } catch (e) {
    if (isInputError(e) && e.location.file === undefined) {
      throw new InputError(e.message, { file: specFile, field: e.location.field ? `${at}.${e.location.field}` : at });
    }
    throw e;
  }
}

function all(ds: SiteDataset, dataset: number): { dataset: number; indices: Uint32Array } {
  const indices = new Uint32Array(ds.encounters.count);
  for (let i = 0; i < indices.length; i++) indices[i] = i;
  return { dataset, indices: labeledOnly(ds, indices) };
}

function labeledOnly(ds: SiteDataset, idx: Uint32Array): Uint32Array {
  return idx.filter((i) => ds.encounters.labels[i] >= 0);
}

function splitOnce(name: string, ds: SiteDataset, split: SplitSpec | undefined): LoadedSite {
  const s = split ?? SplitSpec.parse({});
  if (s.kind === "none") return { name, datasets: [ds], pool: all(ds, 0), test: { dataset: 0, indices: new Uint32Array(0) } };
  const labels = ds.encounters.labels;
  const [pool, test] = stratifiedSplit(labels, [1 - s.testFraction, s.testFraction], s.seed);
  return {
    name,
    datasets: [ds],
    pool: { dataset: 0, indices: labeledOnly(ds, pool) },
    test: { dataset: 0, indices: labeledOnly(ds, test) },
  };
}
