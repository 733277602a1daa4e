import { createHash } from "node:crypto";
import {
  appendFileSync,
  closeSync,
  existsSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { z } from "zod";
import { writeFileAtomicSync } from "../util/atomic-write.js";
import { InputError } from "../util/errors.js";
import { parseInput } from "../util/parse-input.js";
import { stableStringify } from "../util/stable-json.js";
import { CellResult } from "./results.js";

/**
 * The results store: JSON lines, one finished cell each, appended with a single write so a killed
 * run (Ctrl-C, kill -9) leaves at most one torn last line, which is cut off before the next append.
 * Rerunning a spec skips every cell id already stored.
 */
export class ResultsStore {
  readonly path: string;

  constructor(path: string, o: { create?: boolean } = {}) {
    this.path = path;
    // A dry run looks at a store without creating its folder.
    if (o.create !== false) mkdirSync(dirname(path), { recursive: true });
  }

  /** Every complete, valid line. A torn final line (no newline) is ignored; a bad complete line is an error. */
  read(): CellResult[] {
    if (!existsSync(this.path)) return [];
    return parseResultsText(readFileSync(this.path, "utf8"), this.path);
  }

  finishedIds(): Set<string> {
    return new Set(
      this.read()
        .filter((r) => r.status === "ok")
        .map((r) => r.key.id),
    );
  }

  /** Remove a torn last line left by a killed run, so the next append starts on a fresh line. */
  repair(): void {
    if (!existsSync(this.path)) return;
    const fd = openSync(this.path, "r+");
    try {
      const size = fstatSync(fd).size;
      if (size === 0) return;
      const tail = Buffer.alloc(Math.min(size, 1 << 20));
      readSync(fd, tail, 0, tail.length, size - tail.length);
      if (tail[tail.length - 1] === 0x0a) return;
      const lastNewline = tail.lastIndexOf(0x0a);
      const keep = lastNewline < 0 ? size - tail.length : size - tail.length + lastNewline + 1;
      ftruncateSync(fd, Math.max(0, keep));
    } finally {
      closeSync(fd);
    }
  }

  append(result: CellResult): void {
    appendFileSync(this.path, `${JSON.stringify(result)}\n`);
  }
}

export function parseResultsText(text: string, file: string): CellResult[] {
  const lines = text.split("\n");
  // The piece after the last newline is "" or a line torn by a killed run: never a finished cell.
  const complete = lines.slice(0, -1);
  const out: CellResult[] = [];
  complete.forEach((line, i) => {
    if (line.trim() === "") return;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      throw new InputError("not valid JSON", { file, row: i + 1 });
    }
    const r = CellResult.safeParse(raw);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw new InputError(issue.message, { file, row: i + 1, field: issue.path.join(".") });
    }
    out.push(r.data);
  });
  return out;
}

/** Latest result per cell id (a failed cell rerun successfully replaces its error line). */
export function latestById(results: CellResult[]): Map<string, CellResult> {
  const m = new Map<string, CellResult>();
  for (const r of results) {
    const prev = m.get(r.key.id);
    if (prev?.status !== "ok" || r.status === "ok") m.set(r.key.id, r);
  }
  return m;
}

/*
 * One experiment per store. `<out>/experiment.json` (the manifest) records the fingerprint of the
 * experiment the store belongs to: the parsed spec (canonical JSON, everything but its free-text
 * description) and the package version. A run into a folder holding another experiment is refused
 * (never merged silently): the report would average unrelated cells as if they were seeds of one arm.
 * `--force-new` starts the folder over. The manifest also lists every cell id of the grid in grid
 * order (a report merging shards orders cells as a single run would) and, for `run --shard k/N`,
 * which shard the store holds. `<out>/.lock` makes a store single-writer.
 */

export const MANIFEST_FILE = "experiment.json";
export const LOCK_FILE = ".lock";
export const RESULTS_FILE = "results.jsonl";
const MANIFEST_FORMAT = "conceptbridge.results-store";

/** Which share of a grid's cells a store holds: shard `index` of `count` (1-based). */
export const ShardSpec = z
  .object({ index: z.number().int().min(1), count: z.number().int().min(1) })
  .strict();
export type ShardSpec = z.infer<typeof ShardSpec>;

export const StoreManifest = z.object({
  format: z.literal(MANIFEST_FORMAT),
  version: z.literal(1),
  /** SHA-256 (hex) of the canonical parsed spec and the package version. */
  fingerprint: z.string().regex(/^[0-9a-f]{64}$/),
  /** The spec's name (for messages; the fingerprint is what identifies the experiment). */
  spec: z.string(),
  /** Package version the fingerprint covers (each cell also records the full code version). */
  codeVersion: z.string(),
  /** Every cell id of the whole grid, in grid order (all shards together). */
  grid: z.array(z.string()),
  /** The shard this store holds; null = the whole grid. */
  shard: ShardSpec.nullable(),
  createdAt: z.string(),
});
export type StoreManifest = z.infer<typeof StoreManifest>;

/** The experiment's identity: the canonical parsed spec (but its description) and the package version. */
export function experimentFingerprint(spec: unknown, packageVersion: string): string {
  const { description: _d, ...rest } = spec as Record<string, unknown>;
  return createHash("sha256")
    .update(stableStringify({ spec: rest, codeVersion: packageVersion }))
    .digest("hex");
}

export function makeManifest(o: {
  fingerprint: string;
  spec: string;
  codeVersion: string;
  grid: string[];
  shard: ShardSpec | null;
}): StoreManifest {
  return { format: MANIFEST_FORMAT, version: 1, ...o, createdAt: new Date().toISOString() };
}

/** The manifest of the store in `dir`; null when it has none (a store written before manifests). */
export function readManifest(dir: string): StoreManifest | null {
  const file = join(dir, MANIFEST_FILE);
  if (!existsSync(file)) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    throw new InputError("not valid JSON (a damaged store manifest)", { file });
  }
  return parseInput(StoreManifest, raw, { file });
}

export function writeManifest(dir: string, m: StoreManifest): void {
  writeFileAtomicSync(join(dir, MANIFEST_FILE), `${JSON.stringify(m, null, 2)}\n`);
}

function shardText(s: ShardSpec | null): string {
  return s ? `shard ${s.index}/${s.count}` : "the whole grid";
}

/**
 * Whether a run of `want` may go on in the store at `dir`: "fresh" (no results yet), "resume" (the
 * same experiment), or "adopt" (a store without a manifest whose every cell belongs to this grid: a
 * store of this spec from before manifests). Anything else is refused with an InputError that says
 * what the folder holds and what to do.
 */
export function checkStoreFor(
  dir: string,
  want: Omit<StoreManifest, "format" | "version" | "createdAt">,
): "fresh" | "resume" | "adopt" {
  const have = readManifest(dir);
  const results = join(dir, RESULTS_FILE);
  const refuse = (what: string) =>
    new InputError(
      `this folder holds ${what}; results of two experiments are never merged: ` +
        "pass another --out, or --force-new to delete these results and start over",
      { file: dir },
    );
  if (have) {
    if (have.fingerprint !== want.fingerprint) {
      if (have.spec !== want.spec)
        throw refuse(`the results of another experiment (spec "${have.spec}"), not of spec "${want.spec}"`);
      throw refuse(
        have.codeVersion !== want.codeVersion
          ? `results of spec "${want.spec}" written by version ${have.codeVersion} (this is ${want.codeVersion}), another experiment`
          : `results of spec "${want.spec}" as it was before an edit (its settings differ: another experiment)`,
      );
    }
    if (stableStringify(have.shard) !== stableStringify(want.shard)) {
      throw new InputError(
        `this folder holds ${shardText(have.shard)} of spec "${want.spec}", not ${shardText(want.shard)}: ` +
          "each shard writes its own store (pass another --out); `report` merges them",
        { file: dir },
      );
    }
    return "resume";
  }
  if (!existsSync(results)) return "fresh";
  const grid = new Set(want.grid);
  const stored = new ResultsStore(results, { create: false }).read();
  if (stored.length === 0) return "fresh";
  const foreign = stored.filter((r) => !grid.has(r.key.id)).length;
  if (foreign > 0)
    throw refuse(
      `${stored.length} results without an ${MANIFEST_FILE}, ${foreign} of them not cells of spec "${want.spec}"'s grid (another experiment, or one written by an older version)`,
    );
  return "adopt";
}

/** What `--force-new` deletes: the store and what was made from it (source models are kept: they are keyed by content). */
const STORE_FILES = [
  RESULTS_FILE,
  MANIFEST_FILE,
  "provenance.json",
  "report.html",
  "report.md",
  "results.csv",
  "summary.json",
  "figures",
];

export function clearStore(dir: string): void {
  for (const f of STORE_FILES) rmSync(join(dir, f), { recursive: true, force: true });
}

/**
 * Check that stores can be merged into one report: each has a manifest, all have the same
 * fingerprint, no two hold the same shard, and no cell is in two of them. Returns the grid order
 * (cell id -> position) the merged cells are sorted by, so a merged report equals a single run's.
 */
export function checkMergeable(
  stores: { dir: string; manifest: StoreManifest | null; ids: string[] }[],
): Map<string, number> {
  const first = stores[0];
  const manifests = stores.map((s) => {
    if (!s.manifest)
      throw new InputError(
        "has no experiment.json, so which experiment it holds cannot be checked; only stores written with one can be merged",
        { file: s.dir },
      );
    return s.manifest;
  });
  const shards = new Map<string, string>();
  const cellIn = new Map<string, string>();
  stores.forEach((s, i) => {
    const m = manifests[i];
    if (m.fingerprint !== manifests[0].fingerprint)
      throw new InputError(
        `holds experiment "${m.spec}" (fingerprint ${m.fingerprint.slice(0, 12)}), ${first.dir} holds "${manifests[0].spec}" (${manifests[0].fingerprint.slice(0, 12)}): stores of different experiments are never merged`,
        { file: s.dir },
      );
    const shard = shardText(m.shard);
    const dup = shards.get(shard);
    if (dup !== undefined) throw new InputError(`holds ${shard}, as ${dup} does`, { file: s.dir });
    shards.set(shard, s.dir);
    for (const id of new Set(s.ids)) {
      const other = cellIn.get(id);
      if (other !== undefined)
        throw new InputError(`cell ${id} is also in ${other}: no cell may be merged twice`, { file: s.dir });
      cellIn.set(id, s.dir);
    }
  });
  return new Map(manifests[0].grid.map((id, i) => [id, i]));
}
