import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { InputError } from "./errors.js";

/**
 * An exclusive lock file: created with O_EXCL, so of two processes (or two runs in one process)
 * that try to take it at once exactly one succeeds; the other stops at once with a message naming the
 * holder. A lock left by a process that died (Ctrl-C, kill -9) on this host is taken over; one held
 * on another host (a shared file system) is not, because its liveness cannot be checked from here.
 */
export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
  /** What the holder is doing (e.g. "conceptbridge run spec.yaml"). */
  purpose?: string;
}

export interface Lock {
  path: string;
  release(): void;
}

/** Lock files this process holds right now (a second run in the same process must not pass). */
const held = new Set<string>();

export function acquireLock(path: string, purpose: string): Lock {
  for (let attempt = 0; attempt < 2; attempt++) {
    const me: LockHolder = {
      pid: process.pid,
      host: hostname(),
      startedAt: new Date().toISOString(),
      purpose,
    };
    let fd: number;
    try {
      fd = openSync(path, "wx");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const holder = readHolder(path);
      if (holder && isStale(holder, path)) {
        rmSync(path, { force: true });
        continue;
      }
      throw new InputError(
        `${lockedMessage(holder)}; wait for it to finish, or remove ${path} if it is gone`,
        {
          file: path,
        },
      );
    }
    try {
      writeSync(fd, `${JSON.stringify(me)}\n`);
    } finally {
      closeSync(fd);
    }
    held.add(path);
    let released = false;
    return {
      path,
      release() {
        if (released) return;
        released = true;
        held.delete(path);
        rmSync(path, { force: true });
      },
    };
  }
  throw new InputError("cannot take the lock (another process keeps taking it)", { file: path });
}

/** Who holds a lock, or null when it is free (or its holder died on this host). */
export function lockHolder(path: string): LockHolder | null {
  const h = readHolder(path);
  if (h === undefined) return null;
  return h && isStale(h, path) ? null : (h ?? { pid: 0, host: "?", startedAt: "?" });
}

export function lockedMessage(h: LockHolder | null | undefined): string {
  if (!h) return "in use by another process (its lock file cannot be read)";
  const what = h.purpose ? ` (${h.purpose})` : "";
  return `in use by process ${h.pid} on ${h.host}${what} since ${h.startedAt}`;
}

/** undefined: no lock file; null: a lock file that cannot be parsed (being written, or damaged). */
function readHolder(path: string): LockHolder | null | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    return null;
  }
  try {
    const h = JSON.parse(text) as LockHolder;
    return typeof h.pid === "number" && typeof h.host === "string" ? h : null;
  } catch {
    return null;
  }
}

function isStale(h: LockHolder, path: string): boolean {
  if (h.host !== hostname()) return false;
  if (h.pid === process.pid) return !held.has(path);
  try {
    process.kill(h.pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ESRCH";
  }
}
