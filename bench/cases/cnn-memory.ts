import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { TokenSequences } from "../../src/concepts/vocabulary.js";
import { paperCnn } from "../../src/model/architecture.js";
import { predictProba } from "../../src/model/predict.js";
import { trainModel } from "../../src/model/train.js";
import { trainSettings } from "../../src/model/train-settings.js";
import { Rng } from "../../src/util/rng.js";

/*
 * Training the paper's CNN on 1,000,000 synthetic encounters x 64 tokens (vocabulary 1,000, BERT-sized
 * 768-dimensional embeddings; 80% train, 20% validation) for 300 iterations with a validation pass per
 * 100: peak RSS must stay < 2 GB. Runs in a child process so the peak is this workload's alone.
 */
const N = 1_000_000;
const L = 64;
const V = 1000;
const D = 768;

export async function run(): Promise<Record<string, number | string>> {
  const self = fileURLToPath(import.meta.url);
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", self, "--child"], {
    maxBuffer: 1 << 20,
    env: { ...process.env, CONCEPTBRIDGE_QUIET: "1" },
  });
  return JSON.parse(stdout.trim().split("\n").pop()!) as Record<string, number | string>;
}

/** n encounters of L distinct tokens; label 1 when the encounter holds more "risk" tokens than usual. */
function synthetic(rng: Rng, n: number): { seqs: TokenSequences; labels: Int32Array } {
  const offsets = new Uint32Array(n + 1);
  const tokens = new Uint32Array(n * L);
  const labels = new Int32Array(n);
  const seen = new Uint8Array(V + 1);
  for (let i = 0; i < n; i++) {
    let risk = 0;
    const base = i * L;
    for (let t = 0; t < L; t++) {
      let v = 1 + rng.int(V);
      while (seen[v]) v = 1 + rng.int(V);
      seen[v] = 1;
      tokens[base + t] = v;
      if (v <= 50) risk++;
    }
    for (let t = 0; t < L; t++) seen[tokens[base + t]] = 0;
    offsets[i + 1] = base + L;
    labels[i] = risk + rng.normal() > 4 ? 1 : 0;
  }
  return { seqs: { count: n, offsets, tokens }, labels };
}

function child(): void {
  const rng = new Rng(1);
  const data = new Float32Array((V + 1) * D);
  for (let i = D; i < data.length; i++) data[i] = rng.normal() * 0.1;
  const embedding = { rows: V + 1, dim: D, data };
  const train = synthetic(rng, (N * 4) / 5);
  const validation = synthetic(rng, N / 5);
  const iterations = 300;
  const r = trainModel({
    architecture: paperCnn(D, 2),
    embedding,
    embeddingRef: { providerId: "synthetic", dimension: D, trainable: false },
    classes: ["0", "1"],
    train,
    validation,
    settings: trainSettings({ epochs: 3, itersPerEpoch: iterations / 3 }),
    vocabulary: Array.from({ length: V }, (_, i) => ({ key: `t${i}`, text: `token ${i}` })),
  });
  const t0 = performance.now();
  predictProba(r.snapshot, embedding, validation.seqs);
  const predictSeconds = (performance.now() - t0) / 1000;
  const rssMb = process.resourceUsage().maxRSS / 1024;
  console.log(
    JSON.stringify({
      cnn_memory_encounters: N,
      cnn_memory_tokens_per_encounter: L,
      cnn_memory_peak_rss_mb: Math.round(rssMb),
      cnn_memory_under_2gb: rssMb < 2048 ? "yes" : "no",
      cnn_memory_iterations: iterations,
      cnn_memory_train_seconds: Math.round(r.seconds * 100) / 100,
      cnn_memory_val_auroc: Math.round(r.bestValidationAuroc * 10000) / 10000,
      cnn_memory_engine: r.engine,
      cnn_memory_predict_encounters_per_second: Math.round(validation.seqs.count / predictSeconds),
    }),
  );
}

if (process.argv.includes("--child") && process.argv[1] === fileURLToPath(import.meta.url)) child();
