import { existsSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { z } from "zod";
import { CellResult } from "../experiment/results.js";
import { checkMergeable, readManifest } from "../experiment/store.js";
import { InputError } from "../util/errors.js";
import { Provenance } from "./provenance.js";

/** A results store as the report sees it. */
export interface ResultsStore {
  /** The JSONL file read. */
  file: string;
  /** Folder holding it (where spec.json / provenance.json are looked for, and the default output). */
  dir: string;
  cells: CellResult[];
  provenance: Provenance;
}

/**
 * Read a results store: `<dir>/results.jsonl` (or a .jsonl file given directly), one CellResult per
 * line, plus the optional `provenance.json` and `spec.json` beside it. A bad line is an InputError
 * naming the file, line and field; blank lines are ignored. A cell written twice (a resumed run) keeps
 * the last line, as the runner's resume logic does.
 */
export async function loadResultsStore(path: string | readonly string[]): Promise<ResultsStore> {
  if (typeof path !== "string") return loadMergedStores(path);
  if (!existsSync(path)) throw new InputError("no such results file or folder", { file: path });
  const file = statSync(path).isDirectory() ? join(path, "results.jsonl") : path;
  if (!existsSync(file)) throw new InputError("results folder has no results.jsonl", { file: path });
  const dir = dirname(file);
  const text = await readFile(file, "utf8");
  const byId = new Map<string, CellResult>();
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === "") return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (e) {
      throw new InputError(`not valid JSON (${(e as Error).message})`, { file, row: i + 1 });
    }
    const cell = parseOrThrow(CellResult, json, file, i + 1);
    byId.set(cell.key.id, withExtras(cell, json));
  });
  if (byId.size === 0) throw new InputError("results store is empty", { file });
  return { file, dir, cells: [...byId.values()], provenance: await loadProvenance(dir) };
}

/**
 * Several stores as one (the shards of `run --shard k/N`): experiment/store.ts checkMergeable
 * refuses stores of different experiments (fingerprints in their experiment.json), a shard given
 * twice and any cell in two stores. Cells are put in grid order, so the merged report is the one a
 * single run writes; the provenance is the first store's (every shard writes the same one).
 */
async function loadMergedStores(paths: readonly string[]): Promise<ResultsStore> {
  if (paths.length === 0) throw new InputError("no results store given");
  const stores = await Promise.all(paths.map((p) => loadResultsStore(p)));
  if (stores.length === 1) return stores[0];
  const order = checkMergeable(
    stores.map((s) => ({ dir: s.dir, manifest: readManifest(s.dir), ids: s.cells.map((c) => c.key.id) })),
  );
  const at = (id: string) => order.get(id) ?? Number.MAX_SAFE_INTEGER;
  const cells = stores.flatMap((s) => s.cells).sort((a, b) => at(a.key.id) - at(b.key.id));
  return { ...stores[0], cells };
}

/**
 * Fields a newer runner writes that the results schema may not name yet (`auto`'s selection record,
 * the epoch the kept model came from): kept when they have the expected shape, so the report can
 * use them; everything else a line holds beyond the schema is dropped as before.
 */
const EXTRAS = ["selection", "bestEpoch", "epochs"] as const;

function withExtras(cell: CellResult, json: unknown): CellResult {
  if (typeof json !== "object" || json === null) return cell;
  const raw = json as Record<string, unknown>;
  const extra: Record<string, unknown> = {};
  for (const k of EXTRAS) {
    const v = raw[k];
    if (k === "selection" ? typeof v === "object" && v !== null : typeof v === "number") extra[k] = v;
  }
  return Object.keys(extra).length > 0 ? ({ ...extra, ...cell } as CellResult) : cell;
}

async function loadProvenance(dir: string): Promise<Provenance> {
  const provFile = join(dir, "provenance.json");
  const specFile = join(dir, "spec.json");
  const provenance = existsSync(provFile) ? parseOrThrow(Provenance, await readJson(provFile), provFile) : {};
  if (provenance.spec === undefined && existsSync(specFile)) provenance.spec = await readJson(specFile);
  return provenance;
}

async function readJson(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, "utf8"));
  } catch (e) {
    throw new InputError(`not valid JSON (${(e as Error).message})`, { file });
  }
}

function parseOrThrow<S extends z.ZodType>(
  schema: S,
  value: unknown,
  file: string,
  row?: number,
): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = issue.path.length > 0 ? issue.path.map(String).join(".") : undefined;
  throw new InputError(issue.message, { file, row, field });
}
