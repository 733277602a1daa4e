import assert from "node:assert/strict";
import { test } from "node:test";
import { paperCnn } from "../../../src/model/architecture.js";
import { ENGINES } from "../../../src/model/engines/choose.js";
import { sgdStep } from "../../../src/model/engines/optimizer.js";
import { initParams } from "../../../src/model/params.js";
import { Rng } from "../../../src/util/rng.js";
import { engineInput, maxRelDiff, randomProblem, sgdConfig, stepTogether } from "../fixtures.js";

/**
 * L2-SP (weight decay towards the initial weights): the factorized engine anchors its conv tables in
 * token space (d = K G + wd (P - P0), the W0 coefficient decaying to 1); it must follow the direct
 * engine, which anchors every weight in the shared optimizer, step for step.
 */
test("L2-SP: the factorized engine equals the direct one over 60 steps (frozen embedding, conv + dense trained)", () => {
  const prob = randomProblem(3, 12, 5, 40, 2);
  const arch = { ...paperCnn(5, 2), filters: [6] };
  const init = initParams(arch, new Rng(7));
  const cfg = sgdConfig({ weightDecay: 0.5, decayToInitial: true });
  const mk = (name: "direct" | "factorized") =>
    ENGINES[name].create(
      engineInput(prob, structuredClone(init), { trainEmbedding: false, dropoutRng: new Rng(9) }),
      cfg,
    );
  const direct = mk("direct");
  const factorized = mk("factorized");
  stepTogether(direct, factorized, prob.seqs.count, 60, 8);
  const a = direct.export(direct.capture()).params;
  const b = factorized.export(factorized.capture()).params;
  assert.ok(maxRelDiff(a.convW[0], b.convW[0]) < 1e-9, `conv ${maxRelDiff(a.convW[0], b.convW[0])}`);
  assert.ok(maxRelDiff(a.denseW, b.denseW) < 1e-9);
  // The guard: the weights moved, and the anchor held them nearer the start than plain decay does.
  assert.ok(maxRelDiff(a.convW[0], init.convW[0]) > 1e-3);
  const plain = ENGINES.direct.create(
    engineInput(prob, structuredClone(init), { trainEmbedding: false, dropoutRng: new Rng(9) }),
    sgdConfig({ weightDecay: 0.5 }),
  );
  stepTogether(
    plain,
    ENGINES.direct.create(
      engineInput(prob, structuredClone(init), { trainEmbedding: false, dropoutRng: new Rng(9) }),
      sgdConfig({ weightDecay: 0.5 }),
    ),
    prob.seqs.count,
    60,
    8,
  );
  const p = plain.export(plain.capture()).params;
  const dist = (w: Float64Array) => Math.hypot(...Array.from(w, (v, i) => v - init.convW[0][i]));
  assert.ok(dist(a.convW[0]) < dist(p.convW[0]), `${dist(a.convW[0])} vs ${dist(p.convW[0])}`);
});

test("an anchored SGD step is the plain step in coordinates centred on the anchor", () => {
  const r = new Rng(2);
  const anchor = Float64Array.from({ length: 7 }, () => r.normal());
  const p = Float64Array.from({ length: 7 }, () => r.normal());
  const g = Float64Array.from({ length: 7 }, () => r.normal());
  const cfg = sgdConfig({ weightDecay: 0.3 });
  const a = p.slice();
  const bufA = new Float64Array(7);
  sgdStep(a, g, bufA, true, cfg, anchor);
  const centred = p.map((v, i) => v - anchor[i]);
  sgdStep(centred, g, new Float64Array(7), true, cfg);
  for (let i = 0; i < 7; i++) assert.ok(Math.abs(a[i] - (centred[i] + anchor[i])) < 1e-12);
});
