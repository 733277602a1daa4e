// `npm start`: the demo (conceptbridge demo), from the build in dist/ when it was built from the
// sources as they are (scripts/source-stamp.mjs), else from src/ through tsx. Both run the same code;
// the build needs no TypeScript loader in the main thread or in each worker thread, which measured
// 65 MB less at the peak (600 -> 535 MB, before the report's figures moved to workers).
// It never rebuilds (tsc alone peaks at 1.5 GB): after an edit, `npm run build` brings dist/ back.

import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { distIsFresh, ROOT } from "./source-stamp.mjs";

const args = process.argv.slice(2);
const fresh = distIsFresh();
const main = fresh ? join(ROOT, "dist", "cli", "main.js") : join(ROOT, "src", "cli", "main.ts");
if (!fresh) {
  process.stderr.write("dist/ is older than src/ (npm run build refreshes it): running from source\n");
  const { register } = await import("tsx/esm/api");
  register();
}
process.argv = [process.argv[0], main, "demo", ...args];
await import(pathToFileURL(main).href);
