import assert from "node:assert/strict";
import { test } from "node:test";
import {
  apportion,
  groupedSplit,
  stratifiedSplit,
  subsampleStratified,
  temporalSplit,
} from "../../src/data/splits.js";
import { InputError } from "../../src/util/errors.js";
import { Rng } from "../../src/util/rng.js";

function counts(labels: Int32Array, idx: Uint32Array, classes: number): number[] {
  const c = new Array<number>(classes).fill(0);
  for (const i of idx) c[labels[i]]++;
  return c;
}

// 1000 encounters: class 0 x 600, class 1 x 300, class 2 x 100, in a scrambled order.
const LABELS = new Rng(1).shuffle(
  Int32Array.from({ length: 1000 }, (_, i) => (i < 600 ? 0 : i < 900 ? 1 : 2)),
);

test("apportion hands leftovers to the largest remainders", () => {
  assert.deepEqual(apportion(10, [0.8, 0.2]), [8, 2]);
  // raw 3.5/1.75/1.75 -> floors 3,1,1; the two leftovers go to the .75 remainders
  assert.deepEqual(apportion(7, [0.5, 0.25, 0.25]), [3, 2, 2]);
  assert.deepEqual(apportion(3, [1 / 3, 1 / 3, 1 / 3]), [1, 1, 1]);
});

test("stratifiedSplit: a partition with exact per-class proportions, reproducible from the seed", () => {
  const [a, b] = stratifiedSplit(LABELS, [0.8, 0.2], 5);
  assert.equal(a.length + b.length, 1000);
  assert.equal(new Set([...a, ...b]).size, 1000);
  assert.deepEqual(counts(LABELS, a, 3), [480, 240, 80]);
  assert.deepEqual(counts(LABELS, b, 3), [120, 60, 20]);
  const [a2] = stratifiedSplit(LABELS, [0.8, 0.2], 5);
  assert.deepEqual(a2, a);
  const [a3] = stratifiedSplit(LABELS, [0.8, 0.2], 6);
  assert.notDeepEqual(a3, a);
  assert.throws(() => stratifiedSplit(LABELS, [0.8, 0.3], 1), InputError);
});

test("groupedSplit: no group in two parts, sizes and class mix near the fractions", () => {
  const rng = new Rng(9);
  // 1000 encounters in groups of 1-4 visits, as patients with repeat visits.
  const groups = new Int32Array(1000);
  let g = 0;
  for (let i = 0; i < 1000; ) {
    const size = 1 + rng.int(4);
    for (let k = 0; k < size && i < 1000; k++) groups[i++] = g;
    g++;
  }
  const parts = groupedSplit(groups, LABELS, [0.7, 0.15, 0.15], 3);
  const owner = new Map<number, number>();
  parts.forEach((p, k) => {
    for (const i of p) {
      const prev = owner.get(groups[i]);
      assert.ok(prev === undefined || prev === k, `group ${groups[i]} in parts ${prev} and ${k}`);
      owner.set(groups[i], k);
    }
  });
  assert.equal(
    parts.reduce((s, p) => s + p.length, 0),
    1000,
  );
  assert.ok(Math.abs(parts[0].length - 700) <= 10, `train ${parts[0].length}`);
  assert.ok(Math.abs(parts[1].length - 150) <= 10, `val ${parts[1].length}`);
  const c0 = counts(LABELS, parts[0], 3);
  assert.ok(Math.abs(c0[2] - 70) <= 6, `class 2 in train ${c0[2]}`);
  assert.deepEqual(groupedSplit(groups, LABELS, [0.7, 0.15, 0.15], 3), parts);
});

test("temporalSplit: test periods held out, train = earlier periods by default", () => {
  const names = ["2016-17", "2017-18", "2018-19"];
  const periods = Int32Array.from([0, 1, 2, 2, 1, 0, -1]);
  const { train, test: t } = temporalSplit(periods, names, { test: ["2017-18"] });
  assert.deepEqual(Array.from(train), [0, 5]);
  assert.deepEqual(Array.from(t), [1, 4]);
  const all = temporalSplit(periods, names, { test: ["2017-18"], train: ["2016-17", "2018-19"] });
  assert.deepEqual(Array.from(all.train), [0, 2, 3, 5]);
  assert.throws(() => temporalSplit(periods, names, { test: ["2020-21"] }), /unknown period "2020-21"/);
  assert.throws(() => temporalSplit(undefined, undefined, { test: ["x"] }), InputError);
});

test("subsampleStratified: right size, class mix within one per class, nested across sizes", () => {
  const pool = stratifiedSplit(LABELS, [0.8, 0.2], 1)[0]; // 480/240/80
  const s100 = subsampleStratified(pool, LABELS, 100, 11);
  assert.equal(s100.length, 100);
  const c = counts(LABELS, s100, 3);
  assert.ok(Math.abs(c[0] - 60) <= 1 && Math.abs(c[1] - 30) <= 1 && Math.abs(c[2] - 10) <= 1, String(c));
  const poolSet = new Set(pool);
  for (const i of s100) assert.ok(poolSet.has(i));
  const s300 = new Set(subsampleStratified(pool, LABELS, 300, 11));
  for (const i of s100) assert.ok(s300.has(i), "sample of 100 is inside the sample of 300");
  assert.notDeepEqual(subsampleStratified(pool, LABELS, 100, 12), s100);
  assert.equal(subsampleStratified(pool, LABELS, pool.length, 11).length, pool.length);
  assert.throws(() => subsampleStratified(pool, LABELS, pool.length + 1, 11), /exceeds/);
});
