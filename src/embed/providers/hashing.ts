import { createHash } from "node:crypto";
import { z } from "zod";
import { InputError } from "../../util/errors.js";
import { parseInput } from "../../util/parse-input.js";
import {
  type CompiledNegation,
  compileNegation,
  NegationSettings,
  negationFromParams,
  wordRoles,
} from "../negation.js";
import type { EmbeddingProvider, ProviderInfo } from "../types.js";

/**
 * Feature hashing of character n-grams and words: an embedding that needs no model and no network,
 * is deterministic on every machine, and places lexical variants ("short of breath" / "shortness of
 * breath", "tachypnoea" / "tachypnea") near each other. It does not know synonyms ("dyspnea" /
 * "short of breath"); that takes a language model.
 *
 * Negation (src/embed/negation.ts): by default the features of negated words count with sign -1, so
 * "Not cough" = features("not") - features("cough") and its cosine with "cough" is about -0.8 instead
 * of 0.83 without it. `negation: none` is the embedding as it was before negation handling, with the
 * same vectors and the same provider id.
 */
export const HashingSettings = z
  .object({
    dimension: z
      .number()
      .int()
      .min(8)
      .max(1 << 20)
      .describe("Number of hash buckets = the embedding dimension.")
      .default(512),
    /** Character n-gram lengths, taken within each word padded as "<word>" (fastText style). */
    ngramMin: z
      .number()
      .int()
      .min(1)
      .max(10)
      .describe('Shortest character n-gram, taken within each word padded as "<word>" (fastText style).')
      .default(3),
    ngramMax: z
      .number()
      .int()
      .min(1)
      .max(10)
      .describe("Longest character n-gram (at least ngramMin).")
      .default(5),
    /** Weight of whole-word features relative to one n-gram (0 = none). */
    wordWeight: z
      .number()
      .min(0)
      .describe("Weight of whole-word features relative to one n-gram (0 = no word features).")
      .default(1),
    /** Signed hashing (a hash bit picks +1/-1) so that collisions cancel in expectation instead of adding up. */
    signed: z
      .boolean()
      .describe(
        "Signed hashing: a hash bit picks +1/-1, so collisions cancel in expectation instead of adding up.",
      )
      .default(true),
    /** Weight features by inverse document frequency fitted on a vocabulary's texts (see idfTexts). */
    idf: z
      .boolean()
      .describe("Weight features by inverse document frequency, fitted on the source vocabulary's texts.")
      .default(false),
    normalize: z.boolean().describe("Scale each vector to unit length.").default(true),
    seed: z
      .number()
      .int()
      .min(0)
      .describe("Seed mixed into every hash (another seed, another embedding).")
      .default(0),
    /** How negated words ("Not cough") are represented: flip (default), subspace or none (see negation.ts). */
    negation: NegationSettings,
  })
  .strict();
export type HashingSettings = z.infer<typeof HashingSettings>;
export type HashingSettingsInput = z.input<typeof HashingSettings>;

/**
 * Hashing settings back from a provider id (info.dimension, info.normalize and info.params), e.g. to
 * rebuild the provider a bundle's model was trained with. An id without negation params is one
 * written before negation handling existed, or with negation none: both mean none.
 */
export function hashingSettingsFromInfo(info: ProviderInfo): HashingSettingsInput {
  const p = info.params ?? {};
  const known = new Set(Object.keys(HashingSettings.shape));
  const plain = Object.fromEntries(Object.entries(p).filter(([k]) => known.has(k) && k !== "negation"));
  return {
    ...(info.dimension !== undefined ? { dimension: info.dimension } : {}),
    ...(info.normalize !== undefined ? { normalize: info.normalize } : {}),
    ...plain,
    negation: negationFromParams(p),
  };
}

export interface HashingProviderOptions {
  /** Texts to fit IDF on (a vocabulary's token texts), required when settings.idf is true. */
  idfTexts?: readonly string[];
}

/** Text -> lower-case words of letters and digits (NFKC, so full-width and ligature forms agree). */
export function hashingWords(text: string): string[] {
  return text
    .normalize("NFKC")
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 0);
}

/** True when every UTF-16 code unit is ASCII (then no Unicode normalisation is needed). */
function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

let scratch = new Uint16Array(1024);

/**
 * The text as lower-case word characters with a "<" before and ">" after each word
 * ("Not fever" -> "<not><fever>"), as UTF-16 codes in the module's scratch buffer; returns the
 * length. ASCII texts (nearly all clinical concept texts) take a fast path without Unicode
 * normalisation (NFKC can lengthen a text, so that path sizes the buffer from the words).
 */
function wordCodes(text: string): number {
  let n = 0;
  if (isAscii(text)) {
    if (scratch.length < text.length * 3) scratch = new Uint16Array(text.length * 3);
    const out = scratch;
    let inWord = false;
    for (let i = 0; i < text.length; i++) {
      let c = text.charCodeAt(i);
      const upper = c >= 65 && c <= 90;
      if (upper || (c >= 97 && c <= 122) || (c >= 48 && c <= 57)) {
        if (upper) c += 32;
        if (!inWord) {
          out[n++] = 0x3c;
          inWord = true;
        }
        out[n++] = c;
      } else if (inWord) {
        out[n++] = 0x3e;
        inWord = false;
      }
    }
    if (inWord) out[n++] = 0x3e;
    return n;
  }
  const words = hashingWords(text);
  const need = words.reduce((a, w) => a + w.length + 2, 0);
  if (scratch.length < need) scratch = new Uint16Array(need);
  for (const w of words) {
    scratch[n++] = 0x3c;
    for (let i = 0; i < w.length; i++) scratch[n++] = w.charCodeAt(i);
    scratch[n++] = 0x3e;
  }
  return n;
}

/**
 * Visit the hashed features of a text: calls visit(bucket, sign, weight) per feature. Character
 * n-grams never cross a word boundary; FNV-1a is rolled forward from each start position so all
 * lengths ngramMin..ngramMax cost one pass, and a murmur3 finaliser mixed with the length spreads
 * the bits. No strings are built per n-gram, which is what makes this fast.
 */
export function forEachFeature(
  text: string,
  s: HashingSettings,
  visit: (bucket: number, sign: number, weight: number) => void,
  negation: CompiledNegation | null = null,
): void {
  // Roles per word (1 plain, -1 negated, 0 cue), from the same word split as wordCodes; null = all plain.
  const roles = negation && negation.mode !== "none" ? wordRoles(hashingWords(text), negation) : null;
  const L = wordCodes(text);
  const codes = scratch;
  const dim = s.dimension;
  const plainSeed = (0x811c9dc5 ^ s.seed) >>> 0;
  // Negated words in "subspace" mode: their own hash functions, so they land on unrelated buckets.
  const negSeed = (plainSeed ^ 0x6a09e667) >>> 0;
  const flip = negation?.mode === "flip";
  const dropCues = negation !== null && !negation.keepCues;
  let seed = plainSeed;
  let polarity = 1;
  let skip = false;
  let wordStart = 0;
  let word = -1;
  for (let i = 0; i < L; i++) {
    const c = codes[i];
    if (c === 0x3c) {
      wordStart = i;
      word++;
      if (roles) {
        const role = roles[word];
        skip = role === 0 && dropCues;
        polarity = role === -1 && flip ? -1 : 1;
        seed = role === -1 && !flip ? negSeed : plainSeed;
      }
    }
    if (skip) continue;
    // n-grams starting at i, within the word ("<...>") that i belongs to.
    let h = seed;
    for (let k = i; k < L && k - i < s.ngramMax; k++) {
      h = Math.imul(h ^ codes[k], 0x01000193);
      const n = k - i + 1;
      if (n >= s.ngramMin) {
        const f = fmix((h ^ Math.imul(n, 0x9e3779b1)) >>> 0);
        visit((f >>> 1) % dim, (s.signed && f & 1 ? -1 : 1) * polarity, 1);
      }
      if (codes[k] === 0x3e) break;
    }
    if (c === 0x3e && s.wordWeight > 0) {
      // The whole word (without its markers) as one more feature.
      let w = (seed ^ 0x5bd1e995) >>> 0;
      for (let k = wordStart + 1; k < i; k++) w = Math.imul(w ^ codes[k], 0x01000193);
      const f = fmix(w >>> 0);
      visit((f >>> 1) % dim, (s.signed && f & 1 ? -1 : 1) * polarity, s.wordWeight);
    }
  }
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Smoothed IDF per bucket (sklearn's formula: ln((1 + N) / (1 + df)) + 1). */
export function fitHashingIdf(texts: readonly string[], s: HashingSettings): Float32Array {
  const df = new Float64Array(s.dimension);
  const seen = new Uint32Array(s.dimension);
  const negation = compileNegation(s.negation);
  texts.forEach((t, d) => {
    forEachFeature(
      t,
      s,
      (b) => {
        if (seen[b] !== d + 1) {
          seen[b] = d + 1;
          df[b]++;
        }
      },
      negation,
    );
  });
  const idf = new Float32Array(s.dimension);
  for (let b = 0; b < s.dimension; b++) idf[b] = Math.log((1 + texts.length) / (1 + df[b])) + 1;
  return idf;
}

export function createHashingProvider(
  settings: HashingSettingsInput = {},
  opts: HashingProviderOptions = {},
): EmbeddingProvider {
  const s = parseInput(HashingSettings, settings, { field: "embedding", what: "hashing settings" });
  if (s.ngramMin > s.ngramMax) throw new InputError("ngramMin must be <= ngramMax", { field: "ngramMin" });
  let idf: Float32Array | null = null;
  let revision: string | undefined;
  if (s.idf) {
    if (!opts.idfTexts || opts.idfTexts.length === 0) {
      throw new InputError("hashing with idf needs texts to fit IDF on (a vocabulary)", { field: "idf" });
    }
    idf = fitHashingIdf(opts.idfTexts, s);
    revision = `sha256:${createHash("sha256").update(new Uint8Array(idf.buffer)).digest("hex")}`;
  }
  const dim = s.dimension;
  const negation = compileNegation(s.negation);
  const info: ProviderInfo = {
    provider: "hashing",
    model: "char-ngram-fnv1a",
    ...(revision ? { revision } : {}),
    normalize: s.normalize,
    dimension: dim,
    params: {
      ngramMin: s.ngramMin,
      ngramMax: s.ngramMax,
      wordWeight: s.wordWeight,
      signed: s.signed,
      idf: s.idf,
      seed: s.seed,
      // Nothing for negation none: the id of the embedding as it was before negation handling.
      ...negation.params,
    },
  };
  let target: Float32Array = new Float32Array(0);
  let base = 0;
  const add = (b: number, sign: number, w: number): void => {
    target[base + b] += sign * w * (idf ? idf[b] : 1);
  };
  const embedText = (text: string, out: Float32Array, offset: number): void => {
    target = out;
    base = offset;
    forEachFeature(text, s, add, negation);
    if (s.normalize) {
      let ss = 0;
      for (let k = offset; k < offset + dim; k++) ss += out[k] * out[k];
      if (ss > 0) {
        const inv = 1 / Math.sqrt(ss);
        for (let k = offset; k < offset + dim; k++) out[k] *= inv;
      }
    }
  };
  return {
    info,
    async embed(tokens, eopts) {
      const data = new Float32Array(tokens.length * dim);
      for (let i = 0; i < tokens.length; i++) {
        embedText(tokens[i].text, data, i * dim);
        if (eopts?.onProgress && (i + 1) % 10000 === 0) eopts.onProgress(i + 1, tokens.length);
      }
      eopts?.onProgress?.(tokens.length, tokens.length);
      return { rows: tokens.length, dim, data };
    },
  };
}
