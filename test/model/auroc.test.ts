import assert from "node:assert/strict";
import { test } from "node:test";
import { binaryAuroc, macroAuroc } from "../../src/model/auroc.js";

test("binary AUROC with ties equals sklearn", () => {
  // /usr/bin/python3 -c "from sklearn.metrics import roc_auc_score as f; print(f([0,0,1,1,0,1],[0.1,0.4,0.35,0.8,0.4,0.4]))"
  assert.ok(
    Math.abs(binaryAuroc([0, 0, 1, 1, 0, 1], [0.1, 0.4, 0.35, 0.8, 0.4, 0.4]) - 0.6666666666666667) < 1e-15,
  );
  assert.equal(binaryAuroc([0, 1, 1], [0.1, 0.2, 0.3]), 1);
  assert.ok(Number.isNaN(binaryAuroc([1, 1], [0.1, 0.2])));
});

test("macro one-vs-rest AUROC equals sklearn; binary uses class 1", () => {
  const probs = [
    0.5, 0.3, 0.2, 0.2, 0.5, 0.3, 0.1, 0.3, 0.6, 0.5, 0.3, 0.2, 0.4, 0.4, 0.2, 0.3, 0.4, 0.3, 0.2, 0.2, 0.6,
    0.3, 0.4, 0.3,
  ];
  // roc_auc_score(y, pr, multi_class="ovr", average="macro") with the same 8 x 3 matrix
  assert.ok(Math.abs(macroAuroc([0, 1, 2, 2, 1, 0, 2, 1], probs, 3) - 0.8055555555555555) < 1e-12);
  assert.equal(macroAuroc([0, 1, 0], [0.9, 0.1, 0.2, 0.8, 0.6, 0.4], 2), 1);
});
