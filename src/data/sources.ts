import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../util/errors.js";
import { resolveDataPath } from "../util/paths.js";
import { EICU_REGIONS, readEicuSites } from "./adapters/eicu.js";
import { findEventTableFiles, readEventTableDir } from "./adapters/event-table.js";
import { readFindingsTable } from "./adapters/findings-table.js";
import { readOmopSite } from "./adapters/omop/read-omop.js";
import type { SyntheticSettingsInput } from "./synthetic/settings.js";
import { generateWorld } from "./synthetic/world.js";
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
 * Paths may start with `shared:` to point into the shared public data folder.
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

export async function resolveSource(source: string, opts: SourceOptions = {}): Promise<SiteDataset[]> {
  if (source === "synthetic" || source.startsWith("synthetic:")) {
    const rest = source.slice("synthetic".length + 1);
    const seed = rest === "" ? undefined : Number(rest);
    if (seed !== undefined && !Number.isInteger(seed)) {
      throw new InputError(`"${rest}" is not an integer seed`, { field: "source", file: source });
    }
    return generateWorld({ ...opts.synthetic, ...(seed !== undefined ? { seed } : {}) }).sites;
  }
  if (source === "eicu" || source.startsWith("eicu:")) {
    const rest = source.slice("eicu".length + 1);
    const regions = rest === "" ? [...EICU_REGIONS] : rest.split(",").map((r) => r.trim());
    return readEicuSites({ sites: regions.map((region) => ({ region })) });
  }
  if (source.startsWith("omop:")) {
    return [
      await readOmopSite({ source: { kind: "files", dir: resolvePath(source.slice("omop:".length)) } }),
    ];
  }
  if (source === "omop-pg" || source.startsWith("omop-pg:")) {
    const schema = source.slice("omop-pg:".length);
    return [await readOmopSite({ source: { kind: "postgres", ...(schema ? { schema } : {}) } })];
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
        .map((d) => join(path, d.name))
        .filter((d) => findEventTableFiles(d) !== null)
        .sort();
      if (siteDirs.length === 0)
        throw new InputError("synthetic world directory has no site folders", { file: source });
      const out: SiteDataset[] = [];
      for (const d of siteDirs) out.push(await readEventTableDir(d));
      return out;
    }
    return [await readEventTableDir(path)];
  }
  if (!opts.catalog) {
    throw new InputError("a findings table needs a concept catalog (--catalog <file>)", {
      file: source,
      field: "catalog",
    });
  }
  return [
    await readFindingsTable({
      file: path,
      catalog: resolvePath(opts.catalog),
      ...(opts.labelColumn ? { labelColumn: opts.labelColumn } : {}),
    }),
  ];
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
