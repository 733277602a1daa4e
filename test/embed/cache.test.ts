import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { EmbeddingCache, embedWithCache } from "../../src/embed/cache.js";
import type { EmbeddingProvider } from "../../src/embed/types.js";
import { InputError } from "../../src/util/errors.js";
import { tok } from "./influenza-tokens.js";

const fresh = () => mkdtempSync(join(tmpdir(), "cb-cache-"));

test("vectors survive a new process's cache object, bit for bit", () => {
  const dir = fresh();
  const a = new EmbeddingCache(dir);
  a.put("p", 3, [
    { text: "fever", vector: [0.1, -2, 3e-8] },
    { text: "Not fever", vector: [1, 2, 3] },
  ]);
  a.put("q", 2, [{ text: "fever", vector: [5, 6] }]);
  const b = new EmbeddingCache(dir);
  assert.deepEqual(b.get("p", "fever"), Float32Array.from([0.1, -2, 3e-8]));
  assert.deepEqual(b.get("q", "fever"), Float32Array.from([5, 6]));
  assert.equal(b.get("p", "cough"), undefined);
  assert.equal(b.size("p"), 2);
  assert.equal(b.dimension("p"), 3);
  // A second writer's appends become visible to an existing reader.
  a.put("p", 3, [{ text: "cough", vector: [7, 8, 9] }]);
  assert.deepEqual(b.get("p", "cough"), Float32Array.from([7, 8, 9]));
});

test("torn last record and a damaged record in the middle are skipped", () => {
  const dir = fresh();
  const c = new EmbeddingCache(dir);
  c.put("p", 2, [{ text: "a", vector: [1, 2] }]);
  c.put("p", 2, [{ text: "b", vector: [3, 4] }]);
  const file = c.fileFor("p");
  // A crash mid-write: the first 10 bytes of a record of "c" (record = 16 + text 1 padded to 4 + 2 x 4 bytes).
  const probe = new EmbeddingCache(fresh());
  probe.put("p", 2, [{ text: "c", vector: [5, 6] }]);
  const probeBytes = readFileSync(probe.fileFor("p"));
  const cRecord = probeBytes.subarray(probeBytes.length - (16 + 4 + 8));
  appendFileSync(file, cRecord.subarray(0, 10));
  const r1 = new EmbeddingCache(dir);
  assert.equal(r1.size("p"), 2);
  assert.equal(r1.get("p", "c"), undefined);
  // Later appends after the torn bytes are found (resynchronising on the record marker).
  c.put("p", 2, [{ text: "d", vector: [7, 8] }]);
  assert.deepEqual(r1.get("p", "d"), Float32Array.from([7, 8]));
  // Flip a byte inside the vector of "a": its checksum fails, it is skipped, the rest still reads.
  const bytes = readFileSync(file);
  const aPos = bytes.indexOf(Buffer.from("a", "utf8"), bytes.indexOf(Buffer.from([0xcb, 0xe3, 0xb0, 0xd1])));
  bytes[aPos + 4] ^= 0xff;
  writeFileSync(file, bytes);
  const r2 = new EmbeddingCache(dir);
  assert.equal(r2.get("p", "a"), undefined);
  assert.deepEqual(r2.get("p", "b"), Float32Array.from([3, 4]));
  assert.deepEqual(r2.get("p", "d"), Float32Array.from([7, 8]));
});

test("dimension mismatch and bad vectors are errors; nothing bad is cached", () => {
  const c = new EmbeddingCache(fresh());
  c.put("p", 2, [{ text: "a", vector: [1, 2] }]);
  assert.throws(
    () => c.put("p", 3, [{ text: "b", vector: [1, 2, 3] }]),
    /dimension 3 does not match the cache's 2/,
  );
  assert.throws(() => c.put("p", 2, [{ text: "b", vector: [1, Number.NaN] }]), /non-finite/);
  assert.throws(() => c.put("p", 2, [{ text: "b", vector: [0, 0] }]), /all zero/);
  assert.throws(
    () =>
      c.put("p", 2, [
        { text: "ok", vector: [1, 1] },
        { text: "b", vector: [1] },
      ]),
    /dimension 1, expected 2/,
  );
  assert.equal(new EmbeddingCache(c.dir).size("p"), 1);
});

test("embedWithCache embeds each missing text once and nothing cached again", async () => {
  const c = new EmbeddingCache(fresh());
  const seen: string[] = [];
  const provider: EmbeddingProvider = {
    info: { provider: "hashing", model: "test", dimension: 2 },
    async embed(tokens) {
      seen.push(...tokens.map((t) => t.text));
      const data = new Float32Array(tokens.length * 2);
      tokens.forEach((t, i) => {
        data[i * 2] = t.text.length;
        data[i * 2 + 1] = 1;
      });
      return { rows: tokens.length, dim: 2, data };
    },
  };
  const tokens = [tok("A", "fever"), tok("B", "cough"), tok("C", "fever")];
  const m1 = await embedWithCache(provider, tokens, c);
  assert.deepEqual(Array.from(m1.data), [5, 1, 5, 1, 5, 1]);
  assert.deepEqual(seen, ["fever", "cough"]);
  assert.equal(m1.embedded, 2);
  const m2 = await embedWithCache(provider, [...tokens, tok("D", "rash")], new EmbeddingCache(c.dir));
  assert.deepEqual(seen, ["fever", "cough", "rash"]);
  assert.equal(m2.cached, 2);
  assert.deepEqual(Array.from(m2.data), [5, 1, 5, 1, 5, 1, 4, 1]);
  // A provider that returns another dimension under the same id cannot use this cache.
  const wrong: EmbeddingProvider = {
    info: provider.info,
    embed: async (t) => ({ rows: t.length, dim: 3, data: new Float32Array(t.length * 3).fill(1) }),
  };
  await assert.rejects(embedWithCache(wrong, [tok("E", "new")], new EmbeddingCache(c.dir)), (e: unknown) => {
    assert.ok(e instanceof InputError);
    assert.match(e.message, /dimension 3, expected 2/);
    return true;
  });
  // A bad vector from the provider is an error and is not cached.
  const nan: EmbeddingProvider = {
    info: { provider: "hashing", model: "nan", dimension: 2 },
    async embed(t) {
      return { rows: t.length, dim: 2, data: new Float32Array(t.length * 2).fill(Number.NaN) };
    },
  };
  await assert.rejects(embedWithCache(nan, [tok("A", "x")], c), /non-finite/);
  assert.equal(c.size('{"dimension":2,"model":"nan","provider":"hashing"}'), 0);
});

function run(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ["--import", "tsx", ...args], {
      stdio: ["ignore", "ignore", "inherit"],
    });
    p.on("error", reject);
    p.on("exit", (code) => resolve(code ?? -1));
  });
}

test("concurrent processes appending to one cache lose nothing", async () => {
  const dir = fresh();
  const writers = 3;
  const batches = 60;
  const perBatch = 20;
  const script = join(import.meta.dirname, "fixtures", "cache-writer.ts");
  const codes = await Promise.all(
    Array.from({ length: writers }, (_, w) =>
      run([script, dir, String(w), String(batches), String(perBatch)]),
    ),
  );
  assert.deepEqual(codes, Array(writers).fill(0));
  const c = new EmbeddingCache(dir);
  assert.equal(c.size("test-provider"), writers * batches * perBatch + batches);
  for (let w = 0; w < writers; w++) {
    for (const i of [0, 577, batches * perBatch - 1]) {
      assert.deepEqual(c.get("test-provider", `${w}-${i}`), Float32Array.from([w, i, 1]));
    }
  }
  assert.deepEqual(c.get("test-provider", "shared-59"), Float32Array.from([-1, 59, 1]));
});
