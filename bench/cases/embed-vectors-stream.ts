import { execFileSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { VocabularyToken } from "../../src/concepts/vocabulary.js";
import { createVectorsProvider } from "../../src/embed/providers/vectors.js";

/**
 * The `vectors` provider streams a word-vector file in memory bounded by the vocabulary: a generated
 * 1 GB GloVe-style text file (about 1.1 million words x 100 dimensions) read for a 200-word vocabulary
 * (180 words in the file, 20 not) in a child process whose peak RSS must stay under 200 MB. Also
 * reports the read throughput (the pass also computes the file's SHA-256 for the provider id).
 */
const DIM = 100;
const TARGET_BYTES = 1_000_000_000;
const LIMIT_MB = 200;

function generate(file: string): { words: number; wanted: string[] } {
  // 1,024 distinct vectors as text, picked per word by an LCG: fast to write, every word different.
  let x = 12345;
  const next = () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x;
  };
  const vectors = Array.from({ length: 1024 }, () =>
    Array.from({ length: DIM }, () => ((next() >>> 8) / (1 << 23) - 1).toFixed(5)).join(" "),
  );
  const fd = openSync(file, "w");
  let bytes = 0;
  let words = 0;
  try {
    while (bytes < TARGET_BYTES) {
      let text = "";
      for (let l = 0; l < 8192; l++) text += `w${words++} ${vectors[next() >>> 22]}\n`;
      const chunk = Buffer.from(text, "latin1");
      writeSync(fd, chunk);
      bytes += chunk.length;
    }
  } finally {
    closeSync(fd);
  }
  const wanted = Array.from({ length: 180 }, (_, i) => `w${Math.floor(((i + 0.5) * words) / 180)}`);
  for (let i = 0; i < 20; i++) wanted.push(`absent${i}`);
  return { words, wanted };
}

/** Child: read the file for the vocabulary and print what it found, the time and the peak RSS. */
async function child(file: string, words: string[]): Promise<void> {
  const tokens: VocabularyToken[] = words.map((w, i) => ({
    key: `V${i}|present`,
    code: `V${i}`,
    value: { kind: "present" },
    conceptText: w,
    text: w,
  }));
  const t0 = performance.now();
  const p = await createVectorsProvider({ file, negation: "none" }, { preload: tokens });
  const seconds = (performance.now() - t0) / 1000;
  const cov = await p.coverage(tokens);
  const out = {
    seconds,
    fileWords: p.fileWords,
    withVector: cov.tokens - cov.tokensWithoutVector,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

export async function run(): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), "cb-bench-vectors-"));
  const file = join(dir, "big.txt");
  try {
    const g0 = performance.now();
    const { words, wanted } = generate(file);
    const genSeconds = (performance.now() - g0) / 1000;
    const size = statSync(file).size;
    const stdout = execFileSync(
      process.execPath,
      ["--import", "tsx", fileURLToPath(import.meta.url), "--child", file, wanted.join(",")],
      { encoding: "utf8", maxBuffer: 1 << 20 },
    );
    const r = JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as {
      seconds: number;
      fileWords: number;
      withVector: number;
      peakRssMb: number;
    };
    if (r.fileWords !== words) throw new Error(`read ${r.fileWords} words, wrote ${words}`);
    if (r.withVector !== 180) throw new Error(`${r.withVector} of the 180 words in the file found`);
    if (r.peakRssMb >= LIMIT_MB) throw new Error(`peak RSS ${r.peakRssMb.toFixed(0)} MB >= ${LIMIT_MB} MB`);
    return {
      vectors_stream_file_mb: Math.round(size / 1e6),
      vectors_stream_words: words,
      vectors_stream_generate_seconds: Math.round(genSeconds * 10) / 10,
      vectors_stream_seconds: Math.round(r.seconds * 10) / 10,
      vectors_stream_mb_per_second: Math.round(size / 1e6 / r.seconds),
      vectors_stream_peak_rss_mb: Math.round(r.peakRssMb),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (
  process.argv[1] &&
  import.meta.url === pathToFileURL(process.argv[1]).href &&
  process.argv[2] === "--child"
) {
  await child(process.argv[3], process.argv[4].split(","));
}
