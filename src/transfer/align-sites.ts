import {
  type Alignment,
  type AlignmentSettings,
  alignVocabularies,
  combineNeighbours,
  type NeighbourLists,
} from "../concepts/alignment.js";
import type { AlignmentComparison, AlignmentMethodResult } from "../concepts/alignment-comparison.js";
import { type CoverageDiagnostics, coverageDiagnostics } from "../concepts/alignment-coverage.js";
import { procrustesAlign } from "../concepts/alignment-procrustes.js";
import { type AlignmentScore, metadataAnswerKey, scoreNeighbours } from "../concepts/alignment-scoring.js";
import { exactTextNeighbours, uniqueTextAnchors } from "../concepts/alignment-text.js";
import {
  buildVocabulary,
  encodeEncounters,
  type Vocabulary,
  type VocabularyToken,
} from "../concepts/vocabulary.js";
import type { SiteDataset } from "../data/types.js";
import { fitCooccurrenceProvider } from "../embed/providers/cooccurrence.js";
import { createHashingProvider } from "../embed/providers/hashing.js";
import { createOneHotProvider } from "../embed/providers/onehot.js";
import { createProvider, type EmbeddingSpecInput } from "../embed/registry.js";
import { type EmbeddingProvider, providerId } from "../embed/types.js";
import { InputError } from "../util/errors.js";

/**
 * Cross-site vocabulary alignment with embeddings (`conceptbridge align` and the library's align verb): for every target-site token, its nearest source-site tokens in an embedding,
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
