import { type LabeledSequences, subsetLabeled } from "../concepts/sequences.js";
import { stratifiedSplit, subsampleStratified } from "../data/splits.js";

/**
 * How a site's training pool becomes the data one model sees: a stratified learning-curve subsample
 * (nested across sizes for one seed), then a stratified train / validation split (the validation
 * part picks the epoch). Both seeded, so every arm of a seed at one target sees the same encounters.
 */

export interface TrainValidation {
  train: LabeledSequences;
  validation: LabeledSequences;
}

/** Stratified train / validation split of a pool. */
export function trainValidationSplit(
  pool: LabeledSequences,
  validationFraction: number,
  seed: number,
): TrainValidation {
  const [train, validation] = stratifiedSplit(
    pool.labels,
    [1 - validationFraction, validationFraction],
    seed,
  );
  return { train: subsetLabeled(pool, train), validation: subsetLabeled(pool, validation) };
}

/** The arm's target training data: the whole pool, or a stratified subsample of the given size. */
export function subsamplePool(pool: LabeledSequences, size: number | "all", seed: number): LabeledSequences {
  if (size === "all" || size >= pool.labels.length) return pool;
  const all = new Uint32Array(pool.labels.length);
  for (let i = 0; i < all.length; i++) all[i] = i;
  return subsetLabeled(pool, subsampleStratified(all, pool.labels, size, seed));
}
