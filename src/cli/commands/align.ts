import type { Command } from "commander";
import { InvalidArgumentError } from "commander";
import {
  type Alignment,
  AlignmentSettings,
  alignmentMatches,
  alignVocabularies,
  combineNeighbours,
  type NeighbourLists,
  type TokenMatches,
} from "../../concepts/alignment.js";
import type { AlignmentComparison, AlignmentMethodResult } from "../../concepts/alignment-comparison.js";
import { type CoverageDiagnostics, coverageDiagnostics } from "../../concepts/alignment-coverage.js";
import { procrustesAlign } from "../../concepts/alignment-procrustes.js";
import { type AlignmentScore, metadataAnswerKey, scoreNeighbours } from "../../concepts/alignment-scoring.js";
import { exactTextNeighbours, uniqueTextAnchors } from "../../concepts/alignment-text.js";
import {
  buildVocabulary,
  encodeEncounters,
  type Vocabulary,
  type VocabularyToken,
} from "../../concepts/vocabulary.js";
import { resolveSite } from "../../data/sources.js";
import type { SiteDataset } from "../../data/types.js";
import { fitCooccurrenceProvider } from "../../embed/providers/cooccurrence.js";
import { createHashingProvider } from "../../embed/providers/hashing.js";
import { createOneHotProvider } from "../../embed/providers/onehot.js";
import { createProvider, type EmbeddingSpecInput } from "../../embed/registry.js";
import { type EmbeddingProvider, providerId } from "../../embed/types.js";
import { writeFileAtomic } from "../../util/atomic-write.js";
import { InputError } from "../../util/errors.js";
import { action } from "../run-command.js";
import { readEmbeddingSpecArg } from "./bundle-embedding.js";

/**
 * `conceptbridge align`: for every target-site token, its nearest source-site tokens in an embedding,
 * with coverage diagnostics and, where an answer key exists, top-1/top-k accuracy against exact text
 * match. Runs wherever both vocabularies are available; vocabularies (token texts) are not patient data.
 */

/** How candidates are found. Every method sees the same filtered token lists. */
export const ALIGN_METHODS = [
  "exact",
  "onehot",
  "hashing",
  "exact+hashing",
  "cooccurrence",
  "cooccurrence+procrustes",
] as const;
export type AlignMethod = (typeof ALIGN_METHODS)[number];

const DESCRIPTIONS: Record<AlignMethod, string> = {
  exact: "identical normalised text (case, punctuation and whitespace folded): the baseline",
  onehot:
    "one-hot in the source vocabulary: a target token matches only a source token with the identical key",
  hashing: "character n-gram feature hashing of the token texts (no model, no data)",
  "exact+hashing": "identical normalised text first, hashing neighbours after it",
  cooccurrence:
    "co-occurrence (PPMI + SVD) fitted on the source site's encounters only; target tokens get the vector of the source token with the same text, others none",
  "cooccurrence+procrustes":
    "co-occurrence fitted at each site on its own encounters; the target space is rotated onto the source's by orthogonal Procrustes on tokens whose text is unique and identical at both sites",
};

export interface AlignRunOptions {
  methods: readonly AlignMethod[];
  settings: AlignmentSettings;
  /** Keep only tokens for which this is true (e.g. medication concepts). */
  filter?: (t: VocabularyToken) => boolean;
  filterDescription?: string;
  /** Concept metadata field that identifies a token across sites (e.g. "hicl", "fact"). */
  answerKey?: string;
  /** Co-occurrence SVD dimension. */
  cooccurrenceDimension?: number;
  /**
   * Further embeddings by registry spec (an embedding table, a local ONNX model...), each applied to
   * both vocabularies; one-hot/IDF/co-occurrence context is the source site's.
   */
  specs?: readonly { name: string; spec: EmbeddingSpecInput }[];
}

export interface MethodRun {
  method: string;
  description: string;
  providerId?: string;
  alignment: Alignment;
  coverage: CoverageDiagnostics;
  score?: AlignmentScore;
}

export interface AlignRun {
  comparison: AlignmentComparison | null;
  methods: MethodRun[];
}

interface Side {
  ds: SiteDataset;
  vocab: Vocabulary;
  typeToToken: Uint32Array;
  /** Indices into vocab.tokens of the tokens kept by the filter. */
  kept: number[];
  tokens: VocabularyToken[];
}

function side(ds: SiteDataset, filter?: (t: VocabularyToken) => boolean): Side {
  const { vocabulary, typeToToken } = buildVocabulary(ds);
  const kept: number[] = [];
  vocabulary.tokens.forEach((t, i) => {
    if (!filter || filter(t)) kept.push(i);
  });
  return { ds, vocab: vocabulary, typeToToken, kept, tokens: kept.map((i) => vocabulary.tokens[i]) };
}

function selectRows(m: { rows: number; dim: number; data: Float32Array }, rows: number[]) {
  const data = new Float32Array(rows.length * m.dim);
  rows.forEach((r, k) => {
    data.set(m.data.subarray(r * m.dim, (r + 1) * m.dim), k * m.dim);
  });
  return { rows: rows.length, dim: m.dim, data };
}

/** Align the target's tokens to the source's with each method; score them when an answer key is given. */
export async function runAlignment(
  source: SiteDataset,
  target: SiteDataset,
  o: AlignRunOptions,
): Promise<AlignRun> {
  const s = side(source, o.filter);
  const t = side(target, o.filter);
  if (s.tokens.length === 0 || t.tokens.length === 0) {
    throw new InputError(
      `no tokens to align (${s.tokens.length} at ${source.name}, ${t.tokens.length} at ${target.name}${o.filterDescription ? ` after filter ${o.filterDescription}` : ""})`,
    );
  }
  const settings = o.settings;
  const exact = exactTextNeighbours(s.tokens, t.tokens, settings.top);
  const runs: MethodRun[] = [];
  let hashing: NeighbourLists | undefined;
  const fromNeighbours = (method: AlignMethod, neighbours: NeighbourLists, pid?: string): MethodRun => {
    const alignment: Alignment = {
      source: { site: source.name, tokens: s.tokens },
      target: { site: target.name, tokens: t.tokens },
      settings,
      neighbours,
    };
    return {
      method,
      description: DESCRIPTIONS[method],
      ...(pid ? { providerId: pid } : {}),
      alignment,
      coverage: coverageDiagnostics(alignment),
    };
  };
  const embedded = async (
    method: string,
    provider: EmbeddingProvider,
    description: string = DESCRIPTIONS[method as AlignMethod],
  ): Promise<MethodRun> => {
    const sv = await provider.embed(s.tokens);
    const tv = await provider.embed(t.tokens);
    const alignment = alignVocabularies(
      { site: source.name, tokens: s.tokens, vectors: sv },
      { site: target.name, tokens: t.tokens, vectors: tv },
      settings,
    );
    return {
      method,
      description,
      providerId: providerId(provider.info),
      alignment,
      coverage: coverageDiagnostics(alignment),
    };
  };
  for (const method of o.methods) {
    switch (method) {
      case "exact":
        runs.push(fromNeighbours(method, exact));
        break;
      case "onehot":
        runs.push(await embedded(method, createOneHotProvider({ site: source.name, tokens: s.tokens })));
        break;
      case "hashing": {
        const r = await embedded(method, createHashingProvider());
        hashing = r.alignment.neighbours;
        runs.push(r);
        break;
      }
      case "exact+hashing": {
        const provider = createHashingProvider();
        if (!hashing) hashing = (await embedded("hashing", provider)).alignment.neighbours;
        runs.push(
          fromNeighbours(method, combineNeighbours(exact, hashing, settings.top), providerId(provider.info)),
        );
        break;
      }
      case "cooccurrence": {
        // Fitted on the source's own encounters (all its tokens give context), applied to both sides.
        const provider = fitCooccurrenceProvider(
          s.vocab,
          encodeEncounters(source, s.typeToToken),
          cooccurrenceSettings(o),
        );
        runs.push(await embedded(method, provider));
        break;
      }
      case "cooccurrence+procrustes": {
        // Each site fits on its own encounters; only vocabulary-level vectors meet, never rows.
        const ps = fitCooccurrenceProvider(
          s.vocab,
          encodeEncounters(source, s.typeToToken),
          cooccurrenceSettings(o),
        );
        const pt = fitCooccurrenceProvider(
          t.vocab,
          encodeEncounters(target, t.typeToToken),
          cooccurrenceSettings(o),
        );
        const sv = { rows: s.vocab.tokens.length, dim: ps.fitted.dim, data: ps.fitted.data };
        const tv = { rows: t.vocab.tokens.length, dim: pt.fitted.dim, data: pt.fitted.data };
        // Anchors from the whole vocabularies (diagnoses and treatments too), not just the filtered tokens.
        const anchors = uniqueTextAnchors(s.vocab.tokens, t.vocab.tokens);
        if (anchors.length < 2)
          throw new InputError("cooccurrence+procrustes needs tokens with identical text at both sites");
        const mapped = procrustesAlign(sv, tv, anchors);
        const alignment = alignVocabularies(
          { site: source.name, tokens: s.tokens, vectors: selectRows(mapped.source, s.kept) },
          { site: target.name, tokens: t.tokens, vectors: selectRows(mapped.target, t.kept) },
          settings,
        );
        runs.push({
          method,
          description: DESCRIPTIONS[method],
          providerId: `${providerId(ps.info)} -> procrustes(${anchors.length} anchors) <- ${providerId(pt.info)}`,
          alignment,
          coverage: coverageDiagnostics(alignment),
        });
        break;
      }
    }
  }
  for (const { name, spec } of o.specs ?? []) {
    const provider = await createProvider(spec, {
      sourceVocabulary: { site: source.name, tokens: s.tokens },
      fitData: { vocab: s.vocab, seqs: encodeEncounters(source, s.typeToToken) },
    });
    runs.push(await embedded(name, provider, `embedding ${providerId(provider.info)}`));
  }
  if (!o.answerKey) return { comparison: null, methods: runs };
  const key = metadataAnswerKey(o.answerKey);
  for (const r of runs) r.score = scoreNeighbours(r.alignment.neighbours, s.tokens, t.tokens, key);
  const methods: AlignmentMethodResult[] = runs.map((r) => ({
    method: r.method,
    description: r.description,
    ...(r.providerId ? { providerId: r.providerId } : {}),
    score: r.score as AlignmentScore,
    coverage: {
      threshold: r.coverage.threshold,
      aboveThreshold: r.coverage.aboveThreshold,
      share: r.coverage.shareAboveThreshold,
    },
  }));
  const first = runs[0]?.score;
  const notes: string[] = [];
  if (first && first.evaluated < first.targetWithKey) {
    notes.push(
      `${first.targetWithKey - first.evaluated} of ${first.targetWithKey} target tokens with a ${o.answerKey} code have no source token with that code and are not scored.`,
    );
  }
  if (o.methods.includes("cooccurrence")) {
    notes.push(
      "cooccurrence: a provider fitted at one site cannot place another site's tokens except through identical text, so it can do no better than exact match on tokens with no text match.",
    );
  }
  if (o.methods.includes("cooccurrence+procrustes")) {
    notes.push(
      "cooccurrence+procrustes: the sites exchange only their vocabularies' vectors (aggregates of co-occurrence), never encounters; the anchors are identical texts, so accuracy on tokens without an exact text match is the number that shows what the rotation adds.",
    );
  }
  return {
    methods: runs,
    comparison: {
      source: source.name,
      target: target.name,
      tokens: o.filterDescription ?? "all tokens",
      answerKey: o.answerKey,
      sourceTokens: s.tokens.length,
      targetTokens: t.tokens.length,
      k: settings.top,
      methods,
      notes,
    },
  };
}

function cooccurrenceSettings(o: AlignRunOptions) {
  return o.cooccurrenceDimension ? { dimension: o.cooccurrenceDimension } : {};
}

/** Plain-text table of a comparison. */
export function formatComparison(c: AlignmentComparison): string {
  const pct = (p: { value: number; ci95: [number, number] }): string =>
    Number.isNaN(p.value)
      ? "   -"
      : `${(100 * p.value).toFixed(1).padStart(5)}% [${(100 * p.ci95[0]).toFixed(0)}-${(100 * p.ci95[1]).toFixed(0)}]`;
  const head = `${"method".padEnd(24)} ${"top-1".padEnd(16)} ${`top-${c.k}`.padEnd(16)} ${"no-exact top-1".padEnd(16)} ${`no-exact top-${c.k}`.padEnd(16)} covered`;
  const first = c.methods[0]?.score;
  const lines = [
    `Alignment ${c.source} -> ${c.target}, ${c.tokens}: ${c.sourceTokens} source and ${c.targetTokens} target tokens`,
    first
      ? `Answer key ${c.answerKey}: ${first.evaluated} target tokens scored (${first.withoutExactText.top1.total} of them without an exact text match at the source); 95% Wilson intervals`
      : "",
    head,
    ...c.methods.map(
      (m) =>
        `${m.method.padEnd(24)} ${pct(m.score.all.top1).padEnd(16)} ${pct(m.score.all.topK).padEnd(16)} ${pct(m.score.withoutExactText.top1).padEnd(16)} ${pct(m.score.withoutExactText.topK).padEnd(16)} ${(100 * m.coverage.share).toFixed(1)}% >= ${m.coverage.threshold}`,
    ),
    ...c.notes.map((n) => `note: ${n}`),
  ];
  return `${lines.filter((l) => l !== "").join("\n")}\n`;
}

function formatMatches(matches: TokenMatches[], limit: number): string {
  const out: string[] = [];
  for (const m of matches.slice(0, limit)) {
    const c = m.candidates.map((x) => `${x.text} (${x.score.toFixed(3)})`).join("; ");
    out.push(`${m.text}  ->  ${c || "(no candidate)"}`);
  }
  if (matches.length > limit) out.push(`... ${matches.length - limit} more (use --json for all)`);
  return `${out.join("\n")}\n`;
}

function formatCoverage(c: CoverageDiagnostics): string {
  return [
    `coverage: ${c.aboveThreshold} of ${c.targetTokens} target tokens (${(100 * c.shareAboveThreshold).toFixed(1)}%) have a source match with cosine >= ${c.threshold}; ${c.noCandidate} have no candidate`,
    `shared by key: ${c.byKey.shared} (only source ${c.byKey.onlySource}, only target ${c.byKey.onlyTarget}); by text: ${c.byText.shared} (only source ${c.byText.onlySource}, only target ${c.byText.onlyTarget})`,
    `empty texts: ${c.emptyText.source.length} source, ${c.emptyText.target.length} target; texts shared by several tokens: ${c.duplicateText.source.length} source, ${c.duplicateText.target.length} target`,
  ].join("\n");
}

/** Token filters a user can name on the command line. */
function tokenFilter(o: { system?: string; codePrefix?: string }): {
  filter?: (t: VocabularyToken) => boolean;
  description?: string;
} {
  if (!o.system && !o.codePrefix) return {};
  const parts: string[] = [];
  if (o.system) parts.push(`system ${o.system}`);
  if (o.codePrefix) parts.push(`code prefix ${o.codePrefix}`);
  return {
    filter: (t) => (!o.system || t.system === o.system) && (!o.codePrefix || t.code.startsWith(o.codePrefix)),
    description: parts.join(", "),
  };
}

export function register(program: Command): void {
  program
    .command("align")
    .description("Match every target-site token to its nearest source-site tokens in an embedding")
    .requiredOption("--source <source>", "source site, e.g. eicu:Midwest, synthetic:A, findings:<file>")
    .requiredOption("--target <source>", "target site")
    .option("--embedding <methods>", `comma-separated, any of ${ALIGN_METHODS.join(", ")}`, parseMethods, [
      "hashing",
    ] as AlignMethod[])
    .option(
      "--spec <embedding>",
      "also align with this embedding: JSON, a JSON/YAML file or a provider name (repeatable)",
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option("--top <k>", "candidates per target token", parseIntArg, 5)
    .option("--threshold <cosine>", "cosine that counts as a close match", parseFloatArg, 0.8)
    .option("--answer-key <field>", "concept metadata field identifying tokens across sites (hicl, fact)")
    .option("--system <name>", "align only tokens of this coding system (e.g. medication concepts)")
    .option("--code-prefix <prefix>", "align only tokens whose code starts with this")
    .option("--json", "print JSON (matches, coverage, scores)")
    .option("--out <file>", "also write the JSON here")
    .action(
      action(
        async (o: {
          source: string;
          target: string;
          embedding: AlignMethod[];
          spec: string[];
          top: number;
          threshold: number;
          answerKey?: string;
          system?: string;
          codePrefix?: string;
          json?: boolean;
          out?: string;
        }) => {
          const settings = AlignmentSettings.safeParse({ top: o.top, threshold: o.threshold });
          if (!settings.success)
            throw new InputError(settings.error.issues[0].message, { field: "--top/--threshold" });
          const [source, target] = [await resolveSite(o.source), await resolveSite(o.target)];
          const f = tokenFilter(o);
          const specs: { name: string; spec: EmbeddingSpecInput }[] = [];
          for (const v of o.spec) {
            const spec = await readEmbeddingSpecArg(v);
            if (spec) specs.push({ name: `spec:${spec.provider}`, spec });
          }
          const run = await runAlignment(source, target, {
            methods: o.embedding,
            specs,
            settings: settings.data,
            ...(f.filter ? { filter: f.filter, filterDescription: f.description } : {}),
            ...(o.answerKey ? { answerKey: o.answerKey } : {}),
          });
          const json = {
            comparison: run.comparison,
            methods: run.methods.map((r) => ({
              method: r.method,
              providerId: r.providerId ?? null,
              coverage: r.coverage,
              score: r.score ?? null,
              matches: alignmentMatches(r.alignment),
            })),
          };
          const text = `${JSON.stringify(json, null, 2)}\n`;
          if (o.out) await writeFileAtomic(o.out, text);
          if (o.json) {
            process.stdout.write(text);
            return;
          }
          for (const r of run.methods) {
            process.stdout.write(`\n== ${r.method} ==\n${formatCoverage(r.coverage)}\n`);
            if (run.methods.length === 1)
              process.stdout.write(formatMatches(alignmentMatches(r.alignment), 30));
          }
          if (run.comparison) process.stdout.write(`\n${formatComparison(run.comparison)}`);
        },
      ),
    );
}

function parseMethods(v: string): AlignMethod[] {
  const out: AlignMethod[] = [];
  for (const m of v.split(",").map((x) => x.trim())) {
    if (!(ALIGN_METHODS as readonly string[]).includes(m)) {
      throw new InvalidArgumentError(`unknown method "${m}" (one of ${ALIGN_METHODS.join(", ")})`);
    }
    out.push(m as AlignMethod);
  }
  return out;
}

function parseIntArg(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("must be a positive integer");
  return n;
}

function parseFloatArg(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError("must be a number");
  return n;
}
