import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { SiteDatasetBuilder } from "../../src/data/builder.js";
import type { SiteDataset } from "../../src/data/types.js";
import { Rng } from "../../src/util/rng.js";

/**
 * Memory of the site data model at scale: 1,000,000 encounters x 64 observations (issue 2: < 1 GB).
 * Built through SiteDatasetBuilder, as every adapter does, with ids, groups, periods and labels.
 * Reports the retained size (heap + array buffers after a full GC) and the peak RSS growth.
 */
function gcFunction(): (() => void) | null {
  try {
    setFlagsFromString("--expose-gc");
    return runInNewContext("gc") as () => void;
  } catch {
    return null;
  }
}

function used(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

export async function run(): Promise<Record<string, number>> {
  const gc = gcFunction();
  gc?.();
  const before = used();
  const rssBefore = process.memoryUsage().rss;
  let peakRss = rssBefore;
  const N = 1_000_000;
  const K = 64;
  const t0 = performance.now();
  const b = new SiteDatasetBuilder("scale", { expectedEncounters: N, expectedObservations: N * K });
  const concepts = Array.from({ length: 200 }, (_, c) =>
    b.addConcept({ code: `C${c}`, text: `concept ${c}` }),
  );
  const types = concepts.flatMap((c) => [b.typeId(c, { kind: "present" }), b.typeId(c, { kind: "absent" })]);
  const rng = new Rng(1);
  const periods = ["2019-20", "2020-21", "2021-22"];
  const labels = ["I", "M", "P", "R"];
  for (let i = 0; i < N; i++) {
    b.beginEncounter(`E${i}`, { label: labels[i & 3], group: `P${i >> 1}`, period: periods[i % 3] });
    for (let k = 0; k < K; k++) b.addObservation(types[rng.nextU32() % types.length]);
    if ((i & 0xffff) === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }
  const ds: SiteDataset = b.build({ adapter: "bench", files: [] });
  const buildSeconds = (performance.now() - t0) / 1000;
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  gc?.();
  const retained = used() - before;
  if (ds.encounters.observations.length !== N * K) throw new Error("bench built the wrong size");
  return {
    memory_1m_x64_retained_mb: retained / 2 ** 20,
    memory_1m_x64_peak_rss_growth_mb: (peakRss - rssBefore) / 2 ** 20,
    memory_1m_x64_build_seconds: buildSeconds,
    memory_gc_available: gc ? 1 : 0,
  };
}
