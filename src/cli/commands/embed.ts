import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { Command } from "commander";
import { InvalidArgumentError } from "commander";
import { parse as parseYaml } from "yaml";
import { buildVocabulary, encodeEncounters, type VocabularyToken } from "../../concepts/vocabulary.js";
import { resolveSource } from "../../data/sources.js";
import { EmbeddingCache, embedWithCache } from "../../embed/cache.js";
import { type EmbeddingDiagnostics, embeddingDiagnostics } from "../../embed/diagnostics.js";
import { cosine, row } from "../../embed/matrix.js";
import type { TableEmbeddingProvider } from "../../embed/providers/table.js";
import type { VectorsCoverage, VectorsProvider } from "../../embed/providers/vectors.js";
import { createProvider, type EmbeddingSpecInput, parseEmbeddingSpec } from "../../embed/registry.js";
import { type EmbeddingProvider, providerId } from "../../embed/types.js";
import { InputError } from "../../util/errors.js";
import { createProgress, type Progress } from "../../util/progress.js";
import { action } from "../run-command.js";

/**
 * `conceptbridge embed <source>`: embed every token of the source's site vocabularies into the
 * persistent cache (so experiments never wait for, or pay for, the same text twice) and print how
 * many tokens got a vector. `conceptbridge embed similar "<text>"`: nearest neighbours by cosine
 * among a dataset's tokens, or among everything cached for the provider. `conceptbridge embed
 * inspect <source>`: the diagnostics of src/embed/diagnostics.ts per site (anisotropy, effective rank,
 * "X" vs "Not X", tokens without a vector, neighbours) with their warnings.
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
  /** Vectors providers: words and tokens without a vector. */
  oov?: VectorsCoverage;
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

function isVectors(p: EmbeddingProvider): p is VectorsProvider {
  return p.info.provider === "vectors" && "coverage" in p;
}

/** The base provider of a postprocessed one (for table matches and vector coverage). */
function baseOf(p: EmbeddingProvider): EmbeddingProvider {
  return "base" in p && typeof p.base === "object" && p.base !== null ? (p.base as EmbeddingProvider) : p;
}

type SiteVocab = Awaited<ReturnType<typeof sitesWithVocabulary>>[number];

/** The provider, fitted (one-hot, co-occurrence, postprocess) on the first site: the source in a transfer. */
async function providerForSites(
  spec: EmbeddingSpecInput,
  baseDir: string,
  first: SiteVocab,
  cache: EmbeddingCache | null,
): Promise<EmbeddingProvider> {
  return createProvider(spec, {
    sourceVocabulary: first.vocabulary,
    fitData: { vocab: first.vocabulary, seqs: encodeEncounters(first.ds, first.typeToToken) },
    baseDir,
    cache,
  });
}

/** The work of `embed <source>`: returns one coverage line per site. */
export async function embedCommand(source: string, o: EmbedCliOptions): Promise<CoverageLine[]> {
  const { spec, baseDir } = specFromOptions(o);
  const sites = await sitesWithVocabulary(source, o);
  const cache = o.cache === false ? null : new EmbeddingCache(o.cacheDir);
  const lines: CoverageLine[] = [];
  // One-hot, cooccurrence and postprocess are fitted on one site (the first: the source in a transfer).
  const provider = await providerForSites(spec, baseDir, sites[0], cache);
  const base = baseOf(provider);
  for (const { vocabulary } of sites) {
    let matches: Record<string, number> | undefined;
    if (isTable(base)) {
      const res = base.resolve(vocabulary.tokens);
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
    const oov = isVectors(base) ? await base.coverage(vocabulary.tokens) : undefined;
    lines.push({
      site: vocabulary.site,
      tokens: vocabulary.tokens.length,
      distinctTexts: new Set(vocabulary.tokens.map((t) => t.text)).size,
      fromCache: m.cached,
      embedded: m.embedded,
      zeroVectors: zero,
      dimension: m.dim,
      ...(matches ? { matches } : {}),
      ...(oov ? { oov } : {}),
    });
  }
  return lines;
}

function oovText(c: VectorsCoverage, indent: string): string[] {
  const out = [
    `${indent}words: ${c.distinctWords - c.distinctWordsWithoutVector}/${c.distinctWords} distinct words have a vector; ` +
      `${c.tokensWithoutVector} tokens have none of their words (zero vector), ${c.tokensPartly} only some`,
  ];
  if (c.missingWords.length > 0) {
    out.push(
      `${indent}missing words: ${c.missingWords
        .slice(0, 20)
        .map((w) => `${w.word} (${w.tokens})`)
        .join(", ")}${c.distinctWordsWithoutVector > 20 ? ", ..." : ""}`,
    );
  }
  if (c.examples.length > 0)
    out.push(
      `${indent}tokens without a vector: ${c.examples
        .slice(0, 10)
        .map((t) => JSON.stringify(t))
        .join(", ")}`,
    );
  return out;
}

export interface InspectOptions extends EmbedCliOptions {
  /** Text pairs "a|b" whose cosine to print (e.g. "shortness of breath|short of breath"). */
  pair?: string[];
}

export interface InspectLine {
  site: string;
  providerId: string;
  diagnostics: EmbeddingDiagnostics;
  /** The vectors provider's out-of-vocabulary report. */
  oov?: VectorsCoverage;
  pairs: { a: string; b: string; cosine: number }[];
}

function queryToken(text: string, i: number): VocabularyToken {
  return { key: `query${i}|present`, code: `query${i}`, value: { kind: "present" }, conceptText: text, text };
}

/** The work of `embed inspect`: the diagnostics of each site's vocabulary under the provider. */
export async function inspectCommand(source: string, o: InspectOptions): Promise<InspectLine[]> {
  const { spec, baseDir } = specFromOptions(o);
  const pairs = (o.pair ?? []).map((p) => {
    const bar = p.indexOf("|");
    if (bar <= 0 || bar === p.length - 1) {
      throw new InputError(`--pair expects "text a|text b", got "${p}"`, { field: "--pair" });
    }
    return [p.slice(0, bar).trim(), p.slice(bar + 1).trim()] as const;
  });
  const sites = await sitesWithVocabulary(source, o);
  const cache = o.cache === false ? null : new EmbeddingCache(o.cacheDir);
  const provider = await providerForSites(spec, baseDir, sites[0], cache);
  const base = baseOf(provider);
  const id = providerId(provider.info);
  let pairCos: InspectLine["pairs"] = [];
  if (pairs.length > 0) {
    const q = await embedWithCache(
      provider,
      pairs.flat().map((t, i) => queryToken(t, i)),
      cache,
    );
    pairCos = pairs.map(([a, b], i) => ({ a, b, cosine: cosine(row(q, 2 * i), row(q, 2 * i + 1)) }));
  }
  const lines: InspectLine[] = [];
  for (const { vocabulary } of sites) {
    const m = await embedWithCache(provider, vocabulary.tokens, cache);
    const diagnostics = embeddingDiagnostics(m, vocabulary.tokens);
    const oov = isVectors(base) ? await base.coverage(vocabulary.tokens) : undefined;
    lines.push({
      site: vocabulary.site,
      providerId: id,
      diagnostics,
      ...(oov ? { oov } : {}),
      pairs: pairCos,
    });
  }
  return lines;
}

export function formatInspect(lines: InspectLine[]): string {
  const f = (x: number | null, digits = 3) => (x === null || Number.isNaN(x) ? "-" : x.toFixed(digits));
  const out: string[] = [];
  if (lines[0]) out.push(`provider ${lines[0].providerId}`);
  for (const l of lines) {
    const s = l.diagnostics.stats;
    out.push(
      `${l.site}: ${s.tokens} tokens, dimension ${s.dimension}, ${s.withoutVector} without a vector (${(100 * s.withoutVectorShare).toFixed(1)}%)`,
      `  mean pairwise cosine    raw ${f(s.raw.meanCosine)}   centered ${f(s.centered.meanCosine)}`,
      `  effective rank          raw ${f(s.raw.effectiveRank, 2)}   centered ${f(s.centered.effectiveRank, 2)}${s.rankRows < s.tokens - s.withoutVector ? ` (on ${s.rankRows} rows)` : ""}`,
      `  "X" vs "Not X" cosine   raw ${f(s.raw.negationCosine)}   centered ${f(s.centered.negationCosine)}   (${s.negationPairs} pairs)`,
    );
    if (s.negationExamples.length > 0) {
      out.push(
        `  least separated: ${s.negationExamples
          .slice(0, 3)
          .map((e) => `${JSON.stringify(e.negated)} / ${JSON.stringify(e.positive)} ${f(e.cosine)}`)
          .join("; ")}`,
      );
    }
    for (const n of s.neighbours) {
      out.push(
        `  neighbours of ${JSON.stringify(n.text)}: ${n.nearest.map((x) => `${JSON.stringify(x.text)} ${f(x.cosine)}`).join(", ")}`,
      );
    }
    for (const p of l.pairs)
      out.push(`  cosine ${JSON.stringify(p.a)} / ${JSON.stringify(p.b)}: ${f(p.cosine)}`);
    if (l.oov) out.push(...oovText(l.oov, "  "));
    for (const w of l.diagnostics.warnings) out.push(`  warning: ${w.message}`);
  }
  return `${out.join("\n")}\n`;
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
    if (l.oov) out.push(...oovText(l.oov, "  "));
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
    provider = await providerForSites(spec, baseDir, sites[0], cache);
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
    .option("--provider <name>", "onehot | hashing | cooccurrence | table | vectors | onnx | openai")
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
      .command("inspect")
      .description(
        'diagnostics of a dataset\'s embedding: anisotropy, effective rank, "X" vs "Not X", tokens without a vector, neighbours',
      )
      .argument(
        "<source>",
        "findings CSV (with --catalog), event-table dir, eicu[:region], synthetic[:seed], omop:<dir>",
      ),
  )
    .option(
      "--pair <a|b>",
      'also print the cosine of two texts, e.g. "shortness of breath|short of breath" (repeatable)',
      collect,
    )
    .action(
      action(async (source: string, o: InspectOptions) => {
        const lines = await inspectCommand(source, o);
        process.stdout.write(o.json ? `${JSON.stringify(lines)}\n` : formatInspect(lines));
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
