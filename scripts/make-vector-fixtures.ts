import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { PROJECT_ROOT } from "../src/util/paths.js";

/**
 * Writes test/embed/fixtures/vectors/: the same known word vectors in every format the `vectors`
 * provider reads (word2vec binary with and without the newline after each vector, fastText `.vec`,
 * GloVe `.txt`, each also gzipped), so a test can check that all of them read to identical vectors.
 * Values are multiples of 1/8, exact in float32 and in their shortest decimal text, so the text and
 * binary files hold exactly the same numbers. Run: `npx tsx scripts/make-vector-fixtures.ts`.
 *
 * "Cough" comes before "cough" (as in a cased file where the capitalised form happens to be more
 * frequent): case-insensitive lookup must still take the lower-case one, case-sensitive the other.
 */
export const VECTOR_DIM = 4;

export const KNOWN_VECTORS: readonly (readonly [string, readonly number[]])[] = [
  ["the", [0.5, 0.5, 0.5, 0.5]],
  ["of", [0.5, 0.375, 0.5, 0.625]],
  ["not", [0.25, 0.75, -0.125, 0.5]],
  ["no", [0.25, 0.625, -0.25, 0.5]],
  ["Cough", [-1, 0.125, 0, 2]],
  ["cough", [1, 0.25, -0.5, 0]],
  ["fever", [0, 1, 0.5, -0.25]],
  ["shortness", [0.75, -0.5, 1, 0.125]],
  ["short", [0.625, -0.5, 0.875, 0.25]],
  ["breath", [-0.25, 0.25, 1.5, 1]],
  ["headache", [-1.5, 0.375, 0, -0.625]],
  ["fièvre", [0.125, 1, 0.375, -0.25]],
];

function textLines(): string {
  return KNOWN_VECTORS.map(([w, v]) => `${w} ${v.map((x) => String(x)).join(" ")}\n`).join("");
}

function word2vecBinary(newline: boolean): Buffer {
  const parts: Buffer[] = [Buffer.from(`${KNOWN_VECTORS.length} ${VECTOR_DIM}\n`, "utf8")];
  for (const [w, v] of KNOWN_VECTORS) {
    const vec = Buffer.alloc(4 * VECTOR_DIM);
    v.forEach((x, i) => {
      vec.writeFloatLE(x, 4 * i);
    });
    parts.push(Buffer.from(`${w} `, "utf8"), vec);
    if (newline) parts.push(Buffer.from("\n"));
  }
  return Buffer.concat(parts);
}

/** File name -> bytes. */
export function vectorFixtureFiles(): Record<string, Buffer> {
  const plain: Record<string, Buffer> = {
    "vectors.bin": word2vecBinary(true),
    "vectors-nonewline.bin": word2vecBinary(false),
    "vectors.vec": Buffer.from(`${KNOWN_VECTORS.length} ${VECTOR_DIM}\n${textLines()}`, "utf8"),
    "vectors.txt": Buffer.from(textLines(), "utf8"),
  };
  const out: Record<string, Buffer> = { ...plain };
  for (const [name, bytes] of Object.entries(plain)) out[`${name}.gz`] = gzipSync(bytes, { level: 9 });
  return out;
}

export const VECTOR_FIXTURE_DIR = join(PROJECT_ROOT, "test", "embed", "fixtures", "vectors");

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  mkdirSync(VECTOR_FIXTURE_DIR, { recursive: true });
  for (const [name, bytes] of Object.entries(vectorFixtureFiles())) {
    writeFileSync(join(VECTOR_FIXTURE_DIR, name), bytes);
    console.log(`wrote ${join(VECTOR_FIXTURE_DIR, name)} (${bytes.length} bytes)`);
  }
}
