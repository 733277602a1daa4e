import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { PROJECT_ROOT } from "../../src/util/paths.js";

/*
 * A real site's volume: 1,000,000 encounters x 64 tokens, a 30,000-concept vocabulary at 768
 * dimensions, the paper's full schedule (50 x 100 steps, a validation pass per epoch). Goal: under
 * 3 minutes and under 2 GB RSS. The training runs in a child process (bench/lib/million-child.ts),
 * whose peak RSS is the training's own; MILLION_ENCOUNTERS overrides the count for a quick look.
 */
export async function run(): Promise<Record<string, number | string>> {
  const child = join(PROJECT_ROOT, "bench", "lib", "million-child.ts");
  const tsx = join(PROJECT_ROOT, "node_modules", ".bin", "tsx");
  const t0 = performance.now();
  const { stdout } = await promisify(execFile)(tsx, [child], { maxBuffer: 1 << 20, env: process.env });
  const wall = (performance.now() - t0) / 1000;
  const r = JSON.parse(stdout.trim().split("\n").pop()!) as Record<string, number | string>;
  console.error(`1M: ${JSON.stringify(r)}`);
  return {
    million_encounters: r.encounters,
    million_engine: r.engine,
    million_train_seconds: round(r.train_seconds as number),
    million_data_seconds: round(r.data_seconds as number),
    million_process_seconds: round(wall),
    million_peak_rss_mb: round(r.peak_rss_mb as number),
    million_epochs: r.epochs,
    million_best_validation_auroc: round(r.best_validation_auroc as number, 4),
  };
}

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
