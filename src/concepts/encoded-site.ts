import type { SplitSite } from "../data/sites/split-site.js";
import { type TaskSpec, taskClasses, taskLabels } from "../data/task.js";
import type { SiteDataset } from "../data/types.js";
import { buildSiteVocabulary } from "./merge-vocabulary.js";
import { emptySequences, type LabeledSequences } from "./sequences.js";
import { DEFAULT_TOKEN_TEXT, type TokenTextSettings } from "./token-text.js";
import {
  encodeEncounters,
  type TokenSequences,
  type Vocabulary,
  type VocabularyToken,
} from "./vocabulary.js";

/**
 * A site as every later stage sees it: its vocabulary (token id t is `vocabulary[t - 1]`; 0 is
 * padding) and its labeled encounters as token sequences, a training pool and a test set. No
 * encounter ids and no raw values: what a worker thread, a scenario or a model ever gets of a site.
 * embed/embedded-site.ts adds the embedding table (EmbeddedSite); those are the only two site shapes.
 */
export interface EncodedSite {
  name: string;
  vocabulary: VocabularyToken[];
  /** Training pool: the encounters models at this site may learn from (train + validation). */
  pool: LabeledSequences;
  /** Held-out test set (empty for a site that only trains or is only scored). */
  test: LabeledSequences;
}

/**
 * Encode a split site under a task: one vocabulary over all its files, labels from `labelsOf`
 * (per dataset, -1 = unlabeled), unlabeled encounters dropped.
 */
export function encodeSite(
  site: SplitSite,
  labelsOf: (ds: SiteDataset) => Int32Array,
  tokenText: TokenTextSettings = DEFAULT_TOKEN_TEXT,
): EncodedSite {
  const { vocabulary, typeToToken } = buildSiteVocabulary(site.name, site.datasets, tokenText);
  const labels = site.datasets.map(labelsOf);
  const part = (p: SplitSite["pool"]): LabeledSequences => {
    const keep = p.indices.filter((i) => labels[p.dataset][i] >= 0);
    return {
      seqs: encodeEncounters(site.datasets[p.dataset], typeToToken[p.dataset], keep),
      labels: Int32Array.from(keep, (i) => labels[p.dataset][i]),
    };
  };
  return { name: site.name, vocabulary: vocabulary.tokens, pool: part(site.pool), test: part(site.test) };
}

/**
 * One dataset as a site whose pool is every labeled encounter and whose test set is empty: a site
 * that trains (the CLI's `train`, `transfer`) without holding anything out itself.
 */
export function encodeDataset(
  ds: SiteDataset,
  labels: Int32Array,
  tokenText: TokenTextSettings = DEFAULT_TOKEN_TEXT,
): EncodedSite {
  const all = new Uint32Array(ds.encounters.count);
  for (let i = 0; i < all.length; i++) all[i] = i;
  const site = encodeSite(
    {
      name: ds.name,
      datasets: [ds],
      pool: { dataset: 0, indices: all },
      test: { dataset: 0, indices: new Uint32Array(0) },
    },
    () => labels,
    tokenText,
  );
  return { ...site, test: { seqs: emptySequences(), labels: new Int32Array(0) } };
}

/**
 * Every encounter of a dataset in file order, labeled or not, with the same vocabulary encodeDataset
 * builds: what scoring a whole site needs (predictions are written per encounter, at the site).
 */
export function encodeAllEncounters(
  ds: SiteDataset,
  tokenText: TokenTextSettings = DEFAULT_TOKEN_TEXT,
): { vocabulary: VocabularyToken[]; seqs: TokenSequences } {
  const { vocabulary, typeToToken } = buildSiteVocabulary(ds.name, [ds], tokenText);
  return { vocabulary: vocabulary.tokens, seqs: encodeEncounters(ds, typeToToken[0]) };
}

/**
 * A dataset prepared for one task: its classes (binary: `not <positive>`, `<positive>`; multi-class:
 * the dataset's classes, sorted) and the encoded site whose pool is every labeled encounter.
 */
export function prepareSite(
  ds: SiteDataset,
  task: TaskSpec,
  tokenText: TokenTextSettings = DEFAULT_TOKEN_TEXT,
): { site: EncodedSite; classes: string[] } {
  const classes = taskClasses(task, [ds]);
  return { site: encodeDataset(ds, taskLabels(task, ds, classes), tokenText), classes };
}

/** The site's vocabulary as providers take it (one-hot's space, hashing's IDF texts). */
export function vocabularyOf(site: EncodedSite): Vocabulary {
  return { site: site.name, tokens: site.vocabulary };
}
