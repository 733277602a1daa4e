import assert from "node:assert/strict";
import { test } from "node:test";
import { Rng } from "../../src/util/rng.js";

test("Rng is reproducible from a seed and differs across seeds", () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const c = new Rng(43);
  const xa = Array.from({ length: 5 }, () => a.next());
  const xb = Array.from({ length: 5 }, () => b.next());
  const xc = Array.from({ length: 5 }, () => c.next());
  assert.deepEqual(xa, xb);
  assert.notDeepEqual(xa, xc);
});

test("Rng uniform and normal have the right moments", () => {
  const r = new Rng(7);
  const n = 200_000;
  let s = 0;
  let s2 = 0;
  let z = 0;
  let z2 = 0;
  for (let i = 0; i < n; i++) {
    const u = r.next();
    assert.ok(u >= 0 && u < 1);
    s += u;
    s2 += u * u;
    const g = r.normal();
    z += g;
    z2 += g * g;
  }
  assert.ok(Math.abs(s / n - 0.5) < 0.005);
  assert.ok(Math.abs(s2 / n - s ** 2 / n ** 2 - 1 / 12) < 0.002);
  assert.ok(Math.abs(z / n) < 0.01);
  assert.ok(Math.abs(z2 / n - 1) < 0.01);
});

test("permutation contains every index once", () => {
  const p = new Rng(1).permutation(1000);
  const sorted = Array.from(p).sort((x, y) => x - y);
  assert.deepEqual(
    sorted,
    Array.from({ length: 1000 }, (_, i) => i),
  );
});
