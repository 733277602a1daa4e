import { type EncodedSite, encodeSite } from "../concepts/encoded-site.js";
import { concatSequences, emptySequences, remapSequences, unionByKey } from "../concepts/sequences.js";
import type { TokenSequences, Vocabulary } from "../concepts/vocabulary.js";
import { loadSite } from "../data/sites/load-site.js";
import type { SplitSite } from "../data/sites/split-site.js";
import { taskClasses, taskLabels } from "../data/task.js";
import { withPaddingRow } from "../embed/matrix.js";
import { createProvider, type EmbeddingSpec, needsSourceVocabulary } from "../embed/registry.js";
import { type EmbeddingMatrix, type EmbeddingProvider, providerId } from "../embed/types.js";
import {
  type SharedGroups,
  sharedGroups,
  type VocabularyCoverage,
  vocabularyCoverage,
} from "../eval/data-checks.js";
import { countsByName } from "../util/dict.js";
import { InputError, isInputError } from "../util/errors.js";
import type { LoadedSpec } from "./spec.js";

/**
 * Everything the grid needs from the sites, computed once per run: each site encoded under the task
 * (vocabulary, training pool and test set), and embedding tables per (embedding, anchor). Each site's
 * rows are read by this process only; what the jobs get is token ids and labels.
 */
export interface PreparedExperiment {
  classes: string[];
  sites: Map<string, EncodedSite>;
  /** Summaries with aggregate counts only (for the report's data section). */
  siteSummaries: SiteSummary[];
  /** Data checks the report turns into warnings (aggregates only): patients at two sites, coverage. */
  checks: { sharedGroups: SharedGroups[]; coverage: VocabularyCoverage[] };
  embeddingTable(embedding: string, anchor: Anchor, site: string): Promise<EmbeddingTable>;
}

export interface SiteSummary {
  site: string;
  poolEncounters: number;
  testEncounters: number;
  vocabularySize: number;
  classCounts: Record<string, number>;
  /** The same per part (the report suppresses a combined count whose part is small). */
  poolClassCounts: Record<string, number>;
  testClassCounts: Record<string, number>;
}

/** Whose tokens define a vocabulary-dependent embedding (one-hot, co-occurrence): one site or two pooled. */
export type Anchor = { sites: string[] };

/** A site's padded embedding table under one provider. */
export interface EmbeddingTable {
  matrix: EmbeddingMatrix;
  providerId: string;
}

export async function prepareExperiment(
  loaded: LoadedSpec,
  needed: Set<string>,
): Promise<PreparedExperiment> {
  const { spec, dir, path } = loaded;
  const loadedSites = new Map<string, SplitSite>();
  for (const name of needed) loadedSites.set(name, await loadSite(name, spec.sites[name], dir, path));
  const classes = taskClasses(
    spec.task,
    [...loadedSites.values()].flatMap((s) => s.datasets),
  );
  const sites = new Map<string, EncodedSite>();
  const siteSummaries: SiteSummary[] = [];
  for (const [name, s] of loadedSites) {
    const enc = encodeSite(s, (ds) => taskLabels(spec.task, ds, classes), spec.tokenText);
    sites.set(name, enc);
    // Own keys only (util/dict.ts): a class named "__proto__" or "constructor" is counted too.
    const classCounts = countsByName(classes, enc.pool.labels, enc.test.labels);
    const poolClassCounts = countsByName(classes, enc.pool.labels);
    const testClassCounts = countsByName(classes, enc.test.labels);
    siteSummaries.push({
      site: name,
      poolEncounters: enc.pool.labels.length,
      testEncounters: enc.test.labels.length,
      vocabularySize: enc.vocabulary.length,
      classCounts,
      poolClassCounts,
      testClassCounts,
    });
  }
  const checks = {
    sharedGroups: sharedGroups(new Map([...loadedSites].map(([n, s]) => [n, s.datasets]))),
    coverage: [...sites.values()].flatMap((src) =>
      [...sites.values()].filter((t) => t !== src).map((t) => vocabularyCoverage(src, t)),
    ),
  };

  const providers = new Map<string, Promise<EmbeddingProvider>>();
  const tables = new Map<string, Promise<EmbeddingTable>>();
  // Embeddings fitted on a vocabulary (one-hot's space, co-occurrence, hashing IDF, a fitted
  // postprocess) are built per anchor: the source site a model is trained at.
  const vocabDependent = (e: EmbeddingSpec) => needsSourceVocabulary(e);

  const providerFor = (embedding: string, anchor: Anchor): Promise<EmbeddingProvider> => {
    const es = spec.embeddings[embedding];
    const key = vocabDependent(es) ? `${embedding}|${anchor.sites.join("+")}` : embedding;
    let p = providers.get(key);
    if (!p) {
      const fit = anchorData(anchor.sites.map((n) => sites.get(n) as EncodedSite));
      p = Promise.resolve(
        createProvider(es, { sourceVocabulary: fit.vocabulary, fitData: fit, baseDir: dir }),
      ).catch((e: unknown) => {
        throw relabel(e, path, `embeddings.${embedding}`);
      });
      providers.set(key, p);
    }
    return p;
  };

  return {
    classes,
    sites,
    siteSummaries,
    checks,
    embeddingTable(embedding, anchor, site) {
      const es = spec.embeddings[embedding];
      const key = `${vocabDependent(es) ? anchor.sites.join("+") : "*"}|${embedding}|${site}`;
      let t = tables.get(key);
      if (!t) {
        t = (async () => {
          const provider = await providerFor(embedding, anchor);
          const enc = sites.get(site) as EncodedSite;
          try {
            const m = await provider.embed(enc.vocabulary);
            return { matrix: withPaddingRow(m), providerId: providerId(provider.info) };
          } catch (e) {
            throw relabel(e, path, `embeddings.${embedding}`, `site "${site}": `);
          }
        })();
        tables.set(key, t);
      }
      return t;
    },
  };
}

/** Vocabulary and unlabeled sequences that define an anchored provider (union over pooled sites). */
function anchorData(sites: EncodedSite[]): {
  vocabulary: Vocabulary;
  seqs: TokenSequences;
  vocab: Vocabulary;
} {
  if (sites.length === 1) {
    const s = sites[0];
    const vocabulary: Vocabulary = { site: s.name, tokens: s.vocabulary };
    return { vocabulary, vocab: vocabulary, seqs: s.pool.seqs };
  }
  const union = unionByKey(sites.map((s) => s.vocabulary));
  const vocabulary: Vocabulary = { site: sites.map((s) => s.name).join("+"), tokens: union.tokens };
  let seqs: TokenSequences = emptySequences();
  sites.forEach((s, i) => {
    seqs = concatSequences(seqs, remapSequences(s.pool.seqs, union.remaps[i]));
  });
  return { vocabulary, vocab: vocabulary, seqs };
}

function relabel(e: unknown, file: string, field: string, prefix = ""): unknown {
  return isInputError(e) ? new InputError(`${prefix}${e.message}`, { file, field }) : e;
}
