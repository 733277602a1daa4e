import type { AlignmentComparison } from "../concepts/alignment-comparison.js";

/** Plain-text table of a comparison. */
export function formatComparison(c: AlignmentComparison): string {
  const pct = (p: { value: number; ci95: [number, number] }): string =>
    Number.isNaN(p.value)
      ? "   -"
      : `${(100 * p.value).toFixed(1).padStart(5)}% [${(100 * p.ci95[0]).toFixed(0)}-${(100 * p.ci95[1]).toFixed(0)}]`;
  const head = `${"method".padEnd(24)} ${"top-1".padEnd(16)} ${`top-${c.k}`.padEnd(16)} ${"no-exact top-1".padEnd(16)} ${`no-exact top-${c.k}`.padEnd(16)} covered`;
  const first = c.methods[0]?.score;
  const lines = [
    `Alignment ${c.source} -> ${c.target}, ${c.tokens}: ${c.sourceTokens} source and ${c.targetTokens} target tokens`,
    first
      ? `Answer key ${c.answerKey}: ${first.evaluated} target tokens scored (${first.withoutExactText.top1.total} of them without an exact text match at the source); 95% Wilson intervals`
      : "",
    head,
    ...c.methods.map(
      (m) =>
        `${m.method.padEnd(24)} ${pct(m.score.all.top1).padEnd(16)} ${pct(m.score.all.topK).padEnd(16)} ${pct(m.score.withoutExactText.top1).padEnd(16)} ${pct(m.score.withoutExactText.topK).padEnd(16)} ${(100 * m.coverage.share).toFixed(1)}% >= ${m.coverage.threshold}`,
    ),
    ...c.notes.map((n) => `note: ${n}`),
  ];
  return `${lines.filter((l) => l !== "").join("\n")}\n`;
}
