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
} from "node:fs";
import { dirname } from "node:path";
import { InputError } from "../util/errors.js";
import { CellResult } from "./results.js";

/**
 * The results store: JSON lines, one finished cell each, appended with a single write so a killed
 * run (Ctrl-C, kill -9) leaves at most one torn last line, which is cut off before the next append.
 * Rerunning a spec skips every cell id already stored.
 */
export class ResultsStore {
  readonly path: string;

  constructor(path: string) {
    this.path = path;
    mkdirSync(dirname(path), { recursive: true });
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
