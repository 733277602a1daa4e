import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EmbeddingCache } from "../../src/embed/cache.js";

/**
 * Embedding cache: reading a provider's log from disk into a fresh cache object (what every run
 * does), at dimension 768 (BERT) and 128, and durable appends in batches of 256
 * (target: >= 200,000 reads/s). Best of 3 reads.
 */
async function measure(dim: number, n: number): Promise<{ reads: number; writes: number }> {
  const dir = mkdtempSync(join(tmpdir(), "cb-bench-cache-"));
  try {
    const id = "bench-provider";
    const writer = new EmbeddingCache(dir);
    const t0 = performance.now();
    for (let start = 0; start < n; start += 256) {
      const entries = [];
      for (let i = start; i < Math.min(n, start + 256); i++) {
        const v = new Float32Array(dim);
        for (let c = 0; c < dim; c++) v[c] = Math.sin(i + c) + 1.5;
        entries.push({ text: `concept text number ${i}`, vector: v });
      }
      writer.put(id, dim, entries);
    }
    const writeSeconds = (performance.now() - t0) / 1000;
    const texts = Array.from({ length: n }, (_, i) => `concept text number ${i}`);
    let best = Number.POSITIVE_INFINITY;
    for (let r = 0; r < 3; r++) {
      const t = performance.now();
      const got = new EmbeddingCache(dir).getMany(id, texts);
      if (got[n - 1] === undefined) throw new Error("cache lost a vector");
      best = Math.min(best, (performance.now() - t) / 1000);
    }
    return { reads: Math.round(n / best), writes: Math.round(n / writeSeconds) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<Record<string, number>> {
  const d768 = await measure(768, 50_000);
  const d128 = await measure(128, 50_000);
  return {
    cache_reads_per_second: d768.reads,
    cache_reads_per_second_dim128: d128.reads,
    cache_writes_per_second: d768.writes,
  };
}
