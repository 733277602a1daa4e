import { InputError } from "../../util/errors.js";
import { resolveDataPath } from "../../util/paths.js";
import { stableStringify } from "../../util/stable-json.js";
import { readEicuSite } from "../adapters/eicu.js";
import { readEventTable, readEventTableDir } from "../adapters/event-table.js";
import { readFindingsTable } from "../adapters/findings-table.js";
import { readOmopSite } from "../adapters/omop/read-omop.js";
import { generateWorld, type SyntheticWorld } from "../synthetic/world.js";
import type { SiteDataset } from "../types.js";
import type { AdapterName, SiteSpec } from "./site-spec.js";

/**
 * The one registry of site adapters (like embed/registry.ts for embeddings): each adapter turns its
 * SiteSpec into the site's dataset(s). Experiment specs and CLI source strings both end here, so a
 * site reads the same way wherever it is named.
 */

/** A site's data as read: the training pool's dataset and, when the site has one, a separate test file. */
export interface SiteFiles {
  train: SiteDataset;
  test?: SiteDataset;
}

export interface ReadContext {
  /** The site's name (spec key); undefined: the name the adapter gives it (file, folder, region). */
  name?: string;
  /** Folder relative paths resolve against (the spec file's folder; "." for the CLI). */
  baseDir: string;
  /** Where the site was named, for error messages (spec file or the source string). */
  file: string;
  /** Spec path of the site entry, e.g. `sites.A`. */
  at: string;
}

type Reader<A extends AdapterName> = (
  spec: Extract<SiteSpec, { adapter: A }>,
  ctx: ReadContext,
) => Promise<SiteFiles>;

const READERS: { [A in AdapterName]: Reader<A> } = {
  findings: async (spec, ctx) => {
    const catalog = resolveDataPath(spec.catalog, ctx.baseDir);
    const labelColumn = typeof spec.options?.labelColumn === "string" ? spec.options.labelColumn : undefined;
    const read = (file: string) =>
      readFindingsTable({
        file: resolveDataPath(file, ctx.baseDir),
        catalog,
        ...(ctx.name !== undefined ? { name: ctx.name } : {}),
        ...(labelColumn !== undefined ? { labelColumn } : {}),
      });
    const train = await read(spec.train);
    return spec.test !== undefined ? { train, test: await read(spec.test) } : { train };
  },
  "event-table": async (spec, ctx) => {
    const options = { ...(spec.options ?? {}), ...(ctx.name !== undefined ? { name: ctx.name } : {}) };
    const train =
      spec.dir !== undefined
        ? await readEventTableDir(resolveDataPath(spec.dir, ctx.baseDir), options)
        : await readEventTable({
            ...options,
            events: resolveDataPath(spec.events as string, ctx.baseDir),
            labels: resolveDataPath(spec.labels as string, ctx.baseDir),
          });
    if (spec.testDir === undefined) return { train };
    return { train, test: await readEventTableDir(resolveDataPath(spec.testDir, ctx.baseDir), options) };
  },
  eicu: async (spec, ctx) => {
    let site: { name: string; hospitalIds: number[] } | { name?: string; region: string };
    if (spec.hospitals !== undefined) site = { name: ctx.name ?? "hospitals", hospitalIds: spec.hospitals };
    else if (spec.region !== undefined)
      site = { ...(ctx.name !== undefined ? { name: ctx.name } : {}), region: spec.region };
    else
      throw new InputError("region or hospitals is required", { file: ctx.file, field: `${ctx.at}.region` });
    return {
      train: await readEicuSite({
        ...(spec.options ?? {}),
        dir: resolveDataPath(spec.dir, ctx.baseDir),
        site,
      }),
    };
  },
  synthetic: async (spec, ctx) => {
    const world = syntheticWorld(spec.world);
    const ds =
      typeof spec.site === "number"
        ? world.sites[spec.site]
        : world.sites.find((s) => s.name === spec.site || s.name === `site-${spec.site}`);
    if (!ds) {
      throw new InputError(
        `the synthetic world has no site "${spec.site}" (sites: ${world.sites.map((s) => s.name).join(", ")})`,
        { file: ctx.file, field: `${ctx.at}.site` },
      );
    }
    return { train: ctx.name !== undefined ? { ...ds, name: ctx.name } : ds };
  },
  omop: async (spec, ctx) => {
    // The adapter's own schema validates the options (readOmopSite parses them).
    const options = (spec.options ?? {}) as Parameters<typeof readOmopSite>[0];
    const ds = await readOmopSite(options, { settingsFile: `${ctx.file}: ${ctx.at}.options` });
    return { train: ctx.name !== undefined ? { ...ds, name: ctx.name } : ds };
  },
};

/** Read a site's data with its adapter. */
export function readSiteFiles(spec: SiteSpec, ctx: ReadContext): Promise<SiteFiles> {
  const reader = READERS[spec.adapter] as Reader<typeof spec.adapter>;
  return reader(spec as never, ctx);
}

/** One world per settings object: every site of a spec comes from the same generated world. */
const worlds = new Map<string, SyntheticWorld>();
export function syntheticWorld(settings: Record<string, unknown>): SyntheticWorld {
  const key = stableStringify(settings);
  let w = worlds.get(key);
  if (!w) {
    w = generateWorld(settings);
    worlds.set(key, w);
  }
  return w;
}
