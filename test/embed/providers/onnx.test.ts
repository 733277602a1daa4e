import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { EmbeddingCache, embedWithCache } from "../../../src/embed/cache.js";
import { createOnnxProvider } from "../../../src/embed/providers/onnx.js";
import { InputError } from "../../../src/util/errors.js";
import { PROJECT_ROOT } from "../../../src/util/paths.js";
import { tok } from "../influenza-tokens.js";

/**
 * The fixture is a tiny BERT built by scripts/make-tiny-bert.py (torch 1.13 + onnx from Debian), which
 * also writes reference.json: the token ids and CLS / mean-pooled vectors torch computes for a few texts.
 */
const outRoot = join(PROJECT_ROOT, "test-output", "onnx-fixture");
const modelDir = join(outRoot, "tiny-bert");
const hasTorch =
  spawnSync("/usr/bin/python3", ["-c", "import torch, onnx"], { stdio: "ignore" }).status === 0;

interface Ref {
  text: string;
  ids: number[];
  cls: number[];
  mean: number[];
}

function ensureFixture(): { hidden: number; texts: Ref[]; truncated: Ref & { max_length: number } } {
  if (!existsSync(join(modelDir, "reference.json"))) {
    mkdirSync(outRoot, { recursive: true });
    execFileSync("/usr/bin/python3", [join(PROJECT_ROOT, "scripts", "make-tiny-bert.py"), outRoot], {
      stdio: "ignore",
    });
  }
  return JSON.parse(readFileSync(join(modelDir, "reference.json"), "utf8"));
}

function close(actual: Float32Array, expected: number[], what: string): void {
  assert.equal(actual.length, expected.length, what);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  assert.ok(worst < 1e-4, `${what}: max |diff| ${worst}`);
}

test("CLS and mean pooling equal torch's reference vectors to 1e-4 (batched, padded)", {
  skip: hasTorch ? false : "/usr/bin/python3 lacks torch/onnx: cannot build the tiny BERT fixture",
}, async () => {
  const ref = ensureFixture();
  const tokens = ref.texts.map((r, i) => tok(`T${i}`, r.text));
  for (const pooling of ["cls", "mean"] as const) {
    const p = await createOnnxProvider({ modelDir, pooling, batchSize: 3 });
    assert.equal(p.info.dimension, ref.hidden);
    assert.match(p.info.revision ?? "", /^sha256:/);
    const m = await p.embed(tokens);
    ref.texts.forEach((r, i) => {
      close(m.data.subarray(i * m.dim, (i + 1) * m.dim), r[pooling], `${pooling} "${r.text}"`);
    });
  }
  // L2 normalisation and truncation to maxLength word pieces.
  const n = await createOnnxProvider({
    modelDir,
    pooling: "mean",
    normalize: true,
    maxLength: ref.truncated.max_length,
  });
  const t = await n.embed([tok("X", ref.truncated.text)]);
  const norm = Math.hypot(...ref.truncated.mean);
  close(
    t.data,
    ref.truncated.mean.map((x) => x / norm),
    "truncated, normalised",
  );
});

test("batches go to the cache as they finish", { skip: hasTorch ? false : "no torch" }, async () => {
  const ref = ensureFixture();
  const p = await createOnnxProvider({ modelDir, batchSize: 2 });
  const batches: number[][] = [];
  await p.embed(
    ref.texts.slice(0, 5).map((r, i) => tok(`T${i}`, r.text)),
    { onBatch: (rows) => batches.push([...rows]) },
  );
  assert.deepEqual(batches, [[0, 1], [2, 3], [4]]);
  const cache = new EmbeddingCache(join(outRoot, `cache-${process.pid}`));
  const m = await embedWithCache(
    p,
    ref.texts.map((r, i) => tok(`T${i}`, r.text)),
    cache,
  );
  assert.equal(m.embedded, ref.texts.length);
  close(m.data.subarray(0, m.dim), ref.texts[0].cls, "cached run");
  rmSync(cache.dir, { recursive: true, force: true });
});

test("a missing model directory or model file is a clear input error", async () => {
  await assert.rejects(createOnnxProvider({ modelDir: join(outRoot, "no-such-model") }), (e: unknown) => {
    assert.ok(e instanceof InputError);
    assert.match(e.message, /model directory not found/);
    return true;
  });
  if (!hasTorch) return;
  ensureFixture();
  const partial = join(outRoot, "partial-bert");
  rmSync(partial, { recursive: true, force: true });
  cpSync(modelDir, partial, { recursive: true });
  rmSync(join(partial, "onnx", "model.onnx"));
  await assert.rejects(createOnnxProvider({ modelDir: partial }), /model directory lacks onnx\/model\.onnx/);
  await assert.rejects(
    createOnnxProvider({ modelDir: modelDir, dtype: "q8" }),
    /lacks onnx\/model_quantized\.onnx/,
  );
});
