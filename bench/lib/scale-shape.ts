import type { TokenSequences } from "../../src/concepts/vocabulary.js";
import { paperCnn } from "../../src/model/architecture.js";
import { chooseEngine } from "../../src/model/engines/choose.js";
import { DirectCnnEngine } from "../../src/model/engines/direct.js";
import type { Engine, EngineInput } from "../../src/model/engines/engine.js";
import { optimizerConfig } from "../../src/model/engines/optimizer.js";
import { ScreenedCnnEngine } from "../../src/model/engines/screened.js";
import { initParams } from "../../src/model/params.js";
import { trainSettings } from "../../src/model/train-settings.js";
import { Rng } from "../../src/util/rng.js";

/*
 * The large-vocabulary shape as ../shared/bench/torch_scale.py times it: V tokens of dimension D
 * (a normal(0, 1) table, torch's nn.Embedding initialisation, padding row 0), batches of B encounters
 * of L token ids drawn uniformly from 1..V, random labels, the paper's CNN (kernel 1, 100 filters,
 * dropout 0.5) with SGD lr 1e-3, momentum 0.9 Nesterov, weight decay 1e-3; frozen or trained
 * embedding. Timing as the peer's: warm-up steps, then the median of 5 blocks, ms per step.
 */
export interface ScaleShape {
  vocab: number;
  dim: number;
  tokens: number;
  batch: number;
  filters: number;
  trainable: boolean;
}

export function scaleProblem(shape: ScaleShape, encounters: number, seed = 1): EngineInput {
  const rng = new Rng(seed);
  const rows = shape.vocab + 1;
  const E = new Float32Array(rows * shape.dim);
  for (let i = shape.dim; i < E.length; i++) E[i] = rng.normal();
  const L = shape.tokens;
  const tokens = new Uint32Array(encounters * L);
  for (let i = 0; i < tokens.length; i++) tokens[i] = 1 + rng.int(shape.vocab);
  const offsets = Uint32Array.from({ length: encounters + 1 }, (_, n) => n * L);
  const seqs: TokenSequences = { count: encounters, offsets, tokens };
  const labels = Int32Array.from({ length: encounters }, () => rng.int(2));
  const arch = { ...paperCnn(shape.dim, 2), filters: [shape.filters] };
  return {
    params: initParams(arch, rng.fork("init")),
    embedding: E,
    rows,
    train: { seqs, labels },
    classWeights: null,
    trainEmbedding: shape.trainable,
    trainConv: true,
    trainDense: true,
    dropoutRng: rng.fork("dropout"),
  };
}

export const SCALE_SETTINGS = (trainable: boolean) =>
  trainSettings({
    lr: 1e-3,
    momentum: 0.9,
    nesterov: true,
    weightDecay: 1e-3,
    freeze: { embedding: !trainable },
  });

/** The engine trainModel would pick for this shape, and a constructor for it or the direct one. */
export function scaleEngine(input: EngineInput, which: "auto" | "direct"): Engine<unknown> {
  const settings = SCALE_SETTINGS(input.trainEmbedding);
  const cfg = optimizerConfig(settings);
  if (which === "direct") return new DirectCnnEngine(input, cfg) as Engine<unknown>;
  const arch = input.params.arch;
  const name = chooseEngine(settings, arch, {
    rows: input.rows,
    meanTokens: input.train.seqs.offsets[1],
    density: 1,
  });
  if (name !== "screened") throw new Error(`expected the screened engine for this shape, got ${name}`);
  return new ScreenedCnnEngine(input, cfg) as Engine<unknown>;
}

/** ms per step: `warm` steps, then the median of 5 blocks of `block` steps (batches of B random encounters). */
export function timeSteps(
  engine: Engine<unknown>,
  input: EngineInput,
  B: number,
  warm: number,
  block: number,
): number {
  const rng = new Rng(77);
  const N = input.train.seqs.count;
  const step = () => engine.step(rng.permutation(N).subarray(0, B), 0, B);
  for (let i = 0; i < warm; i++) step();
  const times: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    for (let i = 0; i < block; i++) step();
    times.push((performance.now() - t0) / block);
  }
  times.sort((a, b) => a - b);
  return times[2];
}
