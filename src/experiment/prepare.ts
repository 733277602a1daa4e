import { buildSiteVocabulary } from "../concepts/merge-vocabulary.js";
import { TokenTextSettings } from "../concepts/token-text.js";
import { encodeEncounters, type TokenSequences, type Vocabulary } from "../concepts/vocabulary.js";
import { withPaddingRow } from "../embed/matrix.js";
import { createProvider, EmbeddingSpec } from "../embed/registry.js";
import { type EmbeddingMatrix, type EmbeddingProvider, providerId } from "../embed/types.js";
import { concatSequences, type LabeledSequences } from "../transfer/prepared.js";
import { InputError, isInputError } from "../util/errors.js";
import { taskClasses, taskLabels } from "./labels.js";
import { type LoadedSite, loadSite } from "./sites.js";
import type { LoadedSpec } from "./spec.js";

/**
 * Everything the grid needs from the sites, computed once per run: each site's vocabulary, its encoded
 * training pool and test set with task labels, and embedding tables per (embedding, anchor). Each site's
 * rows are read by this process only; what the jobs get is token ids and labels.
 */
export interface PreparedExperiment {
  classes: string[];
  sites: Map<string, EncodedSite>;
  /** Summaries with aggregate counts only (for the report's data section). */
  siteSummaries: SiteSummary[];
  embeddingTable(embedding: string, anchor: Anchor, site: string): Promise<EmbeddedSite>;
}

export interface EncodedSite {
  name: string;
  vocabulary: Vocabulary;
  pool: LabeledSequences;
  test: LabeledSequences;
}

export interface SiteSummary {
  site: string;
  poolEncounters: number;
  testEncounters: number;
  vocabularySize: number;
  classCounts: Record<string, number>;
}

/** Whose tokens define a vocabulary-dependent embedding (one-hot, co-occurrence): one site or two pooled. */
export type Anchor = { sites: string[] };

export interface EmbeddedSite {
  matrix: EmbeddingMatrix;
  providerId: string;
}

export async function prepareExperiment(
  loaded: LoadedSpec,
  needed: Set<string>,
): Promise<PreparedExperiment> {
  const { spec, dir, path } = loaded;
  const tokenText = TokenTextSettings.safeParse(spec.tokenText ?? {});
  if (!tokenText.success) {
    const issue = tokenText.error.issues[0];
    throw new InputError(issue.message, { file: path, field: `tokenText.${issue.path.join(".")}` });
  }
  const loadedSites = new Map<string, LoadedSite>();
  for (const name of needed) loadedSites.set(name, await loadSite(name, spec.sites[name], dir, path));
  const classes = taskClasses(
    spec.task,
    [...loadedSites.values()].flatMap((s) => s.datasets),
  );
  const sites = new Map<string, EncodedSite>();
  const siteSummaries: SiteSummary[] = [];
  for (const [name, s] of loadedSites) {
    const { vocabulary, typeToToken } = buildSiteVocabulary(name, s.datasets, tokenText.data);
    const part = (p: { dataset: number; indices: Uint32Array }): LabeledSequences => {
      const ds = s.datasets[p.dataset];
      const all = taskLabels(spec.task, ds, classes);
      const labels = new Int32Array(p.indices.length);
      for (let k = 0; k < p.indices.length; k++) labels[k] = all[p.indices[k]];
      return { seqs: encodeEncounters(ds, typeToToken[p.dataset], p.indices), labels };
    };
    const enc: EncodedSite = { name, vocabulary, pool: part(s.pool), test: part(s.test) };
    sites.set(name, enc);
    const classCounts: Record<string, number> = {};
    for (const c of classes) classCounts[c] = 0;
    for (const l of enc.pool.labels) classCounts[classes[l]]++;
    for (const l of enc.test.labels) classCounts[classes[l]]++;
    siteSummaries.push({
      site: name,
      poolEncounters: enc.pool.labels.length,
      testEncounters: enc.test.labels.length,
      vocabularySize: vocabulary.tokens.length,
      classCounts,
    });
  }

  const specs = new Map<string, EmbeddingSpec>();
  for (const [name, raw] of Object.entries(spec.embeddings)) {
    const r = EmbeddingSpec.safeParse(raw);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw new InputError(issue.message, {
        file: path,
        field: `embeddings.${name}.${issue.path.join(".")}`,
      });
    }
    specs.set(name, r.data);
  }

  const providers = new Map<string, Promise<EmbeddingProvider>>();
  const tables = new Map<string, Promise<EmbeddedSite>>();
  const vocabDependent = (e: EmbeddingSpec) => e.provider === "onehot" || e.provider === "cooccurrence";

  const providerFor = (embedding: string, anchor: Anchor): Promise<EmbeddingProvider> => {
    const es = specs.get(embedding)!;
    const key = vocabDependent(es) ? `${embedding}|${anchor.sites.join("+")}` : embedding;
    let p = providers.get(key);
    if (!p) {
      const fit = anchorData(anchor.sites.map((n) => sites.get(n)!));
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
    embeddingTable(embedding, anchor, site) {
      const es = specs.get(embedding)!;
      const key = `${vocabDependent(es) ? anchor.sites.join("+") : "*"}|${embedding}|${site}`;
      let t = tables.get(key);
      if (!t) {
        t = (async () => {
          const provider = await providerFor(embedding, anchor);
          const enc = sites.get(site)!;
          try {
            const m = await provider.embed(enc.vocabulary.tokens);
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
    return { vocabulary: s.vocabulary, vocab: s.vocabulary, seqs: s.pool.seqs };
  }
  const byKey = new Map<string, Vocabulary["tokens"][number]>();
  for (const s of sites) for (const t of s.vocabulary.tokens) if (!byKey.has(t.key)) byKey.set(t.key, t);
  const keys = [...byKey.keys()].sort();
  const idOf = new Map(keys.map((k, i) => [k, i + 1]));
  const vocabulary: Vocabulary = {
    site: sites.map((s) => s.name).join("+"),
    tokens: keys.map((k) => byKey.get(k)!),
  };
  let seqs: TokenSequences = { count: 0, offsets: new Uint32Array(1), tokens: new Uint32Array(0) };
  for (const s of sites) {
    const remap = s.vocabulary.tokens.map((t) => idOf.get(t.key)!);
    const mapped: TokenSequences = {
      count: s.pool.seqs.count,
      offsets: s.pool.seqs.offsets,
      tokens: s.pool.seqs.tokens.map((id) => remap[id - 1]),
    };
    seqs = concatSequences(seqs, mapped);
  }
  return { vocabulary, vocab: vocabulary, seqs };
}

function relabel(e: unknown, file: string, field: string, prefix = ""): unknown {
  return isInputError(e) ? new InputError(`${prefix}${e.message}`, { file, field }) : e;
}
