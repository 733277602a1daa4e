import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { EmbeddingCache } from "../../src/embed/cache.js";
import { embeddingDiagnostics } from "../../src/embed/diagnostics.js";
import { cosine, row } from "../../src/embed/matrix.js";
import { FittedPostprocess, fitPostprocess, PostprocessSettings } from "../../src/embed/postprocess.js";
import { postprocessOf } from "../../src/embed/postprocessed.js";
import { createProvider } from "../../src/embed/registry.js";
import { type EmbeddingMatrix, providerId } from "../../src/embed/types.js";
import { InputError } from "../../src/util/errors.js";
import { Rng } from "../../src/util/rng.js";
import { influenzaTokens } from "./influenza-tokens.js";

/** n rows of mean + t_i * a + noise: one dominant direction a (unit), in d dimensions. */
function dominated(n: number, d: number, seed: number): { m: EmbeddingMatrix; a: Float64Array } {
  const rng = new Rng(seed);
  const a = new Float64Array(d).map(() => rng.normal());
  const na = Math.hypot(...a);
  for (let k = 0; k < d; k++) a[k] /= na;
  const data = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const t = 5 * rng.normal();
    for (let k = 0; k < d; k++) data[i * d + k] = 3 + t * a[k] + 0.3 * rng.normal();
  }
  return { m: { rows: n, dim: d, data }, a };
}

function covariance(m: EmbeddingMatrix): number[][] {
  const { rows: n, dim: d } = m;
  const mu = Array.from({ length: d }, (_, k) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += m.data[i * d + k];
    return s / n;
  });
  return Array.from({ length: d }, (_, a) =>
    Array.from({ length: d }, (_, b) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += (m.data[i * d + a] - mu[a]) * (m.data[i * d + b] - mu[b]);
      return s / n;
    }),
  );
}

test("settings: a list or a comma string of steps; none; errors name the step", () => {
  assert.deepEqual(PostprocessSettings.parse("center, whiten:64 ,l2"), [
    { kind: "center" },
    { kind: "whiten", rank: 64 },
    { kind: "l2" },
  ]);
  assert.deepEqual(PostprocessSettings.parse(["remove-top-k", { kind: "remove-top-k", k: 3 }, "abtt:2"]), [
    { kind: "remove-top-k" },
    { kind: "remove-top-k", k: 3 },
    { kind: "remove-top-k", k: 2 },
  ]);
  assert.deepEqual(PostprocessSettings.parse("none"), []);
  for (const [bad, msg] of [
    ["whiten:0", /positive integer/],
    ["frobnicate", /unknown postprocess step "frobnicate"/],
    ["center:3", /takes no number/],
  ] as const) {
    const r = PostprocessSettings.safeParse(bad);
    assert.equal(r.success, false);
    assert.match(r.error?.issues[0].message ?? "", msg);
  }
});

test("center, whiten, remove-top-k, l2: the numbers they promise", () => {
  const { m, a } = dominated(60, 6, 3);
  // center: the fitted rows' mean becomes 0 (to float32 rounding).
  const centered = fitPostprocess([{ kind: "center" }], m).apply(m);
  for (const row of covariance(centered)) assert.equal(row.length, 6);
  for (let k = 0; k < 6; k++) {
    let s = 0;
    for (let i = 0; i < 60; i++) s += centered.data[i * 6 + k];
    assert.ok(Math.abs(s / 60) < 1e-5);
  }
  // whiten: covariance of the output = identity; whiten:3 cuts the dimension to 3.
  const w = fitPostprocess([{ kind: "whiten" }], m);
  assert.equal(w.outputDimension, 6);
  const cov = covariance(w.apply(m));
  cov.forEach((r, i) => {
    r.forEach((x, j) => {
      assert.ok(Math.abs(x - (i === j ? 1 : 0)) < 1e-4, `cov[${i}][${j}] = ${x}`);
    });
  });
  const w3 = fitPostprocess([{ kind: "whiten", rank: 3 }], m);
  assert.equal(w3.apply(m).dim, 3);
  assert.throws(() => fitPostprocess([{ kind: "whiten", rank: 7 }], m), /more components than the 6/);
  // remove-top-k:1 removes the dominant direction a: the projection on it is ~0 (it was ~5).
  const r = fitPostprocess([{ kind: "remove-top-k", k: 1 }], m);
  const step = r.steps[0];
  assert.ok(step.kind === "remove-top-k" && Math.abs(cosine(step.directions, a)) > 0.99);
  const out = r.apply(m);
  let before = 0;
  let after = 0;
  for (let i = 0; i < 60; i++) {
    const x = row(m, i);
    const y = row(out, i);
    let pb = 0;
    let pa = 0;
    for (let k = 0; k < 6; k++) {
      pb += (x[k] - 3) * a[k];
      pa += y[k] * a[k];
    }
    before += pb * pb;
    after += pa * pa;
  }
  assert.ok(Math.sqrt(before / 60) > 3, `before ${Math.sqrt(before / 60)}`);
  assert.ok(Math.sqrt(after / 60) < 0.1, `after ${Math.sqrt(after / 60)}`);
  // Default k: round(d / 100), at least 1.
  const auto = fitPostprocess([{ kind: "remove-top-k" }], m).steps[0];
  assert.equal(auto.kind === "remove-top-k" ? auto.k : undefined, 1);
  assert.equal(fitPostprocess([{ kind: "remove-top-k" }], m).requested, "remove-top-k");
  // l2 after center: unit rows; zero rows stay zero and are not fitted on.
  const withZero: EmbeddingMatrix = { rows: 61, dim: 6, data: new Float32Array(61 * 6) };
  withZero.data.set(m.data, 6);
  const t = fitPostprocess([{ kind: "center" }, { kind: "l2" }], withZero);
  const o = t.apply(withZero);
  assert.deepEqual(Array.from(row(o, 0)), [0, 0, 0, 0, 0, 0]);
  for (let i = 1; i < 61; i++) assert.ok(Math.abs(Math.hypot(...row(o, i)) - 1) < 1e-6);
  assert.deepEqual(o.data.subarray(6), fitPostprocess([{ kind: "center" }, { kind: "l2" }], m).apply(m).data);
  assert.throws(
    () => fitPostprocess([{ kind: "center" }], { rows: 1, dim: 2, data: Float32Array.of(1, 2) }),
    InputError,
  );
});

test("a transform's JSON gives bit-identical vectors and the same hash; bad JSON is an InputError", () => {
  const { m } = dominated(40, 5, 7);
  const t = fitPostprocess([{ kind: "remove-top-k", k: 1 }, { kind: "whiten", rank: 3 }, { kind: "l2" }], m);
  assert.equal(t.requested, "remove-top-k:1,whiten:3,l2");
  const back = FittedPostprocess.fromJSON(JSON.parse(JSON.stringify(t.toJSON())));
  assert.deepEqual(back.apply(m).data, t.apply(m).data);
  assert.equal(back.fit, t.fit);
  assert.match(t.fit ?? "", /^sha256:[0-9a-f]{64}$/);
  // Guard: another fit has another hash.
  assert.notEqual(
    fitPostprocess(
      [{ kind: "remove-top-k", k: 1 }, { kind: "whiten", rank: 3 }, { kind: "l2" }],
      dominated(40, 5, 8).m,
    ).fit,
    t.fit,
  );
  const j = t.toJSON();
  const short = {
    ...j,
    steps: [{ ...j.steps[0], mean: Buffer.alloc(8).toString("base64") }, ...j.steps.slice(1)],
  };
  assert.throws(
    () => FittedPostprocess.fromJSON(short, { file: "b.cbm", field: "embedding-postprocess.json" }),
    (e: unknown) =>
      e instanceof InputError && /b\.cbm.*steps\.0.*mean holds 2 floats, expected 5/.test(e.message),
  );
  assert.throws(() => FittedPostprocess.fromJSON({ ...j, version: 2 }), InputError);
  assert.throws(() => t.apply({ rows: 1, dim: 4, data: new Float32Array(4) }), /expects dimension 5/);
  // l2 alone is not fitted: no hash, no input dimension.
  const l2 = fitPostprocess([{ kind: "l2" }], m);
  assert.equal(l2.fit, undefined);
  assert.equal(l2.inputDimension, null);
});

test("as a provider setting: fitted on the source vocabulary, part of the id, the base cached apart", async () => {
  const tokens = influenzaTokens();
  const source = { site: "influenza", tokens };
  const bert = { provider: "table" as const, file: "shared:influenza-embeddings/concept_pair_bert.h5" };
  const raw = await createProvider(bert);
  const cacheDir = mkdtempSync(join(tmpdir(), "cb-post-"));
  const cache = new EmbeddingCache(cacheDir);
  const centered = await createProvider(
    { ...bert, postprocess: "center" },
    { sourceVocabulary: source, cache },
  );
  assert.equal(centered.info.postprocess, "center");
  assert.match(centered.info.postprocessFit ?? "", /^sha256:/);
  assert.equal(centered.info.dimension, 768);
  assert.equal(centered.info.revision, raw.info.revision);
  // The base's vectors went through the cache under the base's own id.
  assert.equal(cache.size(providerId(raw.info)), tokens.length);
  // Centered on these tokens, the raw figures of the output are the centered figures of the input:
  // BERT's "X" / "Not X" cosine drops from 0.915 to 0.463 (numpy agrees, see diagnostics.test.ts).
  const before = embeddingDiagnostics(await raw.embed(tokens), tokens).stats;
  const after = embeddingDiagnostics(await centered.embed(tokens), tokens).stats;
  assert.ok(before.raw.negationCosine !== null && before.raw.negationCosine > 0.9);
  assert.ok(Math.abs((after.raw.negationCosine ?? 0) - (before.centered.negationCosine ?? 1)) < 1e-5);
  assert.ok(Math.abs(after.raw.meanCosine) < 0.01 && before.raw.meanCosine > 0.8);
  // remove-top-k with its default k (round(768 / 100) = 8) takes the negation cosine a little lower
  // than centering alone: 0.437.
  const abtt = await createProvider(
    { ...bert, postprocess: ["remove-top-k", "l2"] },
    { sourceVocabulary: source },
  );
  const s = embeddingDiagnostics(await abtt.embed(tokens), tokens).stats;
  const neg = s.raw.negationCosine ?? 1;
  assert.ok(Math.abs(neg - 0.437) < 0.002 && neg < (before.centered.negationCosine ?? 0), `abtt ${neg}`);
  const first = postprocessOf(abtt)?.steps[0];
  assert.equal(first?.kind === "remove-top-k" ? first.k : undefined, 8);
  // A transform handed in is used as is, and must be the spec's.
  const t = postprocessOf(centered);
  assert.ok(t);
  const again = await createProvider({ ...bert, postprocess: ["center"] }, { postprocessTransform: t });
  assert.equal(providerId(again.info), providerId(centered.info));
  await assert.rejects(
    createProvider({ ...bert, postprocess: "l2" }, { postprocessTransform: t }),
    /differs from the transform fitted at the source/,
  );
  await assert.rejects(createProvider(bert, { postprocessTransform: t }), /has no postprocess setting/);
  await assert.rejects(
    createProvider({ ...bert, postprocess: "center" }),
    /fitted on the source vocabulary, which is missing/,
  );
  // l2 needs no fit; "none" is no postprocess at all (the plain id).
  const l2 = await createProvider({ ...bert, postprocess: "l2" });
  assert.equal(l2.info.postprocess, "l2");
  assert.equal(l2.info.postprocessFit, undefined);
  assert.equal(
    providerId((await createProvider({ ...bert, postprocess: "none" })).info),
    providerId(raw.info),
  );
});
