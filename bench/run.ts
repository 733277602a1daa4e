import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { pathToFileURL } from "node:url";
import { writeFileAtomic } from "../src/util/atomic-write.js";
import { PROJECT_ROOT } from "../src/util/paths.js";
import { codeVersionString } from "../src/util/version.js";

/**
 * `npm run bench [case ...]`: run every bench/cases/*.ts module (or those named, without .ts), each
 * exporting `run(): Promise<Record<string, number | string>>`, print each result and write the
 * merged object (all cases' fields at the top level, plus `_meta`) to bench/results/latest.json
 * atomically. A partial run updates the named cases' fields and keeps the others' from the previous
 * file; `_meta.cases` records when each case last ran and which fields it wrote.
 */
type Result = Record<string, number | string>;

const casesDir = join(PROJECT_ROOT, "bench", "cases");
const outFile = join(PROJECT_ROOT, "bench", "results", "latest.json");

async function main(): Promise<void> {
  const all = readdirSync(casesDir)
    .filter((f) => f.endsWith(".ts"))
    .map((f) => basename(f, ".ts"))
    .sort();
  const wanted = process.argv.slice(2).map((a) => basename(a, ".ts"));
  const unknown = wanted.filter((w) => !all.includes(w));
  if (unknown.length > 0) {
    console.error(`unknown bench case(s): ${unknown.join(", ")}; available: ${all.join(", ")}`);
    process.exit(2);
  }
  const names = wanted.length > 0 ? wanted : all;
  const previous = (existsSync(outFile) ? JSON.parse(readFileSync(outFile, "utf8")) : {}) as Result & {
    _meta?: { cases?: Record<string, unknown> };
  };
  const { _meta: prevMeta, ...prevResults } = previous;
  const results: Result = { ...prevResults };
  const cases: Record<string, unknown> = { ...(prevMeta?.cases ?? {}) };
  let failed = 0;
  for (const name of names) {
    const mod = (await import(pathToFileURL(join(casesDir, `${name}.ts`)).href)) as {
      run?: () => Promise<Result>;
    };
    if (typeof mod.run !== "function") {
      console.error(`${name}: no exported run(), skipped`);
      continue;
    }
    console.error(`== ${name}`);
    const t0 = performance.now();
    try {
      const r = await mod.run();
      const seconds = (performance.now() - t0) / 1000;
      for (const [k, v] of Object.entries(r)) console.log(`${name}  ${k} = ${v}`);
      Object.assign(results, r);
      cases[name] = {
        ranAt: new Date().toISOString(),
        seconds: Math.round(seconds * 10) / 10,
        fields: Object.keys(r),
      };
    } catch (e) {
      failed++;
      console.error(`${name} failed: ${(e as Error).stack ?? e}`);
      cases[name] = { ranAt: new Date().toISOString(), error: String((e as Error).message ?? e) };
    }
  }
  const doc = { ...results, _meta: { code: codeVersionString(), node: process.version, cases } };
  await writeFileAtomic(outFile, `${JSON.stringify(doc, null, 2)}\n`);
  console.error(`wrote ${outFile}`);
  if (failed > 0) process.exit(1);
}

await main();
