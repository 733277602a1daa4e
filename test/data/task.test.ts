import assert from "node:assert/strict";
import { test } from "node:test";
import { SiteDatasetBuilder } from "../../src/data/builder.js";
import { binaryLabels, classCounts, labeledIndices, multiclassLabels } from "../../src/data/task.js";
import { InputError } from "../../src/util/errors.js";

function tiny() {
  const b = new SiteDatasetBuilder("tiny");
  const labels = ["R", "I", null, "M", "I", "P"];
  labels.forEach((label, i) => {
    b.beginEncounter(`e${i}`, { label });
  });
  return b.build({ adapter: "test", files: [] });
}

test("multiclassLabels: sorted classes, unlabeled -1", () => {
  const { labels, classes } = multiclassLabels(tiny());
  assert.deepEqual(classes, ["I", "M", "P", "R"]);
  assert.deepEqual(Array.from(labels), [3, 0, -1, 1, 0, 2]);
  assert.deepEqual(classCounts(labels, 4), [2, 1, 1, 1]);
  assert.deepEqual(Array.from(labeledIndices(labels)), [0, 1, 3, 4, 5]);
});

test("binaryLabels: 1 for the positive class, 0 otherwise, unknown class is an InputError", () => {
  assert.deepEqual(Array.from(binaryLabels(tiny(), "I")), [0, 1, -1, 0, 1, 0]);
  assert.throws(() => binaryLabels(tiny(), "X"), InputError);
});
