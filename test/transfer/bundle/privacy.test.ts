import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildVocabulary, encodeEncounters } from "../../../src/concepts/vocabulary.js";
import { stratifiedSplit } from "../../../src/data/splits.js";
import { paperCnn } from "../../../src/model/architecture.js";
import { predictProba } from "../../../src/model/predict.js";
import { trainModel } from "../../../src/model/train.js";
import { PAPER_SETTINGS } from "../../../src/model/train-settings.js";
import { decodeBundle, encodeBundle } from "../../../src/transfer/bundle/bundle.js";
import { Rng } from "../../../src/util/rng.js";
import { tinySite } from "./fixtures.js";

/** Train a small model on a tiny site, the way a source site would before exporting a bundle. */
function trainedOnTinySite() {
  const ds = tinySite();
  const { vocabulary, typeToToken } = buildVocabulary(ds);
  const dim = 4;
  const rng = new Rng(11);
  const rows = vocabulary.tokens.length + 1;
  const embedding = { rows, dim, data: new Float32Array(rows * dim) };
  for (let i = dim; i < embedding.data.length; i++) embedding.data[i] = rng.normal();
  const labels = ds.encounters.labels;
  const [trainIdx, valIdx, testIdx] = stratifiedSplit(labels, [0.6, 0.3, 0.1], 1);
  const part = (idx: Uint32Array) => ({
    seqs: encodeEncounters(ds, typeToToken, idx),
    labels: Int32Array.from(idx, (i) => labels[i]),
  });
  const result = trainModel({
    architecture: { ...paperCnn(dim, 2), filters: [5] },
    embedding,
    embeddingRef: { providerId: '{"provider":"test"}', dimension: dim, trainable: false },
    classes: ds.labelClasses,
    train: part(trainIdx),
    validation: part(valIdx),
    settings: { ...PAPER_SETTINGS, epochs: 2, itersPerEpoch: 5 },
    vocabulary: vocabulary.tokens.map((t) => ({ key: t.key, text: t.text })),
  });
  return { ds, embedding, typeToToken, result, counts: [trainIdx.length, valIdx.length, testIdx.length] };
}

describe("bundle privacy", () => {
  const { ds, embedding, typeToToken, result, counts } = trainedOnTinySite();
  const [train, validation, test] = counts;
  const bytes = encodeBundle({
    snapshot: result.snapshot,
    training: { ...PAPER_SETTINGS },
    performance: { metrics: { auroc: 0.71, aurocCI: [0.52, 0.9] }, counts: { train, validation, test } },
    createdAt: "2026-01-01T00:00:00.000Z",
  });
  const latin1 = bytes.toString("latin1");

  it("holds no encounter id", () => {
    assert.equal(ds.encounters.count, 80);
    for (const id of ds.encounters.ids) assert.equal(latin1.includes(id), false, id);
    assert.equal(latin1.includes("stay-7731"), false);
  });

  it("holds no training row: no encounter's token sequence or the label vector in any encoding", () => {
    const seqs = encodeEncounters(ds, typeToToken);
    let checked = 0;
    for (let i = 0; i < seqs.count; i++) {
      const ids = Array.from(seqs.tokens.subarray(seqs.offsets[i], seqs.offsets[i + 1]));
      if (ids.length < 3) continue; // two small integers in a row occur by chance in JSON text
      checked++;
      const u32 = Buffer.from(Uint32Array.from(ids).buffer);
      const f32 = Buffer.from(Float32Array.from(ids).buffer);
      for (const needle of [
        `[${ids.join(",")}]`,
        ids.join(","),
        u32.toString("latin1"),
        f32.toString("latin1"),
      ]) {
        assert.equal(latin1.includes(needle), false, `sequence of encounter ${i} found`);
      }
    }
    assert.ok(checked > 20);
    const labels = Array.from(ds.encounters.labels.subarray(0, 16));
    assert.equal(latin1.includes(labels.join(",")), false);
    assert.equal(latin1.includes(Buffer.from(Int32Array.from(labels).buffer).toString("latin1")), false);
  });

  it("states no count below 11 (a test split of 8 is suppressed, others rounded up)", () => {
    assert.ok(test < 11, "the fixture must have a small cell to suppress");
    const { header } = decodeBundle(bytes, "b");
    const found: [string, unknown][] = [];
    const walk = (v: unknown, path: string): void => {
      if (Array.isArray(v)) {
        for (const [i, x] of v.entries()) walk(x, `${path}[${i}]`);
      } else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`);
      else if (/counts\.|count$/i.test(path)) found.push([path, v]);
    };
    walk(header, "header");
    assert.deepEqual(found, [
      ["header.performance.counts.train", Math.ceil(train / 10) * 10],
      ["header.performance.counts.validation", Math.ceil(validation / 10) * 10],
      ["header.performance.counts.test", "<11"],
    ]);
    for (const [, v] of found) assert.ok(v === "<11" || (typeof v === "number" && v >= 11));
  });

  it("predicts exactly what the model it was built from predicts", () => {
    const opened = decodeBundle(bytes, "b");
    const seqs = encodeEncounters(ds, typeToToken);
    assert.deepEqual(
      predictProba(opened.snapshot, embedding, seqs),
      predictProba(result.snapshot, embedding, seqs),
    );
  });
});
