import { z } from "zod";

/**
 * Negation scopes in short clinical texts, for the providers that compose a text's vector from its
 * words (hashing, vectors). The seed paper's whole idea is one bit of text per finding ("cough" /
 * "Not cough"); a bag of n-grams or a mean of word vectors nearly erases it (hashing: cosine 0.81-0.93
 * between "X" and "Not X"), so the words a cue negates are marked and the provider represents them
 * differently: `flip` negates their contribution (so "Not cough" ~ -"cough" plus the cue's own
 * features, cosine about -0.8), `subspace` (hashing only) hashes them with another seed (cosine about
 * 0). Either way "Not shortness of breath" stays near "Not short of breath".
 *
 * The scope rule is NegEx's in its simplest form (Chapman et al. 2001): a pre-negation cue ("not",
 * "no", "negative for", ...) negates the words after it up to a terminator ("but", ...) or the end; a
 * post-negation cue ("absent", "ruled out") negates the words before it back to a terminator or the
 * start. Cue words themselves are never negated. A word inside two scopes is negated twice, i.e. not.
 * Cues match whole words, case-insensitively; multi-word cues match as word sequences.
 */

/** The default cue lists ("flip" and "subspace" mean these lists; changing them needs a new mode name). */
export const DEFAULT_PRE_CUES = [
  "not",
  "no",
  "without",
  "denies",
  "denied",
  "deny",
  "negative for",
  "absence of",
  "free of",
  "never",
] as const;
export const DEFAULT_POST_CUES = ["absent", "ruled out"] as const;
export const DEFAULT_TERMINATORS = ["but", "however", "except", "although", "though", "yet"] as const;

const cueList = z.array(
  z
    .string()
    .min(1)
    .refine((s) => /[\p{L}\p{N}]/u.test(s), "a cue needs at least one letter or digit"),
);

const NegationObject = z
  .object({
    /** flip: negated words count with sign -1; subspace: hashed with another seed (hashing only); none: off. */
    mode: z
      .enum(["flip", "subspace", "none"])
      .describe(
        "flip: negated words count with sign -1; subspace: hashed with another seed (hashing only); none: no negation handling.",
      )
      .default("flip"),
    /** Pre-negation cues (negate the words after them); default DEFAULT_PRE_CUES. */
    cues: cueList
      .min(1)
      .describe(
        "Pre-negation cues, which negate the words after them; default not, no, without, denies, negative for, free of, never and a few more.",
      )
      .optional(),
    /** Post-negation cues (negate the words before them); default DEFAULT_POST_CUES. */
    postCues: cueList
      .describe("Post-negation cues, which negate the words before them; default absent, ruled out.")
      .optional(),
    /** Words that end a scope; default DEFAULT_TERMINATORS. */
    terminators: cueList
      .describe("Words that end a negation scope; default but, however, except, although, though, yet.")
      .optional(),
    /** Whether cue words contribute their own (never negated) features; without them "Not X" = -"X". */
    keepCues: z
      .boolean()
      .describe('Whether cue words add their own (never negated) features; without them "Not X" = -"X".')
      .default(true),
  })
  .strict();

/** `negation: flip | subspace | none` or the object form with custom cue lists. */
export const NegationSettings = z
  .union([
    z.enum(["flip", "subspace", "none"]).transform((mode) => NegationObject.parse({ mode })),
    NegationObject,
  ])
  .describe(
    'How negated words ("Not cough") are represented: flip (default), subspace (hashing only) or none, or an object with custom cue lists.',
  )
  .default({ mode: "flip", keepCues: true });
export type NegationSettings = z.infer<typeof NegationSettings>;
export type NegationSettingsInput = z.input<typeof NegationSettings>;

export interface CompiledNegation {
  mode: "flip" | "subspace" | "none";
  keepCues: boolean;
  /** Cues as word sequences, longest first (so "negative for" wins over a one-word cue "negative"). */
  pre: string[][];
  post: string[][];
  terminators: Set<string>;
  /**
   * What goes into a provider id: {} for mode none (so ids of providers without negation are what
   * they were before negation existed), else the mode and every non-default setting.
   */
  params: Record<string, string | boolean>;
}

function splitCue(cue: string): string[] {
  return cue
    .normalize("NFKC")
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 0);
}

function canonicalList(list: readonly string[]): string {
  return [...new Set(list.map((c) => splitCue(c).join(" ")))].sort().join(",");
}

export function compileNegation(s: NegationSettings): CompiledNegation {
  const pre = s.cues ?? [...DEFAULT_PRE_CUES];
  const post = s.postCues ?? [...DEFAULT_POST_CUES];
  const stop = s.terminators ?? [...DEFAULT_TERMINATORS];
  const byLength = (list: readonly string[]) =>
    [...new Set(list.map((c) => splitCue(c).join(" ")))]
      .map((c) => c.split(" "))
      .sort((a, b) => b.length - a.length || a.join(" ").localeCompare(b.join(" ")));
  const params: Record<string, string | boolean> = {};
  if (s.mode !== "none") {
    params.negation = s.mode;
    if (s.cues) params.negationCues = canonicalList(s.cues);
    if (s.postCues) params.negationPostCues = canonicalList(s.postCues);
    if (s.terminators) params.negationTerminators = canonicalList(s.terminators);
    if (!s.keepCues) params.negationKeepCues = false;
  }
  return {
    mode: s.mode,
    keepCues: s.keepCues,
    pre: byLength(pre),
    post: byLength(post),
    terminators: new Set(stop.flatMap(splitCue)),
    params,
  };
}

/**
 * Negation settings back from a provider id's params (see CompiledNegation.params): no `negation`
 * param means mode none, which is what every id written before negation existed means.
 */
export function negationFromParams(p: Record<string, string | number | boolean>): NegationSettings {
  const list = (v: unknown) => (typeof v === "string" && v.length > 0 ? v.split(",") : undefined);
  const mode = p.negation;
  if (mode !== "flip" && mode !== "subspace") return NegationSettings.parse("none");
  return NegationSettings.parse({
    mode,
    ...(list(p.negationCues) ? { cues: list(p.negationCues) } : {}),
    ...(list(p.negationPostCues) ? { postCues: list(p.negationPostCues) } : {}),
    ...(list(p.negationTerminators) ? { terminators: list(p.negationTerminators) } : {}),
    ...(p.negationKeepCues === false ? { keepCues: false } : {}),
  });
}

/** Role of each word: 1 plain, -1 negated, 0 a cue word (kept or dropped by keepCues). */
export type WordRoles = Int8Array;

function matchAt(words: readonly string[], i: number, cues: string[][]): number {
  for (const cue of cues) {
    if (i + cue.length > words.length) continue;
    let ok = true;
    for (let k = 0; k < cue.length && ok; k++) ok = words[i + k] === cue[k];
    if (ok) return cue.length;
  }
  return 0;
}

/**
 * Roles of lower-case words (see WordRoles), or null when no word is negated and no cue is present
 * (the common case: callers take their plain path).
 */
export function wordRoles(words: readonly string[], c: CompiledNegation): WordRoles | null {
  if (c.mode === "none" || words.length === 0) return null;
  const flips = new Uint8Array(words.length);
  const cue = new Uint8Array(words.length);
  let any = false;
  for (let i = 0; i < words.length; ) {
    const pre = matchAt(words, i, c.pre);
    if (pre > 0) {
      any = true;
      for (let k = i; k < i + pre; k++) cue[k] = 1;
      for (let k = i + pre; k < words.length && !c.terminators.has(words[k]); k++) flips[k] ^= 1;
      i += pre;
      continue;
    }
    const post = matchAt(words, i, c.post);
    if (post > 0) {
      any = true;
      for (let k = i; k < i + post; k++) cue[k] = 1;
      for (let k = i - 1; k >= 0 && !c.terminators.has(words[k]); k--) flips[k] ^= 1;
      i += post;
      continue;
    }
    i++;
  }
  if (!any) return null;
  const r = new Int8Array(words.length);
  for (let k = 0; k < words.length; k++) r[k] = cue[k] ? 0 : flips[k] ? -1 : 1;
  return r;
}
