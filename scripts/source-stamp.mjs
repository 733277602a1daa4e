// The fingerprint of what `npm run build` compiles: SHA-256 over every file under src/ (path and
// bytes, in sorted order) and the tsconfig files. `npm run build` writes it to dist/source-stamp.json
// (`node scripts/source-stamp.mjs write`); scripts/start.mjs runs dist/ only when it still matches,
// so an edited source is never run as its stale build. Plain JavaScript: it runs before any loader.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

function files(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...files(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

const stampFile = (root) => join(root, "dist", "source-stamp.json");

export function sourceStamp(root = ROOT) {
  const h = createHash("sha256");
  const paths = [...files(join(root, "src")), join(root, "tsconfig.json"), join(root, "tsconfig.build.json")];
  for (const p of paths.map((p) => relative(root, p)).sort()) {
    h.update(`${p}\0`);
    h.update(readFileSync(join(root, p)));
    h.update("\0");
  }
  return h.digest("hex");
}

/** Whether dist/ was built from the sources as they are now (false when no stamp was written). */
export function distIsFresh(root = ROOT) {
  try {
    return JSON.parse(readFileSync(stampFile(root), "utf8")).sha256 === sourceStamp(root);
  } catch {
    return false;
  }
}

/** Write dist/source-stamp.json (temp file, then rename). */
export function writeStamp(root = ROOT) {
  const file = stampFile(root);
  writeFileSync(`${file}.tmp`, `${JSON.stringify({ sha256: sourceStamp(root) })}\n`);
  renameSync(`${file}.tmp`, file);
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === "write") writeStamp();
