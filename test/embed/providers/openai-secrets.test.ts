import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { EmbeddingCache, embedWithCache } from "../../../src/embed/cache.js";
import { createOpenAIProvider } from "../../../src/embed/providers/openai.js";
import { providerId } from "../../../src/embed/types.js";
import { runExperiment } from "../../../src/experiment/runner.js";
import { parseSpec } from "../../../src/experiment/spec.js";
import { exportBundle } from "../../../src/transfer/bundle/workflow.js";
import { runCli } from "../../cli/in-process.js";
import { startFakeServer } from "../fixtures/fake-embeddings-server.js";
import { texts } from "../fixtures/openai-texts.js";

/**
 * Case 7 of "Results a reviewer can trust": an API key in the endpoint URL (query string or
 * user-info) never leaves the process: not in an error, the provider id, a cache file, a model file,
 * a bundle, provenance or the results.
 */
const SECRET = "sk-test-0123456789abcdefSECRET";

/** Every file under `dir`, as latin1 text (bundles are binary). */
function allText(dir: string): string {
  let out = "";
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    out += statSync(p).isDirectory() ? allText(p) : readFileSync(p, "latin1");
  }
  return out;
}

test("a key in the URL's query: used for the request, absent from the provider id, errors and the cache", async () => {
  const server = await startFakeServer();
  try {
    const provider = createOpenAIProvider({ baseUrl: `${server.url}?key=${SECRET}`, model: "fake" });
    assert.ok(!providerId(provider.info).includes(SECRET), providerId(provider.info));
    assert.match(providerId(provider.info), /key=\[redacted\]/);
    const cacheDir = mkdtempSync(join(tmpdir(), "cb-secret-cache-"));
    const m = await embedWithCache(provider, texts(5), new EmbeddingCache(cacheDir));
    assert.equal(m.rows, 5);
    assert.match(
      server.requests[0].path,
      new RegExp(`^/v1/embeddings\\?key=${SECRET}$`),
      "the request has the key",
    );
    assert.ok(!allText(cacheDir).includes(SECRET), "cache file without the key");
  } finally {
    await server.close();
  }
  // Errors: an unreachable endpoint, and a URL with user-info (which fetch refuses).
  for (const baseUrl of [`http://127.0.0.1:1/v1?api_key=${SECRET}`, `http://user:${SECRET}@127.0.0.1:1/v1`]) {
    const p = createOpenAIProvider({
      baseUrl,
      model: "fake",
      maxConnectRetries: 0,
      maxRetries: 0,
      initialBackoffMs: 1,
    });
    assert.ok(!JSON.stringify(p.info).includes(SECRET));
    await assert.rejects(p.embed(texts(1)), (e: unknown) => {
      assert.ok(e instanceof Error);
      assert.ok(!e.message.includes(SECRET), e.message);
      assert.ok(!(e.stack ?? "").includes(SECRET), e.stack);
      return true;
    });
  }
});

test("through a run: no key in provenance, results, model files or a bundle made from them; none in CLI errors", async () => {
  const server = await startFakeServer();
  try {
    const world = { encountersPerSite: 150, seed: 3 };
    const raw = {
      version: 1,
      name: "secret-run",
      sites: {
        A: { adapter: "synthetic", site: 0, world },
        B: { adapter: "synthetic", site: 1, world },
      },
      task: { type: "binary", name: "flu", positive: "influenza" },
      embeddings: { api: { provider: "openai", baseUrl: `${server.url}?key=${SECRET}`, model: "fake" } },
      scenarios: ["source-only"],
      directions: [{ source: "A", target: "B" }],
      model: { kinds: ["logistic"] },
      baselineTraining: { epochs: 1, itersPerEpoch: 5 },
    };
    const out = mkdtempSync(join(tmpdir(), "cb-secret-run-"));
    const spec = parseSpec(raw, "secret.json");
    const r = await runExperiment(
      { spec, path: "secret.json", dir: process.cwd() },
      { out, quiet: true, workers: 1 },
    );
    assert.equal(r.failed, 0, JSON.stringify(r.results[0]?.error));
    const models = readdirSync(join(out, "models"));
    assert.equal(models.length, 1);
    await exportBundle({ model: join(out, "models", models[0]), out: join(out, "model.cbm") });
    assert.ok(!allText(out).includes(SECRET), "no file under --out holds the key");
    assert.match(readFileSync(join(out, "provenance.json"), "utf8"), /key=\[redacted\]/);
  } finally {
    await server.close();
  }
  // A CLI error that would quote the URL: redacted on the way out too.
  const specFile = join(mkdtempSync(join(tmpdir(), "cb-secret-cli-")), "embedding.json");
  writeFileSync(
    specFile,
    JSON.stringify({
      provider: "openai",
      baseUrl: `http://127.0.0.1:1/v1?key=${SECRET}`,
      model: "fake",
      maxConnectRetries: 0,
      maxRetries: 0,
    }),
  );
  const cli = await runCli(["embed", "synthetic", "--spec", specFile, "--no-cache"]);
  assert.notEqual(cli.code, 0);
  assert.match(cli.output, /127\.0\.0\.1/);
  assert.ok(!cli.output.includes(SECRET), cli.output);
});
