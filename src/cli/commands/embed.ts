import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { Command } from "commander";
import { InvalidArgumentError } from "commander";
import { parse as parseYaml } from "yaml";
import { buildVocabulary, encodeEncounters, type VocabularyToken } from "../../concepts/vocabulary.js";
import { resolveSource } from "../../data/sources.js";
import { EmbeddingCache, embedWithCache } from "../../embed/cache.js";
import { cosine, row } from "../../embed/matrix.js";
import type { TableEmbeddingProvider } from "../../embed/providers/table.js";
import { createProvider, type EmbeddingSpecInput, parseEmbeddingSpec } from "../../embed/registry.js";
import { type EmbeddingProvider, providerId } from "../../embed/types.js";
import { InputError } from "../../util/errors.js";
import { createProgress, type Progress } from "../../util/progress.js";
import { action } from "../run-command.js";

/**
 * `conceptbridge embed <source>`: embed every token of the source's site vocabularies into the
 * persistent cache (so experiments never wait for, or pay for, the same text twice) and print how
 * many tokens got a vector. `conceptbridge embed similar "<text>"`: nearest neighbours by cosine
 * among a dataset's tokens, or among everything cached for the provider.
 */
export interface EmbedCliOptions {
  provider?: string;
  spec?: string;
  set?: string[];
  catalog?: string;
  labelColumn?: string;
  cacheDir?: string;
  cache?: boolean;
  json?: boolean;
}

/** The provider spec from --spec (JSON/YAML file), --provider and --set key=value (value parsed as JSON when it can be). */
export function specFromOptions(o: EmbedCliOptions): { spec: EmbeddingSpecInput; baseDir: string } {
  let spec: Record<string, unknown> = {};
  let baseDir = ".";
  if (o.spec) {
    const file = resolve(o.spec);
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      throw new InputError("cannot read the embedding spec", { file: o.spec });
    }
    const parsed: unknown = parseYaml(text);
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new InputError("embedding spec must be an object", { file: o.spec });
    }
    const obj = parsed as Record<string, unknown>;
    spec = (typeof obj.embedding === "object" && obj.embedding !== null ? obj.embedding : obj) as Record<
      string,
      unknown
    >;
    baseDir = dirname(file);
  }
  if (o.provider) spec.provider = o.provider;
  for (const kv of o.set ?? []) {
    const eq = kv.indexOf("=");
    if (eq <= 0) throw new InputError(`--set expects key=value, got "${kv}"`, { field: "--set" });
    const key = kv.slice(0, eq);
    const raw = kv.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // a plain string
    }
    spec[key] = value;
  }
  if (spec.provider === undefined)
    throw new InputError("choose a provider with --provider or --spec", { field: "--provider" });
  parseEmbeddingSpec(spec, o.spec ?? "--provider/--set");
  return { spec: spec as EmbeddingSpecInput, baseDir };
}

export interface CoverageLine {
  site: string;
  tokens: number;
  distinctTexts: number;
  fromCache: number;
  embedded: number;
  zeroVectors: number;
  dimension: number;
  /** Table providers: tokens per match kind ("exact", "code", "text", "key", "missing"). */
  matches?: Record<string, number>;
}

async function sitesWithVocabulary(source: string, o: EmbedCliOptions) {
  const sites = await resolveSource(source, {
    ...(o.catalog !== undefined ? { catalog: o.catalog } : {}),
    ...(o.labelColumn !== undefined ? { labelColumn: o.labelColumn } : {}),
  });
  return sites.map((ds) => {
    const { vocabulary, typeToToken } = buildVocabulary(ds);
    return { ds, vocabulary, typeToToken };
  });
}

function isTable(p: EmbeddingProvider): p is TableEmbeddingProvider {
  return p.info.provider === "table" && "resolve" in p;
}

/** The work of `embed <source>`: returns one coverage line per site. */
export async function embedCommand(source: string, o: EmbedCliOptions): Promise<CoverageLine[]> {
  const { spec, baseDir } = specFromOptions(o);
  const sites = await sitesWithVocabulary(source, o);
  const cache = o.cache === false ? null : new EmbeddingCache(o.cacheDir);
  const lines: CoverageLine[] = [];
  // One-hot and cooccurrence are defined by one site (the first: the source in a transfer).
  const first = sites[0];
  const provider = await createProvider(spec, {
    sourceVocabulary: first.vocabulary,
    fitData: { vocab: first.vocabulary, seqs: encodeEncounters(first.ds, first.typeToToken) },
    baseDir,
  });
  for (const { vocabulary } of sites) {
    let matches: Record<string, number> | undefined;
    if (isTable(provider)) {
      const res = provider.resolve(vocabulary.tokens);
      matches = {};
      for (const h of res.how) matches[h ?? "missing"] = (matches[h ?? "missing"] ?? 0) + 1;
    }
    let progress: Progress | null = null;
    let last = 0;
    const m = await embedWithCache(provider, vocabulary.tokens, cache, {
      onProgress: (done, total) => {
        progress ??= createProgress({ label: `embed ${vocabulary.site}`, total });
        progress.tick(done - last);
        last = done;
      },
    });
    (progress as Progress | null)?.done();
    let zero = 0;
    for (let i = 0; i < m.rows; i++) if (row(m, i).every((x) => x === 0)) zero++;
    lines.push({
      site: vocabulary.site,
      tokens: vocabulary.tokens.length,
      distinctTexts: new Set(vocabulary.tokens.map((t) => t.text)).size,
      fromCache: m.cached,
      embedded: m.embedded,
      zeroVectors: zero,
      dimension: m.dim,
      ...(matches ? { matches } : {}),
    });
  }
  return lines;
}

export function formatCoverage(lines: CoverageLine[], provider: string): string {
  const out = [`provider ${provider}`];
  for (const l of lines) {
    const covered = l.tokens - l.zeroVectors;
    const pct = l.tokens > 0 ? ((100 * covered) / l.tokens).toFixed(1) : "0";
    out.push(
      `${l.site}: ${covered}/${l.tokens} tokens with a vector (${pct}%), dimension ${l.dimension}; ` +
        `${l.fromCache} texts from cache, ${l.embedded} embedded now` +
        (l.matches
          ? `; table matches ${Object.entries(l.matches)
              .map(([k, v]) => `${k} ${v}`)
              .join(", ")}`
          : ""),
    );
  }
  return `${out.join("\n")}\n`;
}

export interface Neighbour {
  rank: number;
  cosine: number;
  text: string;
  site?: string;
  key?: string;
}

/** The work of `embed similar`: nearest neighbours of a text among a dataset's tokens or the cache. */
export async function similarCommand(
  text: string,
  o: EmbedCliOptions & { dataset?: string; top?: number },
): Promise<Neighbour[]> {
  const { spec, baseDir } = specFromOptions(o);
  const cache = o.cache === false ? null : new EmbeddingCache(o.cacheDir);
  const query: VocabularyToken = {
    key: "query|present",
    code: "query",
    value: { kind: "present" },
    conceptText: text,
    text,
  };
  let provider: EmbeddingProvider;
  let names: { text: string; site?: string; key?: string }[];
  let vectors: Float32Array[];
  if (o.dataset) {
    const sites = await sitesWithVocabulary(o.dataset, o);
    provider = await createProvider(spec, {
      sourceVocabulary: sites[0].vocabulary,
      fitData: { vocab: sites[0].vocabulary, seqs: encodeEncounters(sites[0].ds, sites[0].typeToToken) },
      baseDir,
    });
    const tokens = sites.flatMap((s) =>
      s.vocabulary.tokens.map((token) => ({ token, site: s.vocabulary.site })),
    );
    const m = await embedWithCache(
      provider,
      tokens.map((c) => c.token),
      cache,
    );
    names = tokens.map((c) => ({ text: c.token.text, site: c.site, key: c.token.key }));
    vectors = tokens.map((_, i) => row(m, i));
  } else {
    // Everything cached for this provider (e.g. by earlier `embed <source>` runs), as cached.
    provider = await createProvider(spec, { baseDir });
    if (!cache)
      throw new InputError("without --dataset the candidates come from the cache; drop --no-cache", {});
    const cached = cache.entries(providerId(provider.info));
    if (cached.length === 0) {
      throw new InputError(
        "nothing cached for this provider: run `embed <dataset>` first or give --dataset",
        {},
      );
    }
    // Token-keyed providers cache "<key>\t<text>".
    names = cached.map(([t]) =>
      t.includes("\t")
        ? { key: t.slice(0, t.indexOf("\t")), text: t.slice(t.indexOf("\t") + 1) }
        : { text: t },
    );
    vectors = cached.map(([, v]) => v);
  }
  const q = await embedWithCache(provider, [query], cache);
  const qv = row(q, 0);
  const scored = names.map((n, i) => ({ n, s: cosine(qv, vectors[i]) }));
  scored.sort((a, b) => b.s - a.s);
  return scored.slice(0, o.top ?? 10).map(({ n, s }, i) => ({ rank: i + 1, cosine: s, ...n }));
}

function int(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
    return n;
  };
}

function collect(v: string, prev: string[] = []): string[] {
  return [...prev, v];
}

function providerOptions(c: Command): Command {
  return c
    .option("--provider <name>", "onehot | hashing | cooccurrence | table | onnx | openai")
    .option("--spec <file>", "embedding settings as JSON/YAML (an `embedding:` key or the object itself)")
    .option(
      "--set <key=value>",
      "set one provider setting (repeatable), e.g. --set file=shared:influenza-embeddings/concept_pair_bert.h5",
      collect,
    )
    .option("--catalog <file>", "concept catalog (code: name lines) for findings tables")
    .option("--label-column <name>", "label column of findings tables", "diagnosis")
    .option(
      "--cache-dir <dir>",
      "embedding cache folder (default .cache/embeddings or $CONCEPTBRIDGE_CACHE_DIR)",
    )
    .option("--no-cache", "do not read or write the embedding cache")
    .option("--json", "print JSON instead of text");
}

export function register(program: Command): void {
  const embed = program.command("embed").description("precompute concept embeddings and explore them");
  providerOptions(
    embed
      .command("vocabulary", { isDefault: true })
      .description("embed every token of a dataset's site vocabularies into the cache and print coverage")
      .argument(
        "<source>",
        "findings CSV (with --catalog), event-table dir, eicu[:region], synthetic[:seed], omop:<dir>",
      ),
  ).action(
    action(async (source: string, o: EmbedCliOptions) => {
      const lines = await embedCommand(source, o);
      const { spec } = specFromOptions(o);
      process.stdout.write(
        o.json ? `${JSON.stringify(lines)}\n` : formatCoverage(lines, String(spec.provider)),
      );
    }),
  );
  providerOptions(
    embed
      .command("similar")
      .description("nearest neighbours of a text by cosine similarity")
      .argument("<text>", "the text to look up"),
  )
    .option(
      "--dataset <source>",
      "search this dataset's tokens (default: everything cached for the provider)",
    )
    .option("--top <n>", "how many neighbours", int("--top"), 10)
    .action(
      action(async (text: string, o: EmbedCliOptions & { dataset?: string; top?: number }) => {
        const res = await similarCommand(text, o);
        if (o.json) process.stdout.write(`${JSON.stringify(res)}\n`);
        else {
          for (const n of res) {
            process.stdout.write(
              `${String(n.rank).padStart(3)}  ${n.cosine.toFixed(4)}  ${n.text}${n.site ? `  [${n.site} ${n.key}]` : ""}\n`,
            );
          }
        }
      }),
    );
}
