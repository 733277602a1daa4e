import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { resolveSource } from "../../src/data/sources.js";
import { generateWorld } from "../../src/data/synthetic/world.js";
import { writeWorld } from "../../src/data/synthetic/write.js";
import { InputError } from "../../src/util/errors.js";

test("resolveSource: synthetic[:seed], a written world directory, findings CSV with catalog", async () => {
  const small = { encountersPerSite: 200 };
  const s = await resolveSource("synthetic:5", { synthetic: small });
  assert.deepEqual(
    s.map((d) => d.name),
    ["site-A", "site-B"],
  );
  const dir = join("test-output", "data", "sources-world");
  await writeWorld(generateWorld({ ...small, seed: 5 }), dir);
  const back = await resolveSource(dir);
  assert.deepEqual(
    back.map((d) => [d.name, d.encounters.count]),
    [
      ["site-A", 200],
      ["site-B", 200],
    ],
  );
  assert.deepEqual(back[1].encounters.labels, s[1].encounters.labels);
  const one = await resolveSource(join(dir, "site-B"));
  assert.equal(one.length, 1);
  const f = await resolveSource(
    "shared:influenza-dtl/target_train/findings_final_0814_seed-53154026_size50.csv",
    {
      catalog: "shared:influenza-embeddings/concept_pair.txt",
    },
  );
  assert.equal(f[0].encounters.count, 50);
});

test("resolveSource: errors for a findings table without catalog, a missing path, a bad seed", async () => {
  await assert.rejects(
    resolveSource("shared:influenza-dtl/target_train/findings_final_0814_seed-53154026_size50.csv"),
    /needs a concept catalog/,
  );
  await assert.rejects(resolveSource("no/such/path"), InputError);
  await assert.rejects(resolveSource("synthetic:abc"), /not an integer seed/);
});
