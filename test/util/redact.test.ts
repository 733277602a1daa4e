import assert from "node:assert/strict";
import { test } from "node:test";
import {
  redactSecretsIn,
  redactUrl,
  redactUrlsDeep,
  redactUrlsIn,
  urlSecrets,
} from "../../src/util/redact.js";

const SECRET = "sk-live-0123456789abcdef";

test("redactUrl: user-info and query values go, the rest stays exactly as given", () => {
  assert.equal(redactUrl("http://localhost:11434/v1"), "http://localhost:11434/v1");
  assert.equal(redactUrl("https://api.openai.com"), "https://api.openai.com");
  assert.equal(
    redactUrl(`https://h.example/v1?key=${SECRET}&x=1`),
    "https://h.example/v1?key=[redacted]&x=[redacted]",
  );
  assert.equal(redactUrl(`https://me:${SECRET}@h.example/v1`), "https://[redacted]@h.example/v1");
  assert.equal(redactUrl("not a url"), "not a url");
  assert.ok(urlSecrets(`https://me:${SECRET}@h/v1?key=${SECRET}`).includes(SECRET));
});

test("redactUrlsIn / redactUrlsDeep: URLs inside text and JSON lose their secrets", () => {
  const msg = `cannot reach https://h.example/v1?api_key=${SECRET}. Retry later (also https://u:${SECRET}@h2/x)`;
  const r = redactUrlsIn(msg);
  assert.ok(!r.includes(SECRET), r);
  assert.match(r, /https:\/\/h\.example\/v1\?api_key=\[redacted\]\. Retry/);
  const deep = redactUrlsDeep({
    embeddings: { o: { provider: "openai", baseUrl: `https://h/v1?key=${SECRET}` } },
    n: 3,
  });
  assert.ok(!JSON.stringify(deep).includes(SECRET));
  assert.equal(deep.n, 3);
  assert.equal(redactSecretsIn(`Bearer ${SECRET}`, [SECRET]), "Bearer [redacted]");
});
