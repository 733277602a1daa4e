import { InputError } from "../util/errors.js";
import type { ModelArchitecture } from "./types.js";

export type CnnArchitecture = Extract<ModelArchitecture, { kind: "concept-cnn" }>;
export type LogisticArchitecture = Extract<ModelArchitecture, { kind: "mean-logistic" }>;

/** The paper's concept CNN: one conv branch of kernel size 1 with 100 filters, dropout 0.5. */
export function paperCnn(embeddingDim: number, numClasses: number): CnnArchitecture {
  return { kind: "concept-cnn", embeddingDim, kernelSizes: [1], filters: [100], numClasses, dropout: 0.5 };
}

/** Kim-style text CNN: branches of kernel sizes 2, 3 and 4 with 100 filters each. */
export function kimCnn(embeddingDim: number, numClasses: number): CnnArchitecture {
  return {
    kind: "concept-cnn",
    embeddingDim,
    kernelSizes: [2, 3, 4],
    filters: [100, 100, 100],
    numClasses,
    dropout: 0.5,
  };
}

/** Baseline: multinomial logistic regression on the mean token embedding of an encounter. */
export function meanLogistic(embeddingDim: number, numClasses: number): LogisticArchitecture {
  return { kind: "mean-logistic", embeddingDim, numClasses };
}

/** Check an architecture's numbers; InputError naming the field otherwise. */
export function validateArchitecture(a: ModelArchitecture, file?: string): void {
  const bad = (field: string, msg: string): never => {
    throw new InputError(msg, { file, field: `architecture.${field}` });
  };
  if (!Number.isInteger(a.embeddingDim) || a.embeddingDim < 1)
    bad("embeddingDim", "must be a positive integer");
  if (!Number.isInteger(a.numClasses) || a.numClasses < 2) bad("numClasses", "must be an integer >= 2");
  if (a.kind === "concept-cnn") {
    if (a.kernelSizes.length === 0) bad("kernelSizes", "needs at least one conv branch");
    if (a.filters.length !== a.kernelSizes.length) bad("filters", "must have one entry per kernel size");
    for (const k of a.kernelSizes)
      if (!Number.isInteger(k) || k < 1) bad("kernelSizes", "must be positive integers");
    for (const f of a.filters) if (!Number.isInteger(f) || f < 1) bad("filters", "must be positive integers");
    if (!(a.dropout >= 0 && a.dropout < 1)) bad("dropout", "must be in [0, 1)");
  }
}
