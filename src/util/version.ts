import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_ROOT } from "./paths.js";

const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8")) as { version: string };

/** Package version; results and bundles record it with the git commit when one is available. */
export const CODE_VERSION: string = pkg.version;

let cachedCommit: string | null | undefined;
/** The git commit of the code (plus "-dirty" when the tree has changes), or null outside a checkout. */
export function codeCommit(): string | null {
  if (cachedCommit !== undefined) return cachedCommit;
  try {
    const head = execFileSync("git", ["rev-parse", "HEAD"], {
      cwd: PROJECT_ROOT,
      stdio: ["ignore", "pipe", "ignore"],
    })
      .toString()
      .trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], {
      cwd: PROJECT_ROOT,
      stdio: ["ignore", "pipe", "ignore"],
    })
      .toString()
      .trim();
    cachedCommit = dirty ? `${head}-dirty` : head;
  } catch {
    cachedCommit = null;
  }
  return cachedCommit;
}

export function codeVersionString(): string {
  const c = codeCommit();
  return c ? `${CODE_VERSION}+${c.slice(0, 12)}` : CODE_VERSION;
}
