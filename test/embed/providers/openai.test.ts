import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { EmbeddingCache, embedWithCache } from "../../../src/embed/cache.js";
import {
  approxTokens,
  createOpenAIProvider,
  planBatches,
  retryAfterMs,
} from "../../../src/embed/providers/openai.js";
import { providerId } from "../../../src/embed/types.js";
import { InputError } from "../../../src/util/errors.js";
import { DIM, fakeVector, startFakeServer } from "../fixtures/fake-embeddings-server.js";
import { texts } from "../fixtures/openai-texts.js";

const fast = { initialBackoffMs: 1, maxBackoffMs: 5 };
const freshDir = () => mkdtempSync(join(tmpdir(), "cb-openai-"));

function assertVectors(data: Float32Array, tokens: { text: string }[]): void {
  assert.equal(data.length, tokens.length * DIM);
  tokens.forEach((t, i) => {
    const want = Float32Array.from(fakeVector(t.text));
    assert.deepEqual(data.subarray(i * DIM, (i + 1) * DIM), want, t.text);
  });
}

test("batches by count and by approximate token budget", () => {
  assert.equal(approxTokens("abcdefgh"), 3);
  // tokens: 2, 2, 26, 2, 2 with budget 28 and at most 3 per batch.
  const t = ["a", "b", "x".repeat(100), "c", "d"];
  assert.deepEqual(planBatches(t, 3, 28), [[0, 1], [2, 3], [4]]);
  assert.deepEqual(planBatches(t, 2, 1000), [[0, 1], [2, 3], [4]]);
  assert.deepEqual(planBatches(["x".repeat(400)], 10, 5), [[0]]);
  const h = new Headers({ "retry-after": "2" });
  assert.equal(retryAfterMs(h), 2000);
  assert.equal(retryAfterMs(new Headers({ "retry-after-ms": "150", "retry-after": "9" })), 150);
  assert.equal(retryAfterMs(new Headers({ "retry-after": new Date(10_000).toUTCString() }), 7_000), 3000);
});

test("10,000 texts with 20% 429s and 5% 500s: every vector exactly once, in order, cache complete", async () => {
  const server = await startFakeServer({ p429: 0.2, p500: 0.05, seed: 7 });
  try {
    const provider = createOpenAIProvider({
      baseUrl: server.url,
      model: "fake",
      batchSize: 100,
      concurrency: 4,
      maxRetries: 30,
      ...fast,
    });
    const tokens = texts(10_000);
    const cache = new EmbeddingCache(freshDir());
    const m = await embedWithCache(provider, tokens, cache);
    assertVectors(m.data, tokens);
    assert.equal(m.embedded, 10_000);
    assert.ok((server.status.get(429) ?? 0) > 10, `429s: ${server.status.get(429)}`);
    assert.ok((server.status.get(500) ?? 0) > 2, `500s: ${server.status.get(500)}`);
    assert.equal(server.served.size, 10_000);
    assert.ok([...server.served.values()].every((c) => c === 1));
    const reread = new EmbeddingCache(cache.dir);
    assert.equal(reread.size(providerId(provider.info)), 10_000);
    // A second run is served entirely from the cache.
    const before = server.requests.length;
    const again = await embedWithCache(provider, tokens, reread);
    assert.equal(server.requests.length, before);
    assert.equal(again.cached, 10_000);
    assertVectors(again.data, tokens);
  } finally {
    await server.close();
  }
});

test("slow and malformed replies are retried and never cached", async () => {
  const server = await startFakeServer({ pSlow: 0.1, slowMs: 800, pMalformed: 0.25, seed: 3 });
  try {
    const provider = createOpenAIProvider({
      baseUrl: server.url,
      model: "fake",
      batchSize: 20,
      concurrency: 4,
      timeoutMs: 250,
      maxRetries: 30,
      ...fast,
    });
    const tokens = texts(600);
    const cache = new EmbeddingCache(freshDir());
    const m = await embedWithCache(provider, tokens, cache);
    assertVectors(m.data, tokens);
    const reread = new EmbeddingCache(cache.dir);
    const cached = reread.getMany(
      providerId(provider.info),
      tokens.map((t) => t.text),
    );
    cached.forEach((v, i) => {
      assert.deepEqual(v, Float32Array.from(fakeVector(tokens[i].text)));
    });
    assert.ok(server.requests.length > 30 + 5, `requests ${server.requests.length}`);
  } finally {
    await server.close();
  }
});

test("always-bad replies end in a clear error with nothing cached", async () => {
  const server = await startFakeServer({ pMalformed: 1 });
  try {
    const provider = createOpenAIProvider({ baseUrl: server.url, model: "fake", maxRetries: 3, ...fast });
    const cache = new EmbeddingCache(freshDir());
    await assert.rejects(embedWithCache(provider, texts(5), cache), (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.match(e.message, /failed after 4 attempts: malformed reply|failed after 4 attempts: bad reply/);
      return true;
    });
    assert.equal(new EmbeddingCache(cache.dir).size(providerId(provider.info)), 0);
  } finally {
    await server.close();
  }
});

test("an aborted run resumes without re-requesting cached texts", async () => {
  const server = await startFakeServer({ p429: 0.1, seed: 11 });
  try {
    const provider = createOpenAIProvider({
      baseUrl: server.url,
      model: "fake",
      batchSize: 50,
      concurrency: 2,
      ...fast,
    });
    const tokens = texts(2_000);
    const dir = freshDir();
    const ac = new AbortController();
    await assert.rejects(
      embedWithCache(provider, tokens, new EmbeddingCache(dir), {
        signal: ac.signal,
        onProgress: (done) => {
          if (done >= 800) ac.abort(new Error("stop"));
        },
      }),
      /stop/,
    );
    const id = providerId(provider.info);
    const cachedTexts = new Set(new EmbeddingCache(dir).entries(id).map(([t]) => t));
    assert.ok(cachedTexts.size >= 800 && cachedTexts.size < 2_000, `cached ${cachedTexts.size}`);
    server.requested.clear();
    const m = await embedWithCache(provider, tokens, new EmbeddingCache(dir));
    assertVectors(m.data, tokens);
    assert.equal(m.cached, cachedTexts.size);
    for (const t of server.requested.keys()) assert.ok(!cachedTexts.has(t), `re-requested cached "${t}"`);
    assert.equal(server.requested.size, 2_000 - cachedTexts.size);
  } finally {
    await server.close();
  }
});

test("a killed process resumes without re-requesting cached texts", async () => {
  const server = await startFakeServer({ delayMs: 25 });
  try {
    const dir = freshDir();
    const n = 3_000;
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        join(import.meta.dirname, "..", "fixtures", "openai-child.ts"),
        server.url,
        dir,
        String(n),
      ],
      {
        stdio: ["ignore", "ignore", "inherit"],
      },
    );
    const provider = createOpenAIProvider({
      baseUrl: server.url,
      model: "fake",
      batchSize: 50,
      concurrency: 2,
      ...fast,
    });
    const id = providerId(provider.info);
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    // Kill it once some batches are safely cached.
    for (;;) {
      await new Promise((r) => setTimeout(r, 20));
      if (new EmbeddingCache(dir).size(id) >= 500) break;
    }
    child.kill("SIGKILL");
    await exited;
    const cachedTexts = new Set(new EmbeddingCache(dir).entries(id).map(([t]) => t));
    assert.ok(cachedTexts.size < n, "child finished before it was killed");
    server.requested.clear();
    const m = await embedWithCache(provider, texts(n), new EmbeddingCache(dir));
    assertVectors(m.data, texts(n));
    for (const t of server.requested.keys()) assert.ok(!cachedTexts.has(t), `re-requested cached "${t}"`);
    assert.equal(server.requested.size, n - cachedTexts.size);
  } finally {
    await server.close();
  }
});

test("Azure: api-key header, deployment path, api-version; bad key is redacted", async () => {
  const server = await startFakeServer();
  process.env.CB_TEST_AZURE_KEY = "az-secret-key-123";
  process.env.CB_TEST_WRONG_KEY = "wrong";
  try {
    const provider = createOpenAIProvider({
      baseUrl: server.url.replace(/\/v1$/, ""),
      model: "my-deploy",
      apiKeyEnv: "CB_TEST_AZURE_KEY",
      azure: { apiVersion: "2024-02-01" },
    });
    const m = await provider.embed(texts(3));
    assertVectors(m.data, texts(3));
    const r = server.requests[0];
    assert.equal(r.path, "/openai/deployments/my-deploy/embeddings?api-version=2024-02-01");
    assert.equal(r.headers["api-key"], "az-secret-key-123");
    assert.equal(r.headers.authorization, undefined);
    assert.ok(!JSON.stringify(provider.info).includes("az-secret"));
    const bad = createOpenAIProvider({ baseUrl: server.url, model: "fake", apiKeyEnv: "CB_TEST_WRONG_KEY" });
    await assert.rejects(bad.embed(texts(1)), (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.match(e.message, /HTTP 401 \(check the key in \$CB_TEST_WRONG_KEY\)/);
      assert.ok(!e.message.includes("Bearer wrong"), e.message);
      return true;
    });
  } finally {
    delete process.env.CB_TEST_AZURE_KEY;
    delete process.env.CB_TEST_WRONG_KEY;
    await server.close();
  }
});

test("an unreachable endpoint is a clear error", async () => {
  // A port that was free a moment ago: nothing listens there.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
  const { port } = probe.address() as AddressInfo;
  await new Promise((r) => probe.close(r));
  const provider = createOpenAIProvider({ baseUrl: `http://127.0.0.1:${port}/v1`, model: "fake", ...fast });
  await assert.rejects(provider.embed(texts(2)), (e: unknown) => {
    assert.ok(e instanceof InputError);
    assert.match(
      e.message,
      /failed after 3 attempts: cannot reach http:\/\/127\.0\.0\.1:\d+\/v1 \(ECONNREFUSED\)/,
    );
    return true;
  });
  assert.throws(
    () => createOpenAIProvider({ baseUrl: "not a url", model: "m" }),
    /invalid openai settings: baseUrl/,
  );
});
