import type { TrainSettings } from "../train-settings.js";

/**
 * torch.optim.SGD (dampening 0) and torch.optim.Adam (L2 weight decay added to the gradient, not
 * AdamW), element for element, on float64 parameter arrays.
 */
export interface OptimizerConfig {
  kind: "sgd" | "adam";
  lr: number;
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Weight decay towards the parameters' values when the optimizer was made (L2-SP) instead of 0. */
  decayToInitial?: boolean;
}

export function optimizerConfig(s: TrainSettings): OptimizerConfig {
  return {
    kind: s.optimizer,
    lr: s.lr,
    momentum: s.momentum,
    nesterov: s.nesterov,
    weightDecay: s.weightDecay,
    beta1: s.adamBeta1,
    beta2: s.adamBeta2,
    eps: s.adamEps,
    decayToInitial: s.decayTo === "initial",
  };
}

/**
 * One SGD step on p with gradient g (g is not modified): d = g + wd p (L2-SP: g + wd (p - a) for the
 * anchor a); buf = d on the first step, else mu buf + d; p -= lr (d + mu buf) with Nesterov, lr buf
 * without, lr d when mu = 0. `buf` may be null when momentum is 0.
 */
export function sgdStep(
  p: Float64Array,
  g: Float64Array,
  buf: Float64Array | null,
  first: boolean,
  c: OptimizerConfig,
  anchor: Float64Array | null = null,
): void {
  const { lr, momentum: mu, weightDecay: wd, nesterov } = c;
  const n = p.length;
  if (mu === 0 || !buf) {
    for (let i = 0; i < n; i++) p[i] -= lr * (g[i] + wd * (anchor ? p[i] - anchor[i] : p[i]));
    return;
  }
  for (let i = 0; i < n; i++) {
    const d = g[i] + wd * (anchor ? p[i] - anchor[i] : p[i]);
    const m = first ? d : mu * buf[i] + d;
    buf[i] = m;
    p[i] -= lr * (nesterov ? d + mu * m : m);
  }
}

/** One Adam step (bias-corrected, as torch 1.13's single-tensor implementation); t counts from 1. */
export function adamStep(
  p: Float64Array,
  g: Float64Array,
  m: Float64Array,
  v: Float64Array,
  t: number,
  c: OptimizerConfig,
  anchor: Float64Array | null = null,
): void {
  const { lr, beta1, beta2, eps, weightDecay: wd } = c;
  const bc1 = 1 - beta1 ** t;
  const bc2 = Math.sqrt(1 - beta2 ** t);
  const stepSize = lr / bc1;
  for (let i = 0; i < p.length; i++) {
    const d = g[i] + wd * (anchor ? p[i] - anchor[i] : p[i]);
    m[i] = beta1 * m[i] + (1 - beta1) * d;
    v[i] = beta2 * v[i] + (1 - beta2) * d * d;
    p[i] -= (stepSize * m[i]) / (Math.sqrt(v[i]) / bc2 + eps);
  }
}

/** An optimizer over a fixed list of parameter arrays, each with its own state. */
export class Optimizer {
  private readonly state1: Float64Array[];
  private readonly state2: Float64Array[];
  /** L2-SP anchors: each parameter array as it was when the optimizer was made (or null: decay to 0). */
  private readonly anchors: (Float64Array | null)[];
  private t = 0;

  constructor(
    readonly config: OptimizerConfig,
    readonly params: Float64Array[],
  ) {
    const needs1 = config.kind === "adam" || config.momentum > 0;
    this.state1 = params.map((p) => new Float64Array(needs1 ? p.length : 0));
    this.state2 = params.map((p) => new Float64Array(config.kind === "adam" ? p.length : 0));
    this.anchors = params.map((p) => (config.decayToInitial ? p.slice() : null));
  }

  /** Apply one step with gradients aligned to `params`. */
  step(grads: Float64Array[]): void {
    this.t++;
    const c = this.config;
    for (let i = 0; i < this.params.length; i++) {
      const a = this.anchors[i];
      if (c.kind === "adam") adamStep(this.params[i], grads[i], this.state1[i], this.state2[i], this.t, c, a);
      else sgdStep(this.params[i], grads[i], c.momentum > 0 ? this.state1[i] : null, this.t === 1, c, a);
    }
  }

  get steps(): number {
    return this.t;
  }
}
