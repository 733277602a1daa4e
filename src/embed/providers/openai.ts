import { z } from "zod";
import type { VocabularyToken } from "../../concepts/vocabulary.js";
import { InputError } from "../../util/errors.js";
import { parseInput } from "../../util/parse-input.js";
import { redactSecretsIn, redactUrl, redactUrlsIn, urlSecrets } from "../../util/redact.js";
import { checkVector } from "../matrix.js";
import type { EmbeddingMatrix, EmbeddingProvider, EmbedOptions, ProviderInfo } from "../types.js";

/**
 * Any OpenAI-compatible `/v1/embeddings` endpoint: OpenAI, Azure OpenAI, Ollama, vLLM, TEI, LiteLLM.
 * Texts go in batches bounded by count and by an approximate token budget (chars / 4, the usual rule
 * of thumb for English BPE), a few batches at a time, with retries on 429 / 5xx / timeouts / broken
 * replies (exponential backoff with full jitter, honouring Retry-After). Each reply is validated
 * (count, indices, dimension, finite, not all zero) before it is handed on, so a bad reply is never
 * cached. The API key is read from the environment variable *named* in the settings; it is never
 * logged, and any error text that could echo it is redacted.
 */
export const OpenAISettings = z
  .object({
    /** Base URL up to and including the version path, e.g. http://localhost:11434/v1 (Ollama). Azure: the resource endpoint. */
    baseUrl: z
      .string()
      .url()
      .describe(
        "Base URL up to and including the version path, e.g. http://localhost:11434/v1 (Ollama); Azure: the resource endpoint.",
      )
      .default("https://api.openai.com/v1"),
    model: z
      .string()
      .min(1)
      .describe("Model name the server knows, e.g. text-embedding-3-small (Azure: the default deployment)."),
    /** Output dimension for models that support shortening (text-embedding-3-*). */
    dimensions: z
      .number()
      .int()
      .positive()
      .describe(
        "Output dimension, for models that support shortening (text-embedding-3-*); default the model's own.",
      )
      .optional(),
    /** Name of the environment variable holding the key (never the key itself). Unset variable = no auth (local servers). */
    apiKeyEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
      .describe(
        "Name of the environment variable holding the API key (never the key itself); an unset variable means no auth (local servers).",
      )
      .default("OPENAI_API_KEY"),
    /** Azure OpenAI: `api-key` header, deployments URL and this api-version. */
    azure: z
      .object({
        apiVersion: z.string().min(1).describe("The api-version query parameter, e.g. 2024-02-01."),
        deployment: z
          .string()
          .min(1)
          .describe("Deployment name in the URL; default the model name.")
          .optional(),
      })
      .strict()
      .describe(
        "Azure OpenAI: send the key as an api-key header, to the deployment's URL with this api-version.",
      )
      .optional(),
    batchSize: z.number().int().min(1).max(2048).describe("Most texts per request.").default(128),
    /** Approximate tokens per request (chars/4 + 1 per text). */
    maxBatchTokens: z
      .number()
      .int()
      .min(1)
      .describe("Most approximate tokens per request (chars/4 + 1 per text); a longer text goes alone.")
      .default(100_000),
    concurrency: z.number().int().min(1).max(64).describe("Requests in flight at once.").default(4),
    maxRetries: z
      .number()
      .int()
      .min(0)
      .max(50)
      .describe("Retries of a request after 429, 5xx, a timeout or a broken reply, before giving up.")
      .default(8),
    /** Connection refused / DNS failure: usually a wrong URL, so few retries. */
    maxConnectRetries: z
      .number()
      .int()
      .min(0)
      .max(50)
      .describe("Retries after connection refused or a DNS failure (usually a wrong URL, so few).")
      .default(2),
    initialBackoffMs: z
      .number()
      .min(0)
      .describe("Backoff before the first retry, in ms; doubled per retry, with full jitter.")
      .default(500),
    maxBackoffMs: z
      .number()
      .min(0)
      .describe(
        "Longest backoff between retries, in ms (a server's Retry-After is honoured up to the larger of this and 60 s).",
      )
      .default(30_000),
    timeoutMs: z.number().int().min(1).describe("Time limit of one request, in ms.").default(60_000),
    /** Recorded in the provider id: bump it when the served model changes under the same name. */
    revision: z
      .string()
      .describe("Recorded in the provider id: bump it when the served model changes under the same name.")
      .optional(),
    /** Extra request body fields some servers need (e.g. { truncate: true } for TEI). */
    extraBody: z
      .record(
        z.string(),
        z.union([z.string(), z.number(), z.boolean()]).describe("Value of one extra request body field."),
      )
      .describe("Extra request body fields some servers need, e.g. { truncate: true } for TEI.")
      .optional(),
  })
  .strict();
export type OpenAISettings = z.infer<typeof OpenAISettings>;
export type OpenAISettingsInput = z.input<typeof OpenAISettings>;

/** Approximate token count used for batching (no tokenizer needed; ~4 characters per token). */
export function approxTokens(text: string): number {
  return Math.ceil(text.length / 4) + 1;
}

/** Split texts into batches of at most `batchSize` texts and `maxTokens` approximate tokens (a longer text goes alone). */
export function planBatches(texts: readonly string[], batchSize: number, maxTokens: number): number[][] {
  const batches: number[][] = [];
  let cur: number[] = [];
  let tokens = 0;
  texts.forEach((t, i) => {
    const n = approxTokens(t);
    if (cur.length > 0 && (cur.length >= batchSize || tokens + n > maxTokens)) {
      batches.push(cur);
      cur = [];
      tokens = 0;
    }
    cur.push(i);
    tokens += n;
  });
  if (cur.length > 0) batches.push(cur);
  return batches;
}

class RetryableError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
    readonly connect = false,
  ) {
    super(message);
  }
}

export function createOpenAIProvider(settings: OpenAISettingsInput): EmbeddingProvider {
  const s = parseInput(OpenAISettings, settings, { field: "embedding", what: "openai settings" });
  const key = process.env[s.apiKeyEnv];
  // A key can also sit in the URL (user-info, `?key=...`): the request uses the URL as given, while
  // messages, the provider id (and so caches, model files, bundles, provenance) get `shown`.
  const secrets = [...(key ? [key] : []), ...urlSecrets(s.baseUrl)];
  const redact = (msg: string): string => redactSecretsIn(redactUrlsIn(msg), secrets);
  const base = redactUrl(s.baseUrl.replace(/\/+$/, ""));
  const target = new URL(s.baseUrl);
  const path = target.pathname.replace(/\/+$/, "");
  target.pathname = s.azure
    ? `${path}/openai/deployments/${encodeURIComponent(s.azure.deployment ?? s.model)}/embeddings`
    : `${path}/embeddings`;
  if (s.azure) target.searchParams.set("api-version", s.azure.apiVersion);
  const url = target.toString();
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (key) {
    if (s.azure) headers["api-key"] = key;
    else headers.authorization = `Bearer ${key}`;
  }
  const info: ProviderInfo = {
    provider: "openai",
    model: s.model,
    ...(s.revision ? { revision: s.revision } : {}),
    ...(s.dimensions ? { dimension: s.dimensions } : {}),
    // The endpoint is part of the identity: the same model name on two servers may differ (quantised,
    // another version). Never the key.
    params: {
      endpoint: s.azure ? `${base}#azure` : base,
      ...(s.dimensions ? { dimensions: s.dimensions } : {}),
    },
  };

  let knownDim = s.dimensions;

  const requestOnce = async (texts: string[], signal: AbortSignal | undefined): Promise<Float32Array[]> => {
    const timeout = AbortSignal.timeout(s.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const body = {
      input: texts,
      ...(s.azure ? {} : { model: s.model }),
      encoding_format: "float",
      ...(s.dimensions ? { dimensions: s.dimensions } : {}),
      ...(s.extraBody ?? {}),
    };
    let res: Response;
    try {
      res = await fetch(url, { method: "POST", headers, body: JSON.stringify(body), signal: combined });
    } catch (e) {
      if (signal?.aborted) throw signal.reason ?? e;
      if (timeout.aborted) throw new RetryableError(`no reply within ${s.timeoutMs} ms`);
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new RetryableError(
        `cannot reach ${base} (${cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e))})`,
        undefined,
        true,
      );
    }
    let text: string;
    try {
      text = await res.text();
    } catch (e) {
      if (signal?.aborted) throw signal.reason ?? e;
      throw new RetryableError(
        timeout.aborted ? `reply not finished within ${s.timeoutMs} ms` : "reply cut off",
      );
    }
    if (res.status === 429 || res.status >= 500) {
      throw new RetryableError(`HTTP ${res.status}: ${snippet(text)}`, retryAfterMs(res.headers));
    }
    if (!res.ok) {
      const hint = res.status === 401 || res.status === 403 ? ` (check the key in $${s.apiKeyEnv})` : "";
      throw new InputError(
        redact(`embedding request rejected: HTTP ${res.status}${hint}: ${snippet(text)}`),
        { file: base },
      );
    }
    return parseReply(text, texts.length);
  };

  const parseReply = (text: string, count: number): Float32Array[] => {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new RetryableError(`malformed reply (not JSON): ${snippet(text)}`);
    }
    const data = (json as { data?: unknown }).data;
    if (!Array.isArray(data) || data.length !== count) {
      throw new RetryableError(
        `malformed reply: expected ${count} embeddings, got ${Array.isArray(data) ? data.length : "no data array"}`,
      );
    }
    const out: (Float32Array | undefined)[] = new Array(count);
    data.forEach((item: unknown, k: number) => {
      const o = item as { index?: unknown; embedding?: unknown };
      const idx = typeof o.index === "number" ? o.index : k;
      if (!Number.isInteger(idx) || idx < 0 || idx >= count || out[idx] !== undefined) {
        throw new RetryableError(`malformed reply: bad or repeated index ${String(o.index)}`);
      }
      if (!Array.isArray(o.embedding))
        throw new RetryableError("malformed reply: embedding is not an array of numbers");
      const v = Float32Array.from(o.embedding as number[]);
      try {
        checkVector(o.embedding as number[], `input ${idx}`, { dim: knownDim ?? v.length });
      } catch (e) {
        throw new RetryableError(`bad reply: ${e instanceof Error ? e.message : String(e)}`);
      }
      out[idx] = v;
    });
    const vectors = out as Float32Array[];
    const dim = vectors[0].length;
    if (vectors.some((v) => v.length !== dim))
      throw new RetryableError("bad reply: vectors of different lengths");
    knownDim ??= dim;
    return vectors;
  };

  const requestWithRetry = async (
    texts: string[],
    signal: AbortSignal | undefined,
  ): Promise<Float32Array[]> => {
    let attempt = 0;
    let connectFailures = 0;
    for (;;) {
      try {
        return await requestOnce(texts, signal);
      } catch (e) {
        if (!(e instanceof RetryableError)) throw e instanceof InputError ? e : rethrowRedacted(e, redact);
        if (e.connect) connectFailures++;
        attempt++;
        if (attempt > s.maxRetries || connectFailures > s.maxConnectRetries) {
          throw new InputError(`embedding request failed after ${attempt} attempts: ${redact(e.message)}`, {
            file: base,
          });
        }
        const backoff = Math.min(s.maxBackoffMs, s.initialBackoffMs * 2 ** (attempt - 1)) * Math.random();
        await sleep(
          Math.max(backoff, Math.min(e.retryAfterMs ?? 0, Math.max(s.maxBackoffMs, 60_000))),
          signal,
        );
      }
    }
  };

  return {
    info,
    async embed(tokens: readonly VocabularyToken[], opts: EmbedOptions = {}): Promise<EmbeddingMatrix> {
      const texts = tokens.map((t) => t.text);
      const batches = planBatches(texts, s.batchSize, s.maxBatchTokens);
      const results: Float32Array[] = new Array(texts.length);
      let next = 0;
      let done = 0;
      let failed: unknown = null;
      // One failed batch stops the others (no point paying for a result that will be thrown away).
      const stop = new AbortController();
      const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
      const worker = async (): Promise<void> => {
        while (failed === null && next < batches.length) {
          if (opts.signal?.aborted) throw opts.signal.reason ?? new Error("aborted");
          const rows = batches[next++];
          let vectors: Float32Array[];
          try {
            vectors = await requestWithRetry(
              rows.map((r) => texts[r]),
              signal,
            );
          } catch (e) {
            if (failed === null) {
              failed = e;
              stop.abort(e);
            }
            throw e;
          }
          const dim = vectors[0].length;
          const m: EmbeddingMatrix = { rows: rows.length, dim, data: new Float32Array(rows.length * dim) };
          vectors.forEach((v, k) => {
            m.data.set(v, k * dim);
            results[rows[k]] = v;
          });
          opts.onBatch?.(rows, m);
          done += rows.length;
          opts.onProgress?.(done, texts.length);
        }
      };
      const workers = Array.from({ length: Math.min(s.concurrency, batches.length) }, () => worker());
      const settled = await Promise.allSettled(workers);
      if (failed !== null) throw failed;
      const rejected = settled.find((r) => r.status === "rejected");
      if (rejected) throw (rejected as PromiseRejectedResult).reason;
      const dim = results[0]?.length ?? knownDim ?? 0;
      const data = new Float32Array(texts.length * dim);
      results.forEach((v, i) => {
        data.set(v, i * dim);
      });
      return { rows: texts.length, dim, data };
    },
  };
}

function rethrowRedacted(e: unknown, redact: (s: string) => string): Error {
  if (e instanceof Error) {
    if (e.name === "AbortError" || e.name === "TimeoutError") return e;
    const r = new Error(redact(e.message));
    r.name = e.name;
    return r;
  }
  return new Error(redact(String(e)));
}

/** Retry-After (seconds or HTTP date) or the retry-after-ms header that OpenAI and Azure send. */
export function retryAfterMs(h: Headers, now = Date.now()): number | undefined {
  const ms = h.get("retry-after-ms");
  if (ms !== null && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const ra = h.get("retry-after");
  if (ra === null) return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(ra)) return Number(ra) * 1000;
  const t = Date.parse(ra);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

function snippet(text: string): string {
  const t = text.replace(/\s+/g, " ").trim();
  return t.length > 200 ? `${t.slice(0, 200)}...` : t;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
