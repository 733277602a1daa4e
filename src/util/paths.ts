import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Root of this package (where package.json is), whether run from src/ via tsx or from dist/. */
export const PROJECT_ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));

/**
 * The read-only shared data folder beside the project root (`../shared/data`). Overridable with
 * CONCEPTBRIDGE_SHARED_DATA for users who keep the public files elsewhere.
 */
export function sharedDataDir(): string {
  return process.env.CONCEPTBRIDGE_SHARED_DATA ?? resolve(PROJECT_ROOT, "..", "shared", "data");
}

export function sharedData(...parts: string[]): string {
  return join(sharedDataDir(), ...parts);
}

function findRoot(start: string): string {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, "package.json"))) return dir;
    const up = dirname(dir);
    if (up === dir) return start;
    dir = up;
  }
}
