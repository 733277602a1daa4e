import { bootstrapAurocCI } from "../../src/eval/bootstrap.js";
import { Rng } from "../../src/util/rng.js";

/**
 * Stratified AUROC bootstrap of 10,000 predictions x 2,000 resamples (issue 6 target: < 2 s).
 * Scores are rounded to 0.01 so ties occur as in real model output.
 */
export async function run(): Promise<Record<string, number>> {
  const n = 10_000;
  const rng = new Rng(20241125);
  const labels = new Int32Array(n);
  const scores = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = rng.next() < 0.25 ? 1 : 0;
    scores[i] = Math.round((1 / (1 + Math.exp(-(labels[i] * 1.2 - 0.8 + rng.normal())))) * 100) / 100;
  }
  const start = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  const ci = bootstrapAurocCI(labels, scores, { resamples: 2000, seed: 1 });
  const cpu = process.cpuUsage(cpuStart);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (!(ci.lower < ci.estimate && ci.estimate < ci.upper))
    throw new Error("bootstrap interval does not bracket the estimate");
  // CPU seconds too: on a shared machine the wall time includes waiting for a core.
  return { bootstrap_seconds: seconds, bootstrap_cpu_seconds: (cpu.user + cpu.system) / 1e6 };
}

// Allow `npx tsx bench/cases/eval-bootstrap.ts` on its own.
if (import.meta.url === `file://${process.argv[1]}`) {
  run().then((r) => console.log(JSON.stringify(r)));
}
