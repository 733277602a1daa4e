import assert from "node:assert/strict";
import { test } from "node:test";
import { adamStep, Optimizer, type OptimizerConfig, sgdStep } from "../../../src/model/engines/optimizer.js";
import { sgdConfig } from "../fixtures.js";

const CFG = sgdConfig({ lr: 0.1 });
const GRADS = [
  [0.5, 0.25],
  [0.1, -0.3],
  [-0.2, 0.05],
];

test("SGD with Nesterov momentum and weight decay: first step by hand, then torch.optim.SGD", () => {
  const p = Float64Array.from([1, -2]);
  const buf = new Float64Array(2);
  sgdStep(p, Float64Array.from(GRADS[0]), buf, true, CFG);
  // By hand: d = g + 0.01 p = [0.51, 0.23]; buf = d; p -= 0.1 (d + 0.9 d) = 0.19 d.
  assert.ok(Math.abs(p[0] - (1 - 0.19 * 0.51)) < 1e-15);
  assert.ok(Math.abs(p[1] - (-2 - 0.19 * 0.23)) < 1e-15);
  sgdStep(p, Float64Array.from(GRADS[1]), buf, false, CFG);
  sgdStep(p, Float64Array.from(GRADS[2]), buf, false, CFG);
  // /usr/bin/python3: torch.set_default_dtype(torch.float64); p = torch.tensor([1., -2.], requires_grad=True);
  // opt = torch.optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=True);
  // for g in GRADS: p.grad = torch.tensor(g); opt.step()
  assert.ok(Math.abs(p[0] - 0.831465558191) < 1e-12);
  assert.ok(Math.abs(p[1] - -1.997955823757) < 1e-12);
});

test("Adam matches torch.optim.Adam with L2 weight decay", () => {
  const c: OptimizerConfig = { ...CFG, kind: "adam" };
  const p = Float64Array.from([1, -2]);
  const m = new Float64Array(2);
  const v = new Float64Array(2);
  GRADS.forEach((g, t) => {
    adamStep(p, Float64Array.from(g), m, v, t + 1, c);
  });
  // torch.optim.Adam([p], lr=0.1, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01), same gradients.
  assert.ok(Math.abs(p[0] - 0.7821658470448364) < 1e-12);
  assert.ok(Math.abs(p[1] - -2.066667274176312) < 1e-12);
});

test("Optimizer applies plain SGD without momentum and keeps per-parameter state", () => {
  const a = Float64Array.from([1]);
  const b = Float64Array.from([2, 3]);
  const opt = new Optimizer({ ...CFG, momentum: 0, weightDecay: 0.5 }, [a, b]);
  opt.step([Float64Array.from([1]), Float64Array.from([0, -1])]);
  // p -= 0.1 (g + 0.5 p)
  assert.deepEqual(Array.from(a), [1 - 0.1 * 1.5]);
  assert.deepEqual(Array.from(b), [2 - 0.1 * 1, 3 - 0.1 * (-1 + 1.5)]);
  const withMomentum = new Optimizer(CFG, [Float64Array.from([1, -2])]);
  for (const g of GRADS) withMomentum.step([Float64Array.from(g)]);
  assert.ok(Math.abs(withMomentum.params[0][0] - 0.831465558191) < 1e-12);
  assert.equal(withMomentum.steps, 3);
});
