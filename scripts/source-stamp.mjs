// The fingerprint of what `npm run build` compiles: SHA-256 over every file under src/ (path and
// bytes, in sorted order) and the tsconfig files. `npm run build` writes it to dist/source-stamp.json
// (`node scripts/source-stamp.mjs write`); scripts/start.mjs runs dist/ only when it still matches,
// so an edited source is never run as its stale build. Plain JavaScript: it runs before any loader.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
export const STAMP = join(ROOT, "dist", "source-stamp.json");

function files(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...files(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

export function sourceStamp() {
  const h = createHash("sha256");
  const paths = [...files(join(ROOT, "src")), join(ROOT, "tsconfig.json"), join(ROOT, "tsconfig.build.json")];
  for (const p of paths.map((p) => relative(ROOT, p)).sort()) {
    h.update(`${p}\0`);
    h.update(readFileSync(join(ROOT, p)));
    h.update("\0");
  }
  return h.digest("hex");
}

/** Whether dist/ was built from the sources as they are now. */
export function distIsFresh() {
  try {
    return JSON.parse(readFileSync(STAMP, "utf8")).sha256 === sourceStamp();
  } catch {
    return false;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === "write") {
  const tmp = `${STAMP}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ sha256: sourceStamp() })}\n`);
  renameSync(tmp, STAMP);
}
