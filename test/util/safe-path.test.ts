import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { InputError } from "../../src/util/errors.js";
import { containedPath, isInside, isSafeName } from "../../src/util/safe-path.js";

test("safe names: slugs only, nothing a path or a prototype could read differently", () => {
  for (const ok of ["A", "site-B", "paper_influenza", "bert.v2", "0", "constructor"])
    assert.ok(isSafeName(ok), ok);
  for (const bad of [
    "",
    "../x",
    "../../x",
    "a/b",
    "a\\b",
    ".",
    "..",
    ".hidden",
    "-rf",
    "__proto__",
    "a b",
    "x".repeat(65),
    "é",
  ])
    assert.ok(!isSafeName(bad), JSON.stringify(bad));
});

test("containedPath refuses anything that leaves its root", () => {
  const root = resolve("/tmp/cb-root");
  assert.equal(containedPath(root, ["results.jsonl"]), join(root, "results.jsonl"));
  assert.equal(containedPath(root, ["models", "a.json"]), join(root, "models", "a.json"));
  for (const parts of [["../x"], ["..", "x"], ["/etc/passwd"], ["models", "../../x"]])
    assert.throws(
      () => containedPath(root, parts, "source model file"),
      (e: unknown) => e instanceof InputError && /outside the output folder/.test(e.message),
    );
  assert.ok(isInside(root, root));
  assert.ok(!isInside(root, `${root}-other`));
});
