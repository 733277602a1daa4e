import { existsSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
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

/**
 * Resolve a user-given data path: `shared:<rel>` points into the shared public data folder; other
 * relative paths are relative to `baseDir` (a spec file's folder, so a spec travels with its files).
 */
export function resolveDataPath(p: string, baseDir = "."): string {
  if (p.startsWith("shared:")) return sharedData(p.slice("shared:".length));
  return isAbsolute(p) ? p : resolve(baseDir, p);
}
