import assert from "node:assert/strict";
import { test } from "node:test";
import { z } from "zod";
import { dict, dictRecord, own } from "../../src/util/dict.js";

const TRICKY = ["__proto__", "constructor", "toString", "hasOwnProperty"];

test("dict/own: user strings are keys, never prototype members", () => {
  const d = dict<number>();
  for (const k of TRICKY) assert.equal(own(d, k), undefined, `nothing inherited for "${k}"`);
  for (const [i, k] of TRICKY.entries()) d[k] = i;
  assert.deepEqual(Object.keys(d), TRICKY);
  assert.equal(JSON.stringify(d), '{"__proto__":0,"constructor":1,"toString":2,"hasOwnProperty":3}');
  for (const [i, k] of TRICKY.entries()) assert.equal(own(d, k), i);
  // A plain object is safe to read through own() too.
  assert.equal(own({ a: 1 } as Record<string, number>, "constructor"), undefined);
  assert.equal(own(undefined, "a"), undefined);
});

test("dictRecord keeps a __proto__ key that z.record drops", () => {
  const raw = JSON.parse('{"__proto__": 0.7, "constructor": 0.6, "toString": 0.5}');
  assert.deepEqual(Object.keys(z.record(z.string(), z.number()).parse(raw)), ["constructor", "toString"]);
  const kept = dictRecord(z.number()).parse(raw);
  assert.deepEqual(Object.keys(kept), ["__proto__", "constructor", "toString"]);
  assert.equal(own(kept, "__proto__"), 0.7);
  const bad = dictRecord(z.number()).safeParse({ a: "x" });
  assert.equal(bad.success, false);
  assert.deepEqual(bad.error?.issues[0].path, ["a"]);
});
