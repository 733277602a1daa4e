import type { Aggregation, ArmResult, ReportTable } from "../../src/report/aggregate.js";
import { predictionKey } from "../../src/report/aggregate.js";
import { type BinaryPredictions, pairedDelong } from "../../src/report/stats.js";

/**
 * Judging the seed paper's claims from a results store, with the statistics stated: two arms are
 * "clearly" different when
 * - binary task: the paired DeLong test on the same test set gives p < alpha in every seed, with the
 *   same sign (the report's ▲/▼ rule, unadjusted);
 * - multi-class task (no paired DeLong for macro AUROC): a paired t-test over seeds gives p < alpha.
 * Otherwise they are "not distinguishable". A claim "holds" where the numbers show it clearly, "does
 * not hold" where they clearly do not, is "mixed" across settings, or "cannot be tested" when the
 * arms it needs do not exist in this data.
 */

export interface SeedPoint {
  seed: number;
  auroc: number;
  /** Binary predictions on the test set (for the paired DeLong test). */
  preds?: BinaryPredictions;
}

export interface ArmData {
  /** e.g. "local · biobert". */
  label: string;
  seeds: SeedPoint[];
}

export type Direction = "higher" | "lower" | "tie";

export interface Comparison {
  /** Mean over shared seeds of AUROC(a) - AUROC(b). */
  diff: number;
  direction: Direction;
  /** How it was decided, e.g. "paired DeLong per seed: +0.012 (p 0.001), +0.020 (p <0.001)". */
  test: string;
}

export type Verdict = "holds" | "does not hold" | "mixed" | "cannot be tested";

export interface Judgement {
  verdict: Verdict;
  /** One line per setting with the numbers quoted. */
  details: string[];
}

const ALPHA = 0.05;

/** Two-sided 95% critical values of Student's t for df = 1..10 (beyond: 1.96 is close enough). */
const T_CRIT_95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228];

export function compareArms(a: ArmData, b: ArmData): Comparison {
  const pairs = a.seeds
    .map((s) => ({ a: s, b: b.seeds.find((t) => t.seed === s.seed) }))
    .filter((p): p is { a: SeedPoint; b: SeedPoint } => p.b !== undefined);
  if (pairs.length === 0) return { diff: Number.NaN, direction: "tie", test: "no shared seeds" };
  const diffs = pairs.map((p) => p.a.auroc - p.b.auroc);
  const diff = diffs.reduce((s, x) => s + x, 0) / diffs.length;
  const paired = pairs.every((p) => p.a.preds && p.b.preds && sameLabels(p.a.preds.labels, p.b.preds.labels));
  if (paired) {
    const tests = pairs.map((p) => pairedDelong(p.a.preds!.labels, p.a.preds!.scores, p.b.preds!.scores));
    const up = tests.every((t) => t.p < ALPHA && t.diff > 0);
    const down = tests.every((t) => t.p < ALPHA && t.diff < 0);
    return {
      diff,
      direction: up ? "higher" : down ? "lower" : "tie",
      test: `paired DeLong per seed: ${tests.map((t) => `${signed(t.diff)} (p ${fmtP(t.p)})`).join(", ")}`,
    };
  }
  if (pairs.length < 2) return { diff, direction: "tie", test: "one seed: no test" };
  const n = diffs.length;
  const sd = Math.sqrt(diffs.reduce((s, x) => s + (x - diff) ** 2, 0) / (n - 1));
  const t =
    sd === 0 ? (diff === 0 ? 0 : Number.POSITIVE_INFINITY * Math.sign(diff)) : diff / (sd / Math.sqrt(n));
  const crit = T_CRIT_95[n - 2] ?? 1.96;
  const clear = Math.abs(t) > crit;
  return {
    diff,
    direction: clear ? (diff > 0 ? "higher" : "lower") : "tie",
    test: `paired t over ${n} seeds: t = ${Number.isFinite(t) ? t.toFixed(2) : "∞"} (5% critical ${crit})`,
  };
}

/** Mean AUROC over seeds, 3 decimals. */
export function meanText(a: ArmData): string {
  return mean(a.seeds.map((s) => s.auroc)).toFixed(3);
}

export function armMean(a: ArmData): number {
  return mean(a.seeds.map((s) => s.auroc));
}

/** Combine per-setting verdicts: all hold -> holds, none -> does not hold, else mixed. */
export function combine(verdicts: Verdict[]): Verdict {
  const tested = verdicts.filter((v) => v !== "cannot be tested");
  if (tested.length === 0) return "cannot be tested";
  if (tested.every((v) => v === "holds")) return "holds";
  if (tested.every((v) => v === "does not hold")) return "does not hold";
  return "mixed";
}

/**
 * Claim 1 in one setting: the focus embedding (BioBERT) is best, i.e. clearly better than every
 * other embedding. Does not hold when another embedding has a higher mean or is not distinguishable.
 */
export function judgeBest(
  setting: string,
  arms: ReadonlyMap<string, ArmData>,
  focus: string,
): { verdict: Verdict; detail: string } {
  const f = arms.get(focus);
  const others = [...arms.entries()].filter(([e]) => e !== focus);
  if (!f || others.length === 0) {
    return {
      verdict: "cannot be tested",
      detail: `${setting}: no ${focus} arm or nothing to compare it with`,
    };
  }
  const ranked = [...arms.entries()].sort((a, b) => armMean(b[1]) - armMean(a[1]));
  const ranking = ranked.map(([e, a]) => `${e} ${meanText(a)}`).join(", ");
  const cmps = others.map(([e, a]) => ({ e, c: compareArms(f, a) }));
  const beaten = cmps.filter((x) => x.c.direction === "lower");
  const ties = cmps.filter((x) => x.c.direction === "tie");
  let verdict: Verdict;
  let why: string;
  if (beaten.length > 0) {
    verdict = "does not hold";
    why = `${beaten.map((x) => x.e).join(", ")} clearly better than ${focus} (${beaten.map((x) => `Δ ${signed(-x.c.diff)}, ${x.c.test}`).join("; ")})`;
  } else if (ties.length > 0) {
    verdict = "does not hold";
    why = `${focus} not distinguishable from ${ties.map((x) => `${x.e} (Δ ${signed(x.c.diff)}, ${x.c.test})`).join("; ")}`;
  } else {
    verdict = "holds";
    why = `${focus} clearly better than every other embedding (smallest margin Δ ${signed(Math.min(...cmps.map((x) => x.c.diff)))})`;
  }
  return { verdict, detail: `${setting}: ${verdict} — ${ranking}; ${why}.` };
}

/**
 * Claim 2 in one setting for one generic embedding: fine-tuning (the better of the fine-tuning arms)
 * clearly improves on the transferred model used as is (source-only).
 */
export function judgeNeedsFinetuning(
  setting: string,
  sourceOnly: ArmData | undefined,
  finetuned: ArmData[],
): { verdict: Verdict; detail: string } {
  if (!sourceOnly || finetuned.length === 0) {
    return { verdict: "cannot be tested", detail: `${setting}: no source-only or fine-tuned arm` };
  }
  const best = [...finetuned].sort((a, b) => armMean(b) - armMean(a))[0];
  const c = compareArms(best, sourceOnly);
  const verdict: Verdict = c.direction === "higher" ? "holds" : "does not hold";
  const how = phrase(c.direction, {
    higher: "fine-tuning clearly helps",
    lower: "fine-tuning clearly hurts",
  });
  return {
    verdict,
    detail: `${setting}: ${verdict} — ${sourceOnly.label} ${meanText(sourceOnly)} vs ${best.label} ${meanText(best)} (Δ ${signed(c.diff)}, ${c.test}): ${how}.`,
  };
}

/**
 * Claim 3 in one setting: tuning everything (finetune-all, embeddings included) is clearly worse than
 * the lighter fine-tuning arm for the biomedical embedding.
 */
export function judgeExcessiveTuning(
  setting: string,
  all: ArmData | undefined,
  lighter: ArmData | undefined,
): { verdict: Verdict; detail: string } {
  if (!all || !lighter)
    return { verdict: "cannot be tested", detail: `${setting}: no finetune-all or lighter arm` };
  const c = compareArms(all, lighter);
  const verdict: Verdict = c.direction === "lower" ? "holds" : "does not hold";
  const how = phrase(c.direction, { higher: "tuning everything helps", lower: "tuning everything hurts" });
  return {
    verdict,
    detail: `${setting}: ${verdict} — ${all.label} ${meanText(all)} vs ${lighter.label} ${meanText(lighter)} (Δ ${signed(c.diff)}, ${c.test}): ${how}.`,
  };
}

/** An arm of a report table as ArmData, with its binary predictions when stored. */
export function armData(agg: Aggregation, table: ReportTable, arm: ArmResult): ArmData {
  return {
    label: `${arm.arm.scenario}${arm.arm.model === "logistic" ? " (logistic)" : ""} · ${arm.arm.embedding}`,
    seeds: arm.seeds.map((s) => {
      const preds = agg.predictions.get(predictionKey(table.id, arm.arm, s.seed));
      return { seed: s.seed, auroc: s.auroc, ...(preds ? { preds } : {}) };
    }),
  };
}

/** Find one arm (no recalibration) of a table. */
export function findArm(
  agg: Aggregation,
  table: ReportTable,
  scenario: string,
  embedding: string,
  model: "cnn" | "logistic" = "cnn",
): ArmData | undefined {
  const a = table.arms.find(
    (x) =>
      x.arm.scenario === scenario &&
      x.arm.embedding === embedding &&
      x.arm.model === model &&
      x.arm.recalibration === "none",
  );
  return a ? armData(agg, table, a) : undefined;
}

/** The words for a comparison's direction; a tie is "not distinguishable" unless said otherwise. */
export function phrase(
  d: Direction,
  words: { higher: string; lower: string; tie?: string } = {
    higher: "clearly higher",
    lower: "clearly lower",
  },
): string {
  return d === "higher" ? words.higher : d === "lower" ? words.lower : (words.tie ?? "not distinguishable");
}

export function signed(x: number): string {
  return `${x >= 0 ? "+" : "−"}${Math.abs(x).toFixed(3)}`;
}

function fmtP(p: number): string {
  return p < 0.001 ? "< 0.001" : `= ${p.toFixed(3)}`;
}

function mean(xs: readonly number[]): number {
  return xs.reduce((s, x) => s + x, 0) / xs.length;
}

function sameLabels(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
