import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { gunzipSync } from "node:zlib";
import {
  KNOWN_VECTORS,
  VECTOR_DIM,
  VECTOR_FIXTURE_DIR,
  vectorFixtureFiles,
} from "../../../scripts/make-vector-fixtures.js";
import { EmbeddingCache, embedWithCache } from "../../../src/embed/cache.js";
import { row } from "../../../src/embed/matrix.js";
import { createVectorsProvider } from "../../../src/embed/providers/vectors.js";
import { createProvider } from "../../../src/embed/registry.js";
import { providerId } from "../../../src/embed/types.js";
import { scanVectorFile } from "../../../src/embed/vectors-file.js";
import { InputError } from "../../../src/util/errors.js";
import { tok } from "../influenza-tokens.js";

const known = new Map(KNOWN_VECTORS.map(([w, v]) => [w, v]));
const fixture = (name: string) => join(VECTOR_FIXTURE_DIR, name);
const FILES = Object.keys(vectorFixtureFiles()).sort();
const tmp = () => mkdtempSync(join(tmpdir(), "cb-vectors-"));
const toks = (...texts: string[]) => texts.map((t, i) => tok(`T${i}`, t));

test("fixtures: the committed files are the generator's, gzipped ones hold the plain bytes", () => {
  const files = vectorFixtureFiles();
  assert.equal(FILES.length, 8);
  for (const name of FILES) {
    const committed = readFileSync(fixture(name));
    if (name.endsWith(".gz")) assert.ok(gunzipSync(committed).equals(files[name.slice(0, -3)]), name);
    else assert.ok(committed.equals(files[name]), `${name}: rerun scripts/make-vector-fixtures.ts`);
  }
});

test("word2vec binary (with and without newlines), fastText .vec, GloVe .txt, plain or gzipped: identical vectors", async () => {
  const words = KNOWN_VECTORS.map(([w]) => w).filter((w) => w !== "Cough");
  const formats: Record<string, string> = {};
  for (const name of FILES) {
    const p = await createVectorsProvider({ file: fixture(name), caseSensitive: true, negation: "none" });
    formats[name] = p.format;
    assert.equal(p.info.dimension, VECTOR_DIM);
    assert.equal(p.fileWords, KNOWN_VECTORS.length);
    const m = await p.embed(toks(...words, "Cough"));
    words.forEach((w, i) => {
      assert.deepEqual(Array.from(row(m, i)), known.get(w), `${name}: ${w}`);
    });
    assert.deepEqual(Array.from(row(m, words.length)), known.get("Cough"));
    // The revision is the SHA-256 of the stored bytes (so of the compressed ones for .gz).
    assert.equal(
      p.info.revision,
      `sha256:${createHash("sha256")
        .update(readFileSync(fixture(name)))
        .digest("hex")}`,
    );
  }
  assert.deepEqual(formats, {
    "vectors-nonewline.bin": "word2vec",
    "vectors-nonewline.bin.gz": "word2vec",
    "vectors.bin": "word2vec",
    "vectors.bin.gz": "word2vec",
    "vectors.txt": "glove",
    "vectors.txt.gz": "glove",
    "vectors.vec": "fasttext",
    "vectors.vec.gz": "fasttext",
  });
});

test("composition: mean, SIF by Zipf rank, negation flip, case, out-of-vocabulary report", async () => {
  const v = (w: string) => known.get(w) as readonly number[];
  const texts = ["shortness of breath", "Not cough", "Cough", "COUGH levitation", "levitation", "fièvre"];
  const p = await createVectorsProvider({ file: fixture("vectors.txt") });
  const m = await p.embed(toks(...texts));
  const mean = (rows: number[][]) => rows[0].map((_, k) => rows.reduce((s, r) => s + r[k], 0) / rows.length);
  const close = (a: ArrayLike<number>, b: readonly number[], what: string) =>
    b.forEach((x, k) => {
      assert.ok(Math.abs(a[k] - x) < 1e-6, `${what}[${k}]: ${a[k]} vs ${x}`);
    });
  close(row(m, 0), mean([v("shortness"), v("of"), v("breath")] as number[][]), "mean");
  // "Not cough" = mean(v(not), -v(cough)).
  close(row(m, 1), mean([v("not") as number[], v("cough").map((x) => -x)]), "negated");
  // Case-insensitive: "Cough" and "COUGH" find the lower-case word, though "Cough" comes first.
  close(row(m, 2), v("cough"), "case");
  close(row(m, 3), v("cough"), "partly covered");
  assert.deepEqual(Array.from(row(m, 4)), [0, 0, 0, 0]);
  close(row(m, 5), v("fièvre"), "unicode");
  const cov = await p.coverage(toks(...texts));
  assert.deepEqual(
    {
      none: cov.tokensWithoutVector,
      partly: cov.tokensPartly,
      missing: cov.missingWords,
      examples: cov.examples,
    },
    { none: 1, partly: 1, missing: [{ word: "levitation", tokens: 2 }], examples: ["levitation"] },
  );
  // Case-sensitive: "Cough" is its own word; "COUGH" is missing.
  const cs = await createVectorsProvider({ file: fixture("vectors.vec"), caseSensitive: true });
  const mc = await cs.embed(toks("Cough", "COUGH"));
  close(row(mc, 0), v("Cough"), "case-sensitive");
  assert.deepEqual(Array.from(row(mc, 1)), [0, 0, 0, 0]);
  // SIF: weight a / (a + p), p = 1 / (rank H_N), N = 12 words; "of" is rank 2, "shortness" 8, "breath" 10.
  const a = 1e-3;
  let H = 0;
  for (let r = 1; r <= 12; r++) H += 1 / r;
  const w = (rank: number) => a / (a + 1 / (rank * H));
  const sif = await createVectorsProvider({
    file: fixture("vectors.bin"),
    composition: "sif",
    negation: "none",
  });
  const ms = await sif.embed(toks("shortness of breath"));
  const expected = v("of").map(
    (_, k) => (w(8) * v("shortness")[k] + w(2) * v("of")[k] + w(10) * v("breath")[k]) / 3,
  );
  close(row(ms, 0), expected, "sif");
  // Guard: SIF is not the mean.
  assert.ok(Math.abs(row(ms, 0)[0] - row(m, 0)[0]) > 0.1);
  // Settings are part of the id; negation none adds nothing.
  assert.deepEqual(sif.info.params, {
    format: "word2vec",
    composition: "sif",
    sifA: 0.001,
    caseSensitive: false,
  });
  assert.equal(p.info.params?.negation, "flip");
  await assert.rejects(
    createVectorsProvider({ file: fixture("vectors.txt"), negation: "subspace" }),
    /flip or none/,
  );
});

test("bad files are InputErrors naming the file, the row and the field", async () => {
  const dir = tmp();
  const file = (name: string, body: string | Buffer) => {
    const f = join(dir, name);
    writeFileSync(f, body);
    return f;
  };
  const want = (f: string, words: string[], extra: object = {}) =>
    scanVectorFile(f, { wanted: new Set(words), caseSensitive: false, ...extra });
  const rejects = async (p: Promise<unknown>, re: RegExp) =>
    assert.rejects(p, (e: unknown) => e instanceof InputError && re.test(e.message));
  await rejects(
    want(file("bad.txt", "the 1 2 3\ncough 1 x 3\n"), ["cough"]),
    /bad\.txt, row 2, field "value 2": "x" is not a finite number/,
  );
  await rejects(
    want(file("short.txt", "the 1 2 3\ncough 1 2\n"), ["cough"]),
    /row 2, field "vector": 2 values, expected 3/,
  );
  await rejects(
    want(file("nan.vec", "2 3\nthe 1 2 3\ncough 1 NaN 3\n"), ["cough"]),
    /row 3, field "value 2"/,
  );
  await rejects(
    want(file("count.vec", "3 3\nthe 1 2 3\ncough 1 2 3\n"), []),
    /row 1, field "header": the header says 3 words, the file has 2/,
  );
  await rejects(
    want(file("alone.txt", "the 1 2\ncough\n"), []),
    /row 2, field "vector": a word without a vector/,
  );
  const bin = readFileSync(fixture("vectors.bin"));
  await rejects(
    want(file("cut.bin", bin.subarray(0, bin.length - 9)), []),
    /cut\.bin, row 13, field "vector": the file ends inside record 12/,
  );
  await rejects(
    want(fixture("vectors.txt"), [], { format: "word2vec" }),
    /format word2vec given, but the file looks like a GloVe/,
  );
  await rejects(want(file("empty.txt", ""), []), /the vector file is empty/);
  await rejects(want(join(dir, "missing.txt"), []), /missing\.txt: cannot read the vector file: ENOENT/);
  // Unwanted lines are not parsed: a bad value in a word nobody wants passes; a line whose word has
  // spaces (GloVe 840B) is that word, not its first part.
  const loose = await want(file("loose.txt", "the 1 2 3\nzzz 1 x 3\n. . 4 5 6\ncough 7 8 9\n"), [
    "cough",
    ".",
  ]);
  assert.deepEqual([...loose.found.keys()], ["cough"]);
  assert.equal(loose.words, 4);
});

test("streaming: memory holds the wanted words only, one pass per batch of new words, limit", async () => {
  const dir = tmp();
  // 60,000 words x 50 dimensions (about 17 MB of GloVe text): only the 3 wanted are kept.
  const f = join(dir, "big.txt");
  const lines: string[] = [];
  for (let i = 0; i < 60_000; i++) {
    const vals = Array.from({ length: 50 }, (_, k) => ((((i * 31 + k * 7) % 1000) - 500) / 1000).toFixed(3));
    lines.push(`w${i} ${vals.join(" ")}`);
  }
  writeFileSync(f, `${lines.join("\n")}\n`);
  const s = await scanVectorFile(f, {
    wanted: new Set(["w7", "w59999", "w30000", "nope"]),
    caseSensitive: false,
    hash: true,
  });
  // The SHA-256 of all 17 chunks of 1 MiB, as read.
  assert.equal(s.sha256, createHash("sha256").update(readFileSync(f)).digest("hex"));
  assert.equal(s.words, 60_000);
  assert.deepEqual([...s.found.keys()].sort(), ["w30000", "w59999", "w7"]);
  assert.equal(s.found.get("w59999")?.rank, 60_000);
  assert.equal(s.found.get("w7")?.vector[1], Math.fround((((7 * 31 + 7) % 1000) - 500) / 1000));
  const limited = await scanVectorFile(f, {
    wanted: new Set(["w7", "w59999"]),
    caseSensitive: false,
    limit: 100,
  });
  assert.deepEqual([...limited.found.keys()], ["w7"]);
  assert.equal(limited.words, 100);

  // prefetch reads the words of all tokens in one pass; afterwards embedding needs no file.
  const copy = join(dir, "vectors.vec.gz");
  copyFileSync(fixture("vectors.vec.gz"), copy);
  const p = await createVectorsProvider({ file: copy }, { preload: toks("cough") });
  await p.prefetch?.(toks("fever", "headache"));
  rmSync(copy);
  const m = await p.embed(toks("cough", "fever", "headache"));
  assert.deepEqual(Array.from(row(m, 1)), known.get("fever"));
  await assert.rejects(p.embed(toks("breath")), /cannot read the vector file/);
});

test("from a spec: relative file, through the cache (prefetch once), postprocess on top", async () => {
  const cacheDir = tmp();
  const spec = { provider: "vectors" as const, file: "vectors.bin.gz", postprocess: "center" };
  const source = { site: "S", tokens: toks("cough", "fever", "headache", "Not cough") };
  const p = await createProvider(spec, { baseDir: VECTOR_FIXTURE_DIR, sourceVocabulary: source });
  assert.equal(p.info.provider, "vectors");
  assert.equal(p.info.postprocess, "center");
  const m = await embedWithCache(p, source.tokens, new EmbeddingCache(cacheDir));
  assert.equal(m.embedded, 4);
  // Centered on these four tokens: their mean is zero.
  for (let k = 0; k < VECTOR_DIM; k++) {
    let s = 0;
    for (let i = 0; i < 4; i++) s += m.data[i * VECTOR_DIM + k];
    assert.ok(Math.abs(s) < 1e-6);
  }
  assert.match(providerId(p.info), /"postprocessFit":"sha256:/);
});
