import assert from "node:assert/strict";
import { test } from "node:test";
import { kimCnn, meanLogistic, paperCnn } from "../../../src/model/architecture.js";
import { chooseEngine } from "../../../src/model/engines/choose.js";
import type { EngineName, EngineProblem } from "../../../src/model/engines/engine.js";
import { MAX_FACTORIZED_ROWS } from "../../../src/model/engines/factorized.js";
import { SPARSE_E_DENSITY } from "../../../src/model/engines/gram.js";
import { subspaceBound } from "../../../src/model/engines/subspace.js";
import { type TrainSettings, trainSettings } from "../../../src/model/train-settings.js";
import type { ModelArchitecture } from "../../../src/model/types.js";
import { InputError } from "../../../src/util/errors.js";

/**
 * The engine choice as src/model/train.ts made it before engines declared their own support and
 * cost (kept verbatim for auto): the spec-based choice must give the same engine for every case.
 */
function previousChoice(
  settings: TrainSettings,
  arch: ModelArchitecture,
  problem: EngineProblem,
): EngineName {
  if (arch.kind === "mean-logistic") return "logistic";
  const { rows, meanTokens, density } = problem;
  const factorizable =
    settings.freeze.embedding &&
    (settings.freeze.conv || settings.optimizer === "sgd") &&
    rows <= MAX_FACTORIZED_ROWS;
  const D = arch.embeddingDim;
  const bound = subspaceBound(rows, arch.kernelSizes, arch.filters);
  const subspaceValid = !settings.freeze.embedding && settings.optimizer === "sgd";
  if (subspaceValid) return bound < 0.8 * D ? "subspace" : "direct";
  if (!factorizable) return "direct";
  if (settings.freeze.conv) return "factorized";
  const steps = settings.epochs * settings.itersPerEpoch;
  const FK = arch.filters.reduce((s, f, i) => s + f * arch.kernelSizes[i], 0);
  const perRow = Math.max(1, density * D);
  const distinct = Math.min(rows, settings.batchSize * Math.max(1, meanTokens));
  const direct = steps * (distinct * perRow * FK * 2 + settings.batchSize * Math.max(1, meanTokens) * FK * 3);
  const kRow = Math.min(rows, 1 + (rows * perRow * perRow) / D);
  const gramCost = density < SPARSE_E_DENSITY ? D * (rows * density) ** 2 : rows * rows * D;
  const factorized =
    gramCost + rows * perRow * FK + steps * (settings.batchSize * FK * (kRow + 5) + 8 * rows * FK);
  return factorized <= direct ? "factorized" : "direct";
}

test("the spec-based choice equals the previous rule on a grid of settings and problems", () => {
  let cases = 0;
  const seen = new Set<EngineName>();
  for (const D of [4, 8, 64, 125, 128, 300, 768, 1536, 3072])
    for (const arch of [paperCnn(D, 2), kimCnn(D, 4), meanLogistic(D, 2)])
      for (const rows of [2, 16, 100, 181, 229, 600, 2165, 5792, 5793, 30001])
        for (const meanTokens of [0, 1, 10, 63, 1000])
          for (const density of [1, 0.5, SPARSE_E_DENSITY, 0.1, 1 / D])
            for (const freeze of [
              { embedding: true, conv: false, dense: false },
              { embedding: true, conv: true, dense: false },
              { embedding: false, conv: false, dense: false },
            ])
              for (const optimizer of ["sgd", "adam"] as const)
                for (const [epochs, itersPerEpoch, batchSize] of [
                  [50, 100, 32],
                  [5, 100, 32],
                  [1, 3, 8],
                ]) {
                  const s = trainSettings({ freeze, optimizer, epochs, itersPerEpoch, batchSize });
                  const problem = { rows, meanTokens, density };
                  const want = previousChoice(s, arch, problem);
                  const got = chooseEngine(s, arch, problem);
                  const where = JSON.stringify({ D, arch, problem, freeze, optimizer });
                  // Above MAX_FACTORIZED_ROWS tokens (never in the reproduction) the screened engine
                  // replaces the direct one wherever it supports the setting (a dense embedding).
                  const screened =
                    rows > MAX_FACTORIZED_ROWS &&
                    want === "direct" &&
                    (!freeze.embedding || density > SPARSE_E_DENSITY);
                  assert.equal(got, screened ? "screened" : want, where);
                  seen.add(want);
                  cases++;
                }
  assert.ok(cases > 10000);
  assert.deepEqual([...seen].sort(), ["direct", "factorized", "logistic", "subspace"]);
});

test("the screened engine: chosen for large dense vocabularies only, any setting when named", () => {
  const frozen = trainSettings({});
  const big = { rows: 30001, meanTokens: 64, density: 1 };
  assert.equal(chooseEngine(frozen, paperCnn(768, 2), big), "screened");
  assert.equal(
    chooseEngine(trainSettings({ freeze: { embedding: false } }), paperCnn(768, 2), big),
    "screened",
  );
  assert.equal(chooseEngine(frozen, paperCnn(768, 2), { ...big, rows: MAX_FACTORIZED_ROWS }), "factorized");
  // One-hot at that size: the direct engine's CSR tables.
  assert.equal(chooseEngine(frozen, paperCnn(30001, 2), { ...big, density: 1 / 30001 }), "direct");
  assert.equal(
    chooseEngine(trainSettings({ engine: "screened" }), paperCnn(8, 2), {
      rows: 20,
      meanTokens: 5,
      density: 1,
    }),
    "screened",
  );
  assert.throws(
    () =>
      chooseEngine(trainSettings({ engine: "screened" }), paperCnn(64, 2), {
        rows: 65,
        meanTokens: 5,
        density: 1 / 64,
      }),
    InputError,
  );
});

test("the subspace rule's edge: bound exactly 0.8 D keeps the direct engine", () => {
  // rows - 1 + 100 filters = 0.8 x 500 = 400 (a multiple of 5: 0.8 D is exact).
  const s = trainSettings({ freeze: { embedding: false } });
  assert.equal(subspaceBound(301, [1], [100]), 400);
  assert.equal(chooseEngine(s, paperCnn(500, 2), { rows: 301, meanTokens: 60, density: 1 }), "direct");
  assert.equal(chooseEngine(s, paperCnn(500, 2), { rows: 300, meanTokens: 60, density: 1 }), "subspace");
});

test("an explicit engine that cannot train the setting is an InputError on settings.engine", () => {
  const p = { rows: 100, meanTokens: 10, density: 1 };
  const bad: [Parameters<typeof trainSettings>[0], RegExp][] = [
    [{ engine: "factorized", freeze: { embedding: false } }, /factorized engine needs a frozen embedding/],
    [{ engine: "factorized", optimizer: "adam" }, /factorized engine/],
    [{ engine: "subspace" }, /subspace engine needs a trained embedding and SGD/],
    [{ engine: "subspace", optimizer: "adam", freeze: { embedding: false } }, /subspace engine/],
  ];
  for (const [settings, message] of bad)
    assert.throws(
      () => chooseEngine(trainSettings(settings), paperCnn(64, 2), p),
      (e: unknown) =>
        e instanceof InputError && e.location.field === "settings.engine" && message.test(e.message),
    );
  assert.throws(
    () => chooseEngine(trainSettings({ engine: "factorized" }), paperCnn(64, 2), { ...p, rows: 6000 }),
    InputError,
  );
  assert.equal(chooseEngine(trainSettings({ engine: "direct" }), paperCnn(64, 2), p), "direct");
  // The baseline has one engine, whatever settings.engine says.
  assert.equal(chooseEngine(trainSettings({ engine: "factorized" }), meanLogistic(8, 2), p), "logistic");
});
