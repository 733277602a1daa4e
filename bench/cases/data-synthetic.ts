import { generateWorld } from "../../src/data/synthetic/world.js";

/** Generating the default synthetic world (2 sites x 5,000 encounters; target < 1 s). Best of 3. */
export async function run(): Promise<Record<string, number>> {
  generateWorld();
  let best = Number.POSITIVE_INFINITY;
  for (let k = 0; k < 3; k++) {
    const t = performance.now();
    generateWorld();
    best = Math.min(best, (performance.now() - t) / 1000);
  }
  return { synthetic_default_world_seconds: best };
}
