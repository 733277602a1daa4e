import { statSync } from "node:fs";
import { basename } from "node:path";
import { z } from "zod";
import type { VocabularyToken } from "../../concepts/vocabulary.js";
import { InputError } from "../../util/errors.js";
import { parseInput } from "../../util/parse-input.js";
import { compileNegation, NegationSettings, wordRoles } from "../negation.js";
import type { EmbeddingProvider, EmbedOptions, ProviderInfo } from "../types.js";
import { type FoundVector, scanVectorFile, type VectorFileFormat } from "../vectors-file.js";

/**
 * Static word vectors the user already has on disk (BioWordVec, GloVe, fastText, any word2vec
 * file): a token's vector is composed from its words' vectors, fully offline.
 *
 * - mean: the average of the vectors of the words the file has.
 * - sif: smooth inverse frequency (Arora, Liang & Ma 2017): word w weighs a / (a + p(w)), averaged
 *   over the words found. The files hold no counts but are sorted by frequency, so p(w) is estimated
 *   from the word's rank r by Zipf's law, p = 1 / (r H_N), H_N the N-th harmonic number of the N words
 *   read. SIF's second half, removing the common component, is `postprocess: [remove-top-k:1]`.
 *
 * Negation (negation.ts; default flip): the vectors of negated words count with sign -1, so "Not
 * cough" = mean(v(not), -v(cough)); `negation: none` composes plainly. Words are NFKC letters and
 * digits; lower-cased for lookup unless `caseSensitive` (then the file's exact word).
 *
 * The file is read once when the provider is created (words of the source vocabulary, and the file's
 * SHA-256 for the provider id) and once more per batch of new words (`prefetch`, which the cache
 * calls with all tokens it needs), never more than the words of the vocabularies seen are kept. A
 * token none of whose words the file has gets the zero vector; `coverage()` lists them and the
 * missing words.
 */
export const VectorsSettings = z
  .object({
    /** The vector file: `.bin` (word2vec binary), `.vec` (fastText), `.txt` (GloVe), plain or gzipped. */
    file: z
      .string()
      .min(1)
      .describe(
        "The vector file: .bin (word2vec binary), .vec (fastText) or .txt (GloVe), plain or gzipped; relative to the spec's folder, or shared:<path>.",
      ),
    /** Force a format; default: sniffed from the file's first bytes. */
    format: z
      .enum(["word2vec", "fasttext", "glove"])
      .describe("Force a file format; default: sniffed from the file's first bytes.")
      .optional(),
    composition: z
      .enum(["mean", "sif"])
      .describe(
        "How a text's vector is composed from its words' vectors: their mean, or sif (smooth inverse frequency weights, Arora et al. 2017).",
      )
      .default("mean"),
    /** SIF's a (Arora et al.: 1e-3 to 1e-4). */
    sifA: z
      .number()
      .positive()
      .max(1)
      .describe("SIF's a: word w weighs a / (a + p(w)) (Arora et al. use 1e-3 to 1e-4).")
      .default(1e-3),
    caseSensitive: z
      .boolean()
      .describe("Look words up with their case as written (default: lower-cased).")
      .default(false),
    /** Scale each token's vector to unit length. */
    normalize: z.boolean().describe("Scale each token's vector to unit length.").default(false),
    /** Read only the first `limit` words of the file (the most frequent). */
    limit: z
      .number()
      .int()
      .positive()
      .describe("Read only the first this many words of the file (the most frequent); default all.")
      .optional(),
    negation: NegationSettings.refine((n) => n.mode !== "subspace", {
      message: "negation subspace is for hashing; word vectors take flip or none",
    }).describe(
      'How negated words ("Not cough") are represented: flip (default) or none, or an object with custom cue lists.',
    ),
  })
  .strict();
export type VectorsSettings = z.infer<typeof VectorsSettings>;
export type VectorsSettingsInput = z.input<typeof VectorsSettings>;

export interface VectorsCoverage {
  tokens: number;
  /** Tokens none of whose words has a vector (they get the zero vector). */
  tokensWithoutVector: number;
  /** Tokens some but not all of whose words have a vector. */
  tokensPartly: number;
  distinctWords: number;
  distinctWordsWithoutVector: number;
  /** Missing words by how many tokens use them, most used first (at most 50). */
  missingWords: { word: string; tokens: number }[];
  /** Up to 20 texts of tokens without any vector. */
  examples: string[];
}

export interface VectorsProvider extends EmbeddingProvider {
  readonly format: VectorFileFormat;
  /** Words in the file (or read, with limit). */
  readonly fileWords: number;
  coverage(tokens: readonly VocabularyToken[]): Promise<VectorsCoverage>;
}

/** NFKC words of letters and digits, case kept. */
export function vectorWords(text: string): string[] {
  return text
    .normalize("NFKC")
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 0);
}

export interface VectorsProviderOptions {
  /** Tokens whose words are read on creation (the source vocabulary). */
  preload?: readonly VocabularyToken[];
  signal?: AbortSignal;
}

export async function createVectorsProvider(
  settings: VectorsSettingsInput,
  opts: VectorsProviderOptions = {},
): Promise<VectorsProvider> {
  const s = parseInput(VectorsSettings, settings, { field: "embedding", what: "vectors settings" });
  const negation = compileNegation(s.negation);
  const keyOf = (w: string) => (s.caseSensitive ? w : w.toLowerCase());
  const keysOf = (tokens: readonly VocabularyToken[]) => {
    const keys = new Set<string>();
    for (const t of tokens) for (const w of vectorWords(t.text)) keys.add(keyOf(w));
    return keys;
  };
  const stat = () => {
    try {
      const st = statSync(s.file);
      return `${st.size}:${st.mtimeMs}`;
    } catch (e) {
      throw new InputError(`cannot read the vector file: ${(e as NodeJS.ErrnoException).code ?? e}`, {
        file: s.file,
      });
    }
  };
  const stamp = stat();
  const first = keysOf(opts.preload ?? []);
  const scan = await scanVectorFile(s.file, {
    wanted: first,
    caseSensitive: s.caseSensitive,
    hash: true,
    ...(s.format ? { format: s.format } : {}),
    ...(s.limit !== undefined ? { limit: s.limit } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const found = new Map<string, FoundVector>(scan.found);
  const looked = new Set<string>(first);
  const dim = scan.dim;
  const N = scan.words;
  const harmonic =
    N <= 1000 ? exactHarmonic(N) : Math.log(N) + 0.5772156649015329 + 1 / (2 * N) - 1 / (12 * N * N);

  const prefetch = async (tokens: readonly VocabularyToken[], eopts?: EmbedOptions): Promise<void> => {
    const todo = new Set<string>();
    for (const k of keysOf(tokens)) if (!looked.has(k)) todo.add(k);
    if (todo.size === 0) return;
    if (stat() !== stamp) {
      throw new InputError("the vector file changed since the provider read it; create the provider again", {
        file: s.file,
      });
    }
    const more = await scanVectorFile(s.file, {
      wanted: todo,
      caseSensitive: s.caseSensitive,
      format: scan.format,
      ...(s.limit !== undefined ? { limit: s.limit } : {}),
      ...(eopts?.signal ? { signal: eopts.signal } : {}),
    });
    for (const [k, v] of more.found) found.set(k, v);
    for (const k of todo) looked.add(k);
  };

  const weight = (f: FoundVector): number =>
    s.composition === "sif" ? s.sifA / (s.sifA + 1 / (f.rank * harmonic)) : 1;

  const info: ProviderInfo = {
    provider: "vectors",
    model: basename(s.file),
    revision: `sha256:${scan.sha256}`,
    normalize: s.normalize,
    dimension: dim,
    params: {
      format: scan.format,
      composition: s.composition,
      ...(s.composition === "sif" ? { sifA: s.sifA } : {}),
      caseSensitive: s.caseSensitive,
      ...(s.limit !== undefined ? { limit: s.limit } : {}),
      ...negation.params,
    },
  };

  return {
    info,
    format: scan.format,
    fileWords: N,
    prefetch,
    async embed(tokens, eopts) {
      await prefetch(tokens, eopts);
      const data = new Float32Array(tokens.length * dim);
      const acc = new Float64Array(dim);
      tokens.forEach((t, i) => {
        const words = vectorWords(t.text);
        const roles = wordRoles(
          words.map((w) => w.toLowerCase()),
          negation,
        );
        acc.fill(0);
        let n = 0;
        words.forEach((w, j) => {
          const role = roles ? roles[j] : 1;
          if (role === 0 && !negation.keepCues) return;
          const f = found.get(keyOf(w));
          if (!f) return;
          const c = (role === -1 ? -1 : 1) * weight(f);
          for (let k = 0; k < dim; k++) acc[k] += c * f.vector[k];
          n++;
        });
        if (n === 0) return;
        let ss = 0;
        for (let k = 0; k < dim; k++) {
          acc[k] /= n;
          ss += acc[k] * acc[k];
        }
        const scale = s.normalize && ss > 0 ? 1 / Math.sqrt(ss) : 1;
        for (let k = 0; k < dim; k++) data[i * dim + k] = acc[k] * scale;
      });
      eopts?.onProgress?.(tokens.length, tokens.length);
      return { rows: tokens.length, dim, data };
    },
    async coverage(tokens) {
      await prefetch(tokens);
      const missing = new Map<string, number>();
      const words = new Set<string>();
      let none = 0;
      let partly = 0;
      const examples: string[] = [];
      for (const t of tokens) {
        const keys = [...new Set(vectorWords(t.text).map(keyOf))];
        let have = 0;
        for (const k of keys) {
          words.add(k);
          if (found.has(k)) have++;
          else missing.set(k, (missing.get(k) ?? 0) + 1);
        }
        if (have === 0) {
          none++;
          if (examples.length < 20) examples.push(t.text);
        } else if (have < keys.length) partly++;
      }
      return {
        tokens: tokens.length,
        tokensWithoutVector: none,
        tokensPartly: partly,
        distinctWords: words.size,
        distinctWordsWithoutVector: missing.size,
        missingWords: [...missing.entries()]
          .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
          .slice(0, 50)
          .map(([word, n]) => ({ word, tokens: n })),
        examples,
      };
    },
  };
}

function exactHarmonic(n: number): number {
  let h = 0;
  for (let r = n; r >= 1; r--) h += 1 / r;
  return h;
}
