import type { PostprocessJson } from "../embed/postprocess.js";
/**
 * What a trained model is, independent of how it was trained: the architecture, the weights and the
 * embedding it expects. Model files, bundles and transfer scenarios all speak in these types.
 */

/** The paper's concept CNN, or the logistic-regression baseline on the mean token embedding. */
export type ModelArchitecture =
  | {
      kind: "concept-cnn";
      embeddingDim: number;
      /** One conv branch per kernel size (paper: [1]; Kim-style: [2, 3, 4]). */
      kernelSizes: number[];
      /** Filters per branch, same length as kernelSizes (paper: [100]). */
      filters: number[];
      numClasses: number;
      dropout: number;
    }
  | { kind: "mean-logistic"; embeddingDim: number; numClasses: number };

/** A dense float tensor, row-major. */
export interface Tensor {
  shape: number[];
  data: Float32Array;
}

/** The embedding a model was trained with: transfer re-embeds the target's tokens with the same provider. */
export interface EmbeddingRef {
  /** providerId(info) of src/embed/types.ts. */
  providerId: string;
  dimension: number;
  /** Whether the embedding matrix itself was tuned (then `weights.embedding` holds it). */
  trainable: boolean;
  /** The embedding's fitted postprocess transform (embed/postprocess.ts), when its id names one. */
  postprocess?: PostprocessJson;
}

export interface ModelSnapshot {
  format: "conceptbridge.model";
  version: 1;
  architecture: ModelArchitecture;
  /**
   * Named weights. concept-cnn: `conv{k}.weight` [kernel, D, F] and `conv{k}.bias` [F] per branch k,
   * `dense.weight` [sum(F), C], `dense.bias` [C]; mean-logistic: `dense.weight` [D, C], `dense.bias` [C].
   */
  weights: Record<string, Tensor>;
  embedding: EmbeddingRef;
  /** Class names in output order. */
  classes: string[];
  /** Source vocabulary (token key and text per model token id - 1); no patient data. */
  vocabulary: { key: string; text: string }[];
}
