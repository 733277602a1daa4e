import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { z } from "zod";
import { ExperimentSpecFields, parseSpec } from "../../src/experiment/spec.js";
import { EMBEDDING_PREFIX, specDocMarkdown, specFields } from "../../src/experiment/spec-doc.js";
import { specDocInputs } from "../../src/experiment/spec-doc-inputs.js";
import { TrainSettings } from "../../src/model/train-settings.js";
import { PROJECT_ROOT } from "../../src/util/paths.js";

const inputs = await specDocInputs();
const fields = specFields(inputs.examples);

test("every spec field outside the embedding providers has a description", () => {
  const missing = fields
    .filter((f) => !f.description && !f.path.startsWith(`${EMBEDDING_PREFIX}.`))
    .map((f) => f.path);
  assert.deepEqual(missing, []);
});

test("embedding provider fields have descriptions", () => {
  const missing = fields
    .filter((f) => !f.description && f.path.startsWith(`${EMBEDDING_PREFIX}.`))
    .map((f) => f.path);
  assert.deepEqual(missing, []);
});

test("docs/spec.md is generated from the schemas and up to date (npm run spec-doc)", () => {
  const doc = readFileSync(join(PROJECT_ROOT, "docs", "spec.md"), "utf8");
  assert.equal(
    doc,
    specDocMarkdown(inputs.examples, inputs.shown),
    "docs/spec.md is stale: run npm run spec-doc",
  );
});

test("every field of the spec schema, and of the training blocks, is in docs/spec.md", () => {
  const doc = readFileSync(join(PROJECT_ROOT, "docs", "spec.md"), "utf8");
  // Independently of the generator's walk: the top-level keys and TrainSettings' keys by zod itself.
  for (const k of Object.keys(ExperimentSpecFields.shape)) assert.ok(doc.includes(`| \`${k}\``), k);
  for (const k of Object.keys(TrainSettings.shape)) assert.ok(doc.includes(`| \`<block>.${k}\``), k);
  for (const f of fields) assert.ok(doc.includes(`\`${f.path}\``), f.path);
  const json = z.toJSONSchema(ExperimentSpecFields, { io: "input", unrepresentable: "any" }) as {
    properties: Record<string, { properties?: Record<string, unknown> }>;
  };
  for (const [k, v] of Object.entries(json.properties)) {
    for (const sub of Object.keys(v.properties ?? {}))
      assert.ok(doc.includes(`\`${k}.${sub}\``), `${k}.${sub}`);
  }
});

test("an out-of-range setting says why the bound exists", () => {
  const base = {
    version: 1,
    name: "x",
    sites: { A: { adapter: "synthetic", site: 0 }, B: { adapter: "synthetic", site: 1 } },
    task: { type: "binary", name: "t", positive: "influenza" },
    embeddings: { o: { provider: "onehot" } },
    scenarios: ["local"],
    directions: "all-pairs",
  };
  assert.throws(
    () => parseSpec({ ...base, evaluation: { bootstrap: 200 } }),
    /evaluation\.bootstrap.*at least 1000 resamples: the 2\.5% and 97\.5% percentiles/,
  );
  assert.throws(
    () => parseSpec({ ...base, training: { momentum: 1 } }),
    /momentum 1 never forgets a gradient/,
  );
  assert.throws(() => parseSpec({ ...base, model: { dropout: 1 } }), /dropout 1 would drop every feature/);
  assert.throws(() => parseSpec({ ...base, report: { smallCellThreshold: 0 } }), /would suppress nothing/);
  assert.equal(parseSpec({ ...base, report: { smallCellThreshold: 20 } }).report?.smallCellThreshold, 20);
});
