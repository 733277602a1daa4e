import type { TokenSequences } from "../../concepts/vocabulary.js";
import type { Rng } from "../../util/rng.js";
import type { ModelParams } from "../params.js";
import type { TrainSettings } from "../train-settings.js";
import type { ModelArchitecture } from "../types.js";
import type { OptimizerConfig } from "./optimizer.js";

/**
 * A training engine: owns the weights in whatever form makes its steps fast, and can hand back a
 * checkpoint and turn a checkpoint into plain ModelParams. train.ts drives it (sampling, epochs,
 * validation, best-weight selection) and never looks inside.
 */
export interface Engine<Checkpoint> {
  readonly name: EngineName;
  /** One optimisation step on training encounters idx[start .. start + nb); returns the batch loss. */
  step(idx: Uint32Array, start: number, nb: number): number;
  /** Class probabilities (N x C row-major), eval mode. */
  probs(seqs: TokenSequences): Float64Array;
  /** A copy of the current weights. */
  capture(): Checkpoint;
  /** Plain weights (and the tuned embedding, rows x D, when the embedding is trained) of a checkpoint. */
  export(cp: Checkpoint): { params: ModelParams; embedding: Float64Array | null };
}

export type EngineName = "direct" | "factorized" | "subspace" | "screened" | "logistic";

/** What every engine is built from. */
export interface EngineInput {
  params: ModelParams;
  /** rows x D embedding (row 0 = padding, zero). */
  embedding: Float32Array | Float64Array;
  rows: number;
  train: { seqs: TokenSequences; labels: Int32Array };
  classWeights: Float64Array | null;
  trainEmbedding: boolean;
  trainConv: boolean;
  trainDense: boolean;
  /** Draws the dropout masks (both CNN engines draw identically, so their trajectories match). */
  dropoutRng: Rng;
}

/** What the engine choice looks at besides the settings and the architecture. */
export interface EngineProblem {
  rows: number;
  /** Mean tokens per training encounter. */
  meanTokens: number;
  /** Fraction of non-zero embedding entries (one-hot: 1 / D). */
  density: number;
}

/**
 * An engine as the choice sees it (engines/choose.ts): whether it can train a given setting exactly,
 * what that would cost, and how to build it. Each engine file exports its own.
 */
export interface EngineSpec {
  readonly name: EngineName;
  /** true, or why not (a phrase completing "the <name> engine ..."). */
  supports(settings: TrainSettings, arch: ModelArchitecture, problem: EngineProblem): true | string;
  /** Estimated multiply-adds of the whole training (setup and steps); only compared across engines. */
  cost(settings: TrainSettings, arch: ModelArchitecture, problem: EngineProblem): number;
  create(input: EngineInput, config: OptimizerConfig): Engine<unknown>;
}
