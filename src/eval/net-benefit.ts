import { InputError } from "../util/errors.js";
import { checkBinaryLabels, checkProbabilities, checkSameLength } from "./validate.js";

/**
 * Decision-curve analysis (Vickers & Elkin 2006): the net benefit of treating the encounters whose
 * predicted risk is at or above a threshold t, NB(t) = TP/n - FP/n * t / (1 - t), beside "treat all"
 * (prevalence - (1 - prevalence) t / (1 - t)) and "treat none" (0). A model is useful at t when its
 * curve lies above both.
 */
export interface NetBenefitPoint {
  threshold: number;
  netBenefit: number;
  treatAll: number;
  /** The 2x2 table at this threshold (for the small-cell rule of whoever publishes the curve). */
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

export function netBenefitCurve(
  labels: ArrayLike<number>,
  probs: ArrayLike<number>,
  thresholds: readonly number[],
): NetBenefitPoint[] {
  checkSameLength(labels, probs, 1, "probabilities");
  checkProbabilities(probs);
  const positives = checkBinaryLabels(labels);
  const n = labels.length;
  if (n === 0) throw new InputError("net benefit needs predictions", { field: "probabilities" });
  const prevalence = positives / n;
  return thresholds.map((t) => {
    if (!(t > 0 && t < 1)) throw new InputError(`threshold must lie in (0, 1), got ${t}`);
    let tp = 0;
    let fp = 0;
    for (let i = 0; i < n; i++) {
      if (probs[i] >= t) {
        if (labels[i] === 1) tp++;
        else fp++;
      }
    }
    const w = t / (1 - t);
    return {
      threshold: t,
      netBenefit: tp / n - (fp / n) * w,
      treatAll: prevalence - (1 - prevalence) * w,
      tp,
      fp,
      fn: positives - tp,
      tn: n - positives - fp,
    };
  });
}
