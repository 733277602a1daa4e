/**
 * Maximum-likelihood logistic regressions with one covariate, used for calibration intercept/slope
 * and recalibration. They have one or two parameters, so Newton-Raphson with closed-form 1x1/2x2
 * solves converges to machine precision in a handful of steps; a library (or ml-matrix) would add
 * nothing but indirection. Step halving on the log-likelihood keeps Newton monotone (the
 * likelihood is concave, so this converges from any start unless the data are separable).
 */

export interface LogisticFit {
  intercept: number;
  slope: number;
  /** False when the optimum is at infinity (perfectly separated data) or iterations ran out. */
  converged: boolean;
  iterations: number;
}

const MAX_ITERATIONS = 100;
const MAX_HALVINGS = 60;
/** Beyond this the fit is running off to infinity (separation); no real calibration slope is this large. */
const DIVERGED = 1e6;

/** log(1 + e^z) without overflow. */
function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** Bernoulli log-likelihood of linear predictors a + b * x[i] + offset[i]. */
function logLikelihood(
  y: ArrayLike<number>,
  x: ArrayLike<number> | null,
  offset: ArrayLike<number> | null,
  a: number,
  b: number,
): number {
  let ll = 0;
  for (let i = 0; i < y.length; i++) {
    const z = a + (x === null ? 0 : b * x[i]) + (offset === null ? 0 : offset[i]);
    ll += y[i] * z - softplus(z);
  }
  return ll;
}

function startingIntercept(y: ArrayLike<number>, shift: number): number {
  let mean = 0;
  for (let i = 0; i < y.length; i++) mean += y[i];
  mean /= y.length;
  const clipped = Math.min(Math.max(mean, 1e-6), 1 - 1e-6);
  return Math.log(clipped / (1 - clipped)) - shift;
}

/** Intercept a of logit P(y = 1) = a + offset[i] (the offset's coefficient fixed at 1). */
export function fitInterceptWithOffset(y: ArrayLike<number>, offset: ArrayLike<number>): LogisticFit {
  let meanOffset = 0;
  for (let i = 0; i < offset.length; i++) meanOffset += offset[i];
  meanOffset /= offset.length;
  let a = startingIntercept(y, meanOffset);
  let ll = logLikelihood(y, null, offset, a, 0);
  for (let iter = 1; iter <= MAX_ITERATIONS; iter++) {
    let gradient = 0;
    let information = 0;
    for (let i = 0; i < y.length; i++) {
      const p = sigmoid(a + offset[i]);
      gradient += y[i] - p;
      information += p * (1 - p);
    }
    if (information === 0) return { intercept: a, slope: 1, converged: false, iterations: iter };
    let step = gradient / information;
    let next = a + step;
    let nextLl = logLikelihood(y, null, offset, next, 0);
    for (let h = 0; h < MAX_HALVINGS && !(nextLl >= ll); h++) {
      step /= 2;
      next = a + step;
      nextLl = logLikelihood(y, null, offset, next, 0);
    }
    a = next;
    ll = Math.max(ll, nextLl);
    if (Math.abs(a) > DIVERGED) return { intercept: a, slope: 1, converged: false, iterations: iter };
    if (Math.abs(step) <= 1e-13 * (1 + Math.abs(a)))
      return { intercept: a, slope: 1, converged: true, iterations: iter };
  }
  return { intercept: a, slope: 1, converged: false, iterations: MAX_ITERATIONS };
}

/** Intercept and slope of logit P(y = 1) = a + b * x[i]. */
export function fitLogistic1D(y: ArrayLike<number>, x: ArrayLike<number>): LogisticFit {
  let a = startingIntercept(y, 0);
  let b = 0;
  let ll = logLikelihood(y, x, null, a, b);
  for (let iter = 1; iter <= MAX_ITERATIONS; iter++) {
    // Gradient g and Fisher information [[haa, hab], [hab, hbb]].
    let ga = 0;
    let gb = 0;
    let haa = 0;
    let hab = 0;
    let hbb = 0;
    for (let i = 0; i < y.length; i++) {
      const p = sigmoid(a + b * x[i]);
      const r = y[i] - p;
      const w = p * (1 - p);
      ga += r;
      gb += r * x[i];
      haa += w;
      hab += w * x[i];
      hbb += w * x[i] * x[i];
    }
    const det = haa * hbb - hab * hab;
    if (!(det > 0)) return { intercept: a, slope: b, converged: false, iterations: iter };
    let da = (hbb * ga - hab * gb) / det;
    let db = (haa * gb - hab * ga) / det;
    let nextLl = logLikelihood(y, x, null, a + da, b + db);
    for (let h = 0; h < MAX_HALVINGS && !(nextLl >= ll); h++) {
      da /= 2;
      db /= 2;
      nextLl = logLikelihood(y, x, null, a + da, b + db);
    }
    a += da;
    b += db;
    ll = Math.max(ll, nextLl);
    if (Math.abs(a) > DIVERGED || Math.abs(b) > DIVERGED)
      return { intercept: a, slope: b, converged: false, iterations: iter };
    if (Math.abs(da) <= 1e-13 * (1 + Math.abs(a)) && Math.abs(db) <= 1e-13 * (1 + Math.abs(b))) {
      return { intercept: a, slope: b, converged: true, iterations: iter };
    }
  }
  return { intercept: a, slope: b, converged: false, iterations: MAX_ITERATIONS };
}

export { sigmoid };
