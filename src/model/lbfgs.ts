/**
 * Limited-memory BFGS (Nocedal & Wright, Algorithm 7.4 with the two-loop recursion) with a
 * backtracking Armijo line search, for the smooth convex objectives of the logistic models
 * (model/bow-logistic.ts). Minimizes in place. Hand-written: the npm ports of L-BFGS are either
 * unmaintained or pull a general autograd framework, and this one is 60 lines.
 */
export interface LbfgsOptions {
  maxIterations?: number;
  /** Stop when the gradient's max-abs entry falls below this. */
  gradientTolerance?: number;
  memory?: number;
}

export function lbfgsMinimize(
  f: (x: Float64Array, grad: Float64Array) => number,
  x: Float64Array,
  o: LbfgsOptions = {},
): { value: number; iterations: number } {
  const n = x.length;
  const m = o.memory ?? 10;
  const tol = o.gradientTolerance ?? 1e-6;
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const g = new Float64Array(n);
  let value = f(x, g);
  const d = new Float64Array(n);
  const xNew = new Float64Array(n);
  const gNew = new Float64Array(n);
  const alpha = new Float64Array(m);
  let it = 0;
  for (; it < (o.maxIterations ?? 200); it++) {
    if (maxAbs(g) < tol) break;
    // Two-loop recursion: d = -H g.
    for (let i = 0; i < n; i++) d[i] = -g[i];
    for (let k = S.length - 1; k >= 0; k--) {
      alpha[k] = rho[k] * dot(S[k], d);
      axpy(-alpha[k], Y[k], d);
    }
    if (S.length > 0) {
      const last = S.length - 1;
      const gamma = dot(S[last], Y[last]) / dot(Y[last], Y[last]);
      for (let i = 0; i < n; i++) d[i] *= gamma;
    } else {
      const scale = 1 / Math.max(1, Math.sqrt(dot(g, g)));
      for (let i = 0; i < n; i++) d[i] *= scale;
    }
    for (let k = 0; k < S.length; k++) {
      const beta = rho[k] * dot(Y[k], d);
      axpy(alpha[k] - beta, S[k], d);
    }
    let slope = dot(g, d);
    if (slope >= 0) {
      // Not a descent direction (curvature pairs gone stale): restart from steepest descent.
      S.length = 0;
      Y.length = 0;
      rho.length = 0;
      for (let i = 0; i < n; i++) d[i] = -g[i];
      slope = dot(g, d);
    }
    let step = 1;
    let next = Number.POSITIVE_INFINITY;
    for (let ls = 0; ls < 40; ls++) {
      for (let i = 0; i < n; i++) xNew[i] = x[i] + step * d[i];
      next = f(xNew, gNew);
      if (next <= value + 1e-4 * step * slope) break;
      step *= 0.5;
    }
    if (!(next < value)) break;
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = xNew[i] - x[i];
      y[i] = gNew[i] - g[i];
    }
    const sy = dot(s, y);
    if (sy > 1e-12) {
      if (S.length === m) {
        S.shift();
        Y.shift();
        rho.shift();
      }
      S.push(s);
      Y.push(y);
      rho.push(1 / sy);
    }
    x.set(xNew);
    g.set(gNew);
    const improvement = value - next;
    value = next;
    if (improvement < 1e-12 * Math.max(1, Math.abs(value))) break;
  }
  return { value, iterations: it };
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function axpy(a: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < x.length; i++) y[i] += a * x[i];
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const v = Math.abs(a[i]);
    if (v > m) m = v;
  }
  return m;
}
