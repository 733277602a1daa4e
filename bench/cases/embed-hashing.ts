import type { VocabularyToken } from "../../src/concepts/vocabulary.js";
import { createHashingProvider } from "../../src/embed/providers/hashing.js";

/** Hashing embedder throughput on clinical-length texts (target: >= 50,000 texts/s). Best of 3. */
export async function run(): Promise<Record<string, number>> {
  const words = [
    "acute",
    "chronic",
    "pain",
    "fever",
    "cough",
    "shortness",
    "of",
    "breath",
    "lab",
    "positive",
    "influenza",
    "Not",
    "sore",
    "throat",
    "renal",
    "failure",
  ];
  const n = 50_000;
  const tokens: VocabularyToken[] = [];
  let x = 1;
  for (let i = 0; i < n; i++) {
    const len = 2 + (i % 4);
    const parts: string[] = [];
    for (let k = 0; k < len; k++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      parts.push(words[x % words.length]);
    }
    const text = parts.join(" ");
    tokens.push({ key: `B${i}|present`, code: `B${i}`, value: { kind: "present" }, conceptText: text, text });
  }
  const p = createHashingProvider({ dimension: 512 });
  await p.embed(tokens.slice(0, 1000));
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < 3; r++) {
    const t = performance.now();
    await p.embed(tokens);
    best = Math.min(best, (performance.now() - t) / 1000);
  }
  return { hashing_texts_per_second: Math.round(n / best) };
}
