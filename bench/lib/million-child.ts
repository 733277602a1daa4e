import type { TokenSequences } from "../../src/concepts/vocabulary.js";
import { PAPER_SETTINGS, paperCnn, trainModel } from "../../src/model/index.js";
import { Rng } from "../../src/util/rng.js";

/*
 * Run by bench/cases/cnn-million.ts in its own process (so its peak RSS is this training's alone):
 * 1,000,000 encounters x 64 tokens over a 30,000-concept vocabulary with a frozen 768-dimensional
 * embedding, the paper's CNN and full schedule (50 epochs x 100 steps of 32, a validation pass per
 * epoch over the 20% held out). Tokens are uniform (as torch_scale.py draws them); each token has a
 * hidden score and an encounter's label follows the sum of its tokens' scores, so there is something
 * to learn. Prints one JSON line.
 */
const N = Number(process.env.MILLION_ENCOUNTERS ?? 1_000_000);
const L = 64;
const V = 30000;
const D = 768;

function encounters(
  rng: Rng,
  count: number,
  score: Float64Array,
): { seqs: TokenSequences; labels: Int32Array } {
  const tokens = new Uint32Array(count * L);
  const labels = new Int32Array(count);
  for (let n = 0; n < count; n++) {
    let s = 0;
    for (let t = 0; t < L; t++) {
      const v = 1 + rng.int(V);
      tokens[n * L + t] = v;
      s += score[v];
    }
    labels[n] = rng.next() < 1 / (1 + Math.exp(-s / 2)) ? 1 : 0;
  }
  const offsets = Uint32Array.from({ length: count + 1 }, (_, n) => n * L);
  return { seqs: { count, offsets, tokens }, labels };
}

const t0 = performance.now();
const rng = new Rng(2024);
const score = Float64Array.from({ length: V + 1 }, (_, v) => (v === 0 ? 0 : rng.normal()));
const data = new Float32Array((V + 1) * D);
for (let i = D; i < data.length; i++) data[i] = rng.normal();
const nVal = Math.floor(N * PAPER_SETTINGS.validationFraction);
const train = encounters(rng, N - nVal, score);
const validation = encounters(rng, nVal, score);
const built = (performance.now() - t0) / 1000;
const r = trainModel({
  architecture: paperCnn(D, 2),
  embedding: { rows: V + 1, dim: D, data },
  embeddingRef: { providerId: "bench:normal", dimension: D, trainable: false },
  classes: ["0", "1"],
  train,
  validation,
  settings: PAPER_SETTINGS,
  vocabulary: Array.from({ length: V }, (_, i) => ({ key: `t${i}`, text: `token ${i}` })),
});
console.log(
  JSON.stringify({
    encounters: N,
    data_seconds: built,
    train_seconds: r.seconds,
    engine: r.engine,
    epochs: r.history.length,
    best_validation_auroc: r.bestValidationAuroc,
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
  }),
);
