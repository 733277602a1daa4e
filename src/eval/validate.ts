import { InputError } from "../util/errors.js";

/**
 * Input checks shared by every metric. Metrics are called on predictions read back from results
 * files, so a wrong length, a label outside the classes or a NaN score is reported as an InputError
 * naming the argument instead of silently producing a number.
 */

/** Labels must be 0/1; returns the number of positives. */
export function checkBinaryLabels(labels: ArrayLike<number>, field = "labels"): number {
  let positives = 0;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (y === 1) positives++;
    else if (y !== 0) throw new InputError(`label ${i} is ${y}; binary labels must be 0 or 1`, { field });
  }
  return positives;
}

/** Labels must be class indices 0..classes-1; returns the count per class. */
export function checkClassLabels(labels: ArrayLike<number>, classes: number, field = "labels"): number[] {
  if (!Number.isInteger(classes) || classes < 2) {
    throw new InputError(`need at least 2 classes, got ${classes}`, { field: "classes" });
  }
  const counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= classes) {
      throw new InputError(`label ${i} is ${y}; expected a class index in 0..${classes - 1}`, { field });
    }
    counts[y]++;
  }
  return counts;
}

export function checkSameLength(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  width = 1,
  field = "scores",
): void {
  if (labels.length === 0) throw new InputError("no predictions to evaluate", { field: "labels" });
  if (scores.length !== labels.length * width) {
    const expected =
      width === 1 ? `${labels.length}` : `${labels.length} x ${width} = ${labels.length * width}`;
    throw new InputError(
      `has ${scores.length} values but there are ${labels.length} labels (expected ${expected})`,
      {
        field,
      },
    );
  }
}

export function checkFinite(scores: ArrayLike<number>, field = "scores"): void {
  for (let i = 0; i < scores.length; i++) {
    if (!Number.isFinite(scores[i]))
      throw new InputError(`value ${i} is ${scores[i]}; scores must be finite`, { field });
  }
}

export function checkProbabilities(probs: ArrayLike<number>, field = "probabilities"): void {
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i];
    if (!(p >= 0 && p <= 1))
      throw new InputError(`value ${i} is ${p}; probabilities must lie in [0, 1]`, { field });
  }
}

/** AUROC and DeLong need both classes; sklearn raises in the same situation. */
export function requireBothClasses(positives: number, total: number, what: string): void {
  if (positives === 0 || positives === total) {
    throw new InputError(
      `${what} is undefined: the labels contain only ${positives === 0 ? "negatives" : "positives"} (${total} predictions)`,
      { field: "labels" },
    );
  }
}
