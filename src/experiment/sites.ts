import { readEicuSite } from "../data/adapters/eicu.js";
import { readEventTable } from "../data/adapters/event-table.js";
import { readFindingsTable } from "../data/adapters/findings-table.js";
import { readOmopSite } from "../data/adapters/omop/read-omop.js";
import { groupedSplit, stratifiedSplit, temporalSplit } from "../data/splits.js";
import { generateWorld, type SyntheticWorld } from "../data/synthetic/world.js";
import type { SiteDataset } from "../data/types.js";
import { stableStringify } from "../embed/types.js";
import { InputError, isInputError } from "../util/errors.js";
import { resolveDataPath } from "../util/paths.js";
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

export async function loadSite(
  name: string,
  spec: SiteSpec,
  specDir: string,
  specFile: string,
): Promise<LoadedSite> {
  const at = `sites.${name}`;
  try {
    switch (spec.adapter) {
      case "findings": {
        const catalog = resolveDataPath(spec.catalog, specDir);
        const train = await readFindingsTable({ file: resolveDataPath(spec.train, specDir), catalog, name });
        if (spec.test !== undefined) {
          const test = await readFindingsTable({ file: resolveDataPath(spec.test, specDir), catalog, name });
          return { name, datasets: [train, test], pool: all(train, 0), test: all(test, 1) };
        }
        return splitOnce(name, train, spec.split);
      }
      case "event-table": {
        const ds = await readEventTable({
          ...(spec.options ?? {}),
          events: resolveDataPath(spec.events, specDir),
          labels: resolveDataPath(spec.labels, specDir),
          name,
        });
        return splitOnce(name, ds, spec.split);
      }
      case "eicu": {
        const site =
          spec.hospitals !== undefined
            ? { name, hospitalIds: spec.hospitals }
            : { region: required(spec.region, "region or hospitals", specFile, `${at}.region`), name };
        const ds = await readEicuSite({
          ...(spec.options ?? {}),
          dir: resolveDataPath(spec.dir, specDir),
          site,
        });
        return splitOnce(name, ds, spec.split);
      }
      case "synthetic": {
        const world = syntheticWorld(spec.world);
        const ds =
          typeof spec.site === "number"
            ? world.sites[spec.site]
            : world.sites.find((s) => s.name === spec.site || s.name === `site-${spec.site}`);
        if (!ds) {
          throw new InputError(
            `the synthetic world has no site "${spec.site}" (sites: ${world.sites.map((s) => s.name).join(", ")})`,
            { file: specFile, field: `${at}.site` },
          );
        }
        return splitOnce(name, { ...ds, name }, spec.split);
      }
      case "omop": {
        const ds = await readOmopSite({ ...(spec.options ?? {}) } as Parameters<typeof readOmopSite>[0]);
        return splitOnce(name, { ...ds, name }, spec.split);
      }
    }
  } catch (e) {
    // Name the spec entry as well as the data file's own file/row/field (already in the message).
    if (isInputError(e)) {
      const field = e.location.file === undefined && e.location.field ? `${at}.${e.location.field}` : at;
      throw new InputError(e.message, { file: specFile, field });
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

/** One world per settings object: every site of a spec comes from the same generated world. */
const worlds = new Map<string, SyntheticWorld>();
function syntheticWorld(settings: Record<string, unknown>): SyntheticWorld {
  const key = stableStringify(settings);
  let w = worlds.get(key);
  if (!w) {
    w = generateWorld(settings);
    worlds.set(key, w);
  }
  return w;
}

function required<T>(v: T | undefined, what: string, file: string, field: string): T {
  if (v === undefined) throw new InputError(`${what} is required`, { file, field });
  return v;
}
