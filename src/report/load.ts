import { existsSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { z } from "zod";
import { CellResult } from "../experiment/results.js";
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
export async function loadResultsStore(path: string): Promise<ResultsStore> {
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
    byId.set(cell.key.id, cell);
  });
  if (byId.size === 0) throw new InputError("results store is empty", { file });
  return { file, dir, cells: [...byId.values()], provenance: await loadProvenance(dir) };
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
