import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../util/errors.js";
import { resolveDataPath } from "../util/paths.js";
import { EICU_REGIONS } from "./adapters/eicu.js";
import { findEventTableFiles } from "./adapters/event-table.js";
import { readSiteFiles, syntheticWorld } from "./sites/adapters.js";
import type { SiteSpec } from "./sites/site-spec.js";
import type { SyntheticSettingsInput } from "./synthetic/settings.js";
import { MAPPING_FILE } from "./synthetic/write.js";
import type { SiteDataset } from "./types.js";

/**
 * Resolve a source string, as the CLI takes it, to site datasets:
 *   synthetic | synthetic:<seed>       the default synthetic world (all its sites)
 *   eicu | eicu:<region>[,<region>]    eICU demo sites by region (eicu = the four regions)
 *   <dir>                              an event-table directory (events.* + labels.*), or a written
 *                                      synthetic world (mapping.json + one event-table folder per site)
 *   <file.csv>                         a findings table (needs `catalog`)
 *   omop:<dir>                         an OMOP CDM folder of CSV/Parquet tables (default cohort settings)
 *   omop-pg | omop-pg:<schema>         an OMOP CDM schema in PostgreSQL (URL in CONCEPTBRIDGE_OMOP_PG_URL)
 * Paths may start with `shared:` to point into the shared public data folder. Each string becomes
 * one SiteSpec per site (sourceSpecs) and is read by the same adapter registry as experiment specs.
 */
export interface SourceOptions {
  /** Concept catalog for findings tables. */
  catalog?: string;
  labelColumn?: string;
  /** Settings for `synthetic` sources (the seed in `synthetic:<seed>` overrides theirs). */
  synthetic?: SyntheticSettingsInput;
}

export function resolvePath(p: string): string {
  return resolveDataPath(p);
}

/** A source string as site specs: one per site it holds, each with the name the site goes by. */
export function sourceSpecs(
  source: string,
  opts: SourceOptions = {},
): { name: string | null; spec: SiteSpec }[] {
  // `name` is the site's name where the string itself tells it (a world's sites); null: the data's.
  if (source === "synthetic" || source.startsWith("synthetic:")) {
    const rest = source.slice("synthetic".length + 1);
    const seed = rest === "" ? undefined : Number(rest);
    if (seed !== undefined && !Number.isInteger(seed)) {
      throw new InputError(`"${rest}" is not an integer seed`, { field: "source", file: source });
    }
    const world = { ...opts.synthetic, ...(seed !== undefined ? { seed } : {}) } as Record<string, unknown>;
    return syntheticWorld(world).sites.map((s, i) => ({
      name: s.name,
      spec: { adapter: "synthetic", world, site: i },
    }));
  }
  if (source === "eicu" || source.startsWith("eicu:")) {
    const rest = source.slice("eicu".length + 1);
    const regions = rest === "" ? [...EICU_REGIONS] : rest.split(",").map((r) => r.trim());
    return regions.map((region) => ({
      name: null,
      spec: { adapter: "eicu", dir: "shared:eicu-demo", region },
    }));
  }
  if (source.startsWith("omop:")) {
    const dir = resolvePath(source.slice("omop:".length));
    return [{ name: null, spec: { adapter: "omop", options: { source: { kind: "files", dir } } } }];
  }
  if (source === "omop-pg" || source.startsWith("omop-pg:")) {
    const schema = source.slice("omop-pg:".length);
    return [
      {
        name: null,
        spec: { adapter: "omop", options: { source: { kind: "postgres", ...(schema ? { schema } : {}) } } },
      },
    ];
  }
  const path = resolvePath(source);
  if (!existsSync(path)) {
    throw new InputError("no such file or directory (expected a path, synthetic[:seed] or eicu[:region])", {
      file: source,
    });
  }
  if (statSync(path).isDirectory()) {
    if (existsSync(join(path, MAPPING_FILE))) {
      const siteDirs = readdirSync(path, { withFileTypes: true })
        .filter((d) => d.isDirectory() && !d.name.startsWith("."))
        .map((d) => ({ name: d.name, dir: join(path, d.name) }))
        .filter((d) => findEventTableFiles(d.dir) !== null)
        .sort((a, b) => (a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : 0));
      if (siteDirs.length === 0)
        throw new InputError("synthetic world directory has no site folders", { file: source });
      return siteDirs.map((d) => ({ name: d.name, spec: { adapter: "event-table", dir: d.dir } }));
    }
    return [{ name: null, spec: { adapter: "event-table", dir: path } }];
  }
  if (!opts.catalog) {
    throw new InputError("a findings table needs a concept catalog (--catalog <file>)", {
      file: source,
      field: "catalog",
    });
  }
  return [
    {
      name: null,
      spec: {
        adapter: "findings",
        train: path,
        catalog: resolvePath(opts.catalog),
        ...(opts.labelColumn ? { options: { labelColumn: opts.labelColumn } } : {}),
      },
    },
  ];
}

export async function resolveSource(source: string, opts: SourceOptions = {}): Promise<SiteDataset[]> {
  const out: SiteDataset[] = [];
  for (const { spec } of sourceSpecs(source, opts)) {
    // A source string's site keeps the name its data gives it (file, folder, region, world site).
    const files = await readSiteFiles(spec, { baseDir: ".", file: source, at: "source" });
    out.push(files.train);
  }
  return out;
}

/**
 * One site from a source string: anything src/data/sources.ts resolves to exactly one site
 * ("eicu:Midwest", a findings file, an event-table folder), or one site of a multi-site source named
 * after "#" ("synthetic#site-B", "synthetic:7#B", "eicu#South"). "synthetic:<letter>" is short for the
 * default synthetic world's site of that letter.
 */
export async function resolveSite(spec: string, opts: SourceOptions = {}): Promise<SiteDataset> {
  let source = spec;
  let site: string | undefined;
  const hash = spec.lastIndexOf("#");
  if (hash > 0) {
    source = spec.slice(0, hash);
    site = spec.slice(hash + 1);
  } else {
    const m = /^synthetic:([A-Za-z][A-Za-z0-9_.-]*)$/.exec(spec);
    if (m) {
      source = "synthetic";
      site = m[1];
    }
  }
  const sites = await resolveSource(source, opts);
  if (site === undefined) {
    if (sites.length === 1) return sites[0];
    throw new InputError(
      `"${spec}" holds ${sites.length} sites (${sites.map((s) => s.name).join(", ")}); name one as ${source}#<site>`,
      { field: "source" },
    );
  }
  const found = sites.find(
    (s) => s.name === site || s.name === `site-${site}` || s.name.endsWith(`-${site}`),
  );
  if (!found) {
    throw new InputError(`no site "${site}" in ${source} (sites: ${sites.map((s) => s.name).join(", ")})`, {
      field: "source",
    });
  }
  return found;
}
