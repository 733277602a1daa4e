import type { CellResult } from "../experiment/results.js";
import {
  type Aggregation,
  type ArmKey,
  type ArmResult,
  aggregate,
  compareSizes,
  type ModelKind,
  mean,
  predictionKey,
  type ReportTable,
  rowLabel,
  sizeLabel,
  type TargetSize,
} from "./aggregate.js";
import { type ReportSettings, reportSettings } from "./settings.js";
import { pairedBootstrapVersusReference, pairedDelongInterval } from "./stats.js";
import { publishedDecimals } from "./suppress.js";

/**
 * The answer a site asks for: per task, transfer direction and target training size, which arm to
 * deploy, how well it ranks (test AUROC with its 95% CI, pooled over seeds as the tables are), how
 * much it beats the best model the site could train alone, and from which amount of local data
 * that local model is as good (break-even n).
 *
 * - Recommended arm: the `auto` scenario (nested cross-validation picks a candidate per seed on
 *   training data only, so its test AUROC is an honest estimate). When a table has no `auto` arm,
 *   the arm with the highest mean test AUROC is shown instead and `basis` says so: chosen on the
 *   test set, that number is optimistic.
 * - Best local model: per seed, the best of the reference scenario's (`local`) CNN and logistic
 *   cells at the same target, size and seed, by test AUROC. Picking it on the test set favours
 *   local, which makes a claim that transfer beats it conservative.
 * - Δ vs best local: per seed the paired difference on the same test encounters with a 95% CI
 *   (binary: paired DeLong; multi-class: paired stratified bootstrap of the macro AUROC); over seeds
 *   the mean difference and the mean of the per-seed bounds, as the tables pool intervals.
 * - Break-even n: the smallest target size at which the best local model is no longer clearly worse
 *   (the CI of the difference includes 0 or lies below it); null when auto is clearly better at
 *   every size run.
 */

export interface RecommendationRow {
  task: string;
  source: string | null;
  target: string;
  targetSize: TargetSize;
  /** "A → B". */
  direction: string;
  tableId: string;
  /** "auto": the nested-CV arm; "best-mean": no auto arm, the best arm by mean test AUROC. */
  basis: "auto" | "best-mean";
  arm: { scenario: string; model: ModelKind; embedding: string };
  /** "auto · hashing", "finetune-all · bert", "local (logistic) · onehot". */
  label: string;
  /** auto: the candidates the nested CV picked, with how many seeds picked each (most first). */
  winners: { candidate: string; seeds: number }[];
  /** auto: each candidate's CV AUROC, mean over seeds. */
  candidateScores: Record<string, number>;
  auroc: number;
  ci: [number, number] | null;
  seeds: number;
  /** Mean test AUROC of the per-seed best local model, and the arm chosen most often. */
  bestLocal: { label: string; auroc: number } | null;
  /** Recommended minus best local, paired on the same test encounters. */
  delta: { diff: number; ci: [number, number]; method: "delong" | "bootstrap"; seeds: number } | null;
  /** Why there is no delta, when there is none. */
  deltaNote: string | null;
  /** "better": the CI of delta lies above 0; "worse": below; "similar": includes 0. */
  verdict: "better" | "similar" | "worse" | "untested";
  /** Per direction: see the module comment. Same on every row of a direction. */
  breakEven: { size: TargetSize; n: number | null } | null;
  /** Target training encounters behind this size ("all": mean recorded count), when known. */
  nTrain: number | null;
  /** The test set has too few events to rank arms: the numbers stand, the verdict does not. */
  smallSample: boolean;
  /** Decimals these numbers may be published with (coarser when a class of the test set is small). */
  decimals: number;
}

/** The recommendation from result cells, with the report's default settings unless given. */
export function recommendFromCells(
  cells: readonly CellResult[],
  settings: ReportSettings = reportSettings(),
): RecommendationRow[] {
  return recommend(aggregate(cells, settings), settings);
}

export function recommend(agg: Aggregation, settings: ReportSettings): RecommendationRow[] {
  const directional = agg.tables.filter((t) => t.key.source !== null);
  const tables = directional.length > 0 ? directional : agg.tables;
  const rows = tables.map((t) => rowFor(t, agg, settings)).filter((r) => r !== null);
  // Break-even per task and direction, over its sizes ascending.
  const groups = new Map<string, RecommendationRow[]>();
  for (const r of rows) {
    const k = JSON.stringify([r.task, r.source, r.target]);
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  for (const g of groups.values()) {
    g.sort((a, b) => compareSizes(a.targetSize, b.targetSize));
    const at = g.find((r) => r.verdict === "similar" || r.verdict === "worse");
    const breakEven = at ? { size: at.targetSize, n: at.nTrain } : null;
    for (const r of g) r.breakEven = breakEven;
  }
  return [...groups.values()].flat();
}

/**
 * Arms trained at the target alone: the reference scenario (`local`, CNN and logistic baseline) and
 * the tuned bag-of-tokens logistic regression (`local-bow`), which every recommendation is judged
 * against too.
 */
function isLocal(scenario: string, settings: ReportSettings): boolean {
  return scenario === settings.referenceScenario || scenario === "local-bow";
}

function rowFor(t: ReportTable, agg: Aggregation, settings: ReportSettings): RecommendationRow | null {
  const plain = t.arms.filter((a) => a.arm.recalibration === "none" && Number.isFinite(a.mean));
  if (plain.length === 0) return null;
  const autos = plain.filter((a) => a.arm.scenario === "auto");
  const basis = autos.length > 0 ? "auto" : "best-mean";
  const pool = autos.length > 0 ? autos : plain;
  const chosen = [...pool].sort((a, b) => b.mean - a.mean)[0];
  const locals = plain.filter((a) => isLocal(a.arm.scenario, settings));
  const winners = new Map<string, number>();
  const scores = new Map<string, number[]>();
  for (const s of chosen.seeds) {
    if (!s.selection) continue;
    winners.set(s.selection.winner, (winners.get(s.selection.winner) ?? 0) + 1);
    for (const [k, v] of Object.entries(s.selection.scores)) scores.set(k, [...(scores.get(k) ?? []), v]);
  }
  const { delta, deltaNote, bestLocal } = deltaToBestLocal(t, agg, chosen, locals, settings);
  let verdict: RecommendationRow["verdict"] = "untested";
  if (delta && !t.smallSample) {
    verdict = delta.ci[0] > 0 ? "better" : delta.ci[1] < 0 ? "worse" : "similar";
  } else if (!delta && chosen.arm.scenario === settings.referenceScenario && !t.smallSample) {
    verdict = "similar"; // the recommended arm is a local model: local has caught up
  }
  const nTrains = t.arms
    .filter((a) => isLocal(a.arm.scenario, settings))
    .flatMap((a) => a.seeds.map((s) => s.nTrain))
    .filter((n): n is number => n !== null && n > 0);
  return {
    task: t.key.task,
    source: t.key.source,
    target: t.key.target,
    targetSize: t.key.targetSize,
    direction: t.direction,
    tableId: t.id,
    basis,
    arm: { scenario: chosen.arm.scenario, model: chosen.arm.model, embedding: chosen.arm.embedding },
    label: `${rowLabel(chosen.arm)} · ${chosen.arm.embedding}`,
    winners: [...winners.entries()]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([candidate, seeds]) => ({ candidate, seeds })),
    candidateScores: Object.fromEntries([...scores.entries()].map(([k, v]) => [k, mean(v)])),
    auroc: chosen.mean,
    ci: chosen.ci,
    seeds: chosen.seeds.length,
    bestLocal,
    delta,
    deltaNote,
    verdict,
    breakEven: null,
    nTrain:
      t.key.targetSize === "all" ? (nTrains.length > 0 ? Math.round(mean(nTrains)) : null) : t.key.targetSize,
    smallSample: t.smallSample,
    decimals: publishedDecimals(t, settings.smallCellThreshold, settings.decimals),
  };
}

function deltaToBestLocal(
  t: ReportTable,
  agg: Aggregation,
  chosen: ArmResult,
  locals: ArmResult[],
  settings: ReportSettings,
): Pick<RecommendationRow, "delta" | "deltaNote" | "bestLocal"> {
  if (locals.length === 0) {
    return {
      delta: null,
      deltaNote: `no ${settings.referenceScenario} model at this target and size`,
      bestLocal: null,
    };
  }
  const perSeed: { local: ArmResult; auroc: number; seed: number }[] = [];
  for (const seed of t.seeds) {
    let best: { local: ArmResult; auroc: number } | null = null;
    for (const l of locals) {
      const s = l.seeds.find((x) => x.seed === seed);
      if (s && Number.isFinite(s.auroc) && (!best || s.auroc > best.auroc))
        best = { local: l, auroc: s.auroc };
    }
    if (best) perSeed.push({ ...best, seed });
  }
  if (perSeed.length === 0) return { delta: null, deltaNote: "no local AUROC", bestLocal: null };
  const counts = new Map<ArmResult, number>();
  for (const p of perSeed) counts.set(p.local, (counts.get(p.local) ?? 0) + 1);
  const mostOften = [...counts.entries()].sort((a, b) => b[1] - a[1])[0][0];
  const bestLocal = {
    label: `${rowLabel(mostOften.arm)} · ${mostOften.arm.embedding}`,
    auroc: mean(perSeed.map((p) => p.auroc)),
  };
  if (chosen.arm.scenario === settings.referenceScenario) {
    return { delta: null, deltaNote: "the recommended arm is a local model", bestLocal };
  }
  const diffs: { diff: number; ci: [number, number] }[] = [];
  let method: "delong" | "bootstrap" = t.binary ? "delong" : "bootstrap";
  let note: string | null = null;
  for (const p of perSeed) {
    if (!chosen.seeds.some((s) => s.seed === p.seed)) continue;
    const key = (arm: ArmKey) => predictionKey(t.id, arm, p.seed);
    if (t.binary) {
      const a = agg.predictions.get(key(chosen.arm));
      const b = agg.predictions.get(key(p.local.arm));
      if (!a || !b || !sameLabels(a.labels, b.labels)) {
        note = "no paired predictions on the same test set";
        continue;
      }
      diffs.push(pairedDelongInterval(a.labels, a.scores, b.scores));
    } else {
      method = "bootstrap";
      const a = agg.classPredictions.get(key(chosen.arm));
      const b = agg.classPredictions.get(key(p.local.arm));
      if (!a || !b || !sameLabels(a.labels, b.labels)) {
        note = "no paired predictions on the same test set";
        continue;
      }
      diffs.push(pairedBootstrapVersusReference(b, [a.scores], settings.testResamples)[0]);
    }
  }
  if (diffs.length === 0) return { delta: null, deltaNote: note ?? "no shared seeds", bestLocal };
  return {
    delta: {
      diff: mean(diffs.map((d) => d.diff)),
      ci: [mean(diffs.map((d) => d.ci[0])), mean(diffs.map((d) => d.ci[1]))],
      method,
      seeds: diffs.length,
    },
    deltaNote: null,
    bestLocal,
  };
}

function sameLabels(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

// ---- words --------------------------------------------------------------------------------------

function num(x: number, d: number): string {
  if (d <= 0) return "suppressed";
  return Number.isFinite(x) ? x.toFixed(d) : "–";
}

function signed(x: number, d: number): string {
  if (d <= 0) return "suppressed";
  return `${x >= 0 ? "+" : "−"}${Math.abs(x).toFixed(d)}`;
}

/** "0.812 [0.771–0.853]". */
export function aurocText(r: RecommendationRow): string {
  const d = r.decimals;
  if (d <= 0) return "suppressed (test set too small to publish)";
  return `${num(r.auroc, d)}${r.ci ? ` [${num(r.ci[0], d)}–${num(r.ci[1], d)}]` : ""}`;
}

/** "+0.034 [+0.010, +0.058]" or the reason there is none. */
export function deltaText(r: RecommendationRow): string {
  if (!r.delta) return r.deltaNote ?? "–";
  const d = r.decimals;
  return `${signed(r.delta.diff, d)} [${signed(r.delta.ci[0], d)}, ${signed(r.delta.ci[1], d)}]`;
}

export function breakEvenText(r: RecommendationRow): string {
  if (!r.breakEven) return "not reached";
  const b = r.breakEven;
  return b.size === "all" ? `all${b.n !== null ? ` (${b.n})` : ""}` : String(b.size);
}

/** "auto picked finetune-all (2 of 3 seeds), stacked (1)". */
export function pickedText(r: RecommendationRow): string {
  if (r.basis !== "auto" || r.winners.length === 0) return "";
  return `picked ${r.winners.map((w, i) => (i === 0 ? `${w.candidate} (${w.seeds} of ${r.seeds} seeds)` : `${w.candidate} (${w.seeds})`)).join(", ")}`;
}

export function verdictText(r: RecommendationRow): string {
  if (r.smallSample) return "too few events to rank";
  switch (r.verdict) {
    case "better":
      return "better than local";
    case "worse":
      return "worse than local";
    case "similar":
      return "local is as good";
    default:
      return "not tested";
  }
}

/** What the reader needs to know about how the rows were chosen (one sentence each). */
export function recommendationNotes(rows: readonly RecommendationRow[]): string[] {
  const notes: string[] = [];
  if (rows.some((r) => r.basis === "best-mean")) {
    notes.push(
      "No `auto` arm in these results: the arm shown is the one with the highest mean test AUROC, chosen on the test set itself, so its AUROC is optimistic. Run the `auto` scenario for an honest pick.",
    );
  }
  if (rows.some((r) => r.basis === "auto")) {
    notes.push(
      "auto: nested cross-validation on the target's training data picks one candidate per seed; its test AUROC is an honest estimate of what the pick delivers.",
    );
  }
  notes.push(
    "Δ: recommended minus the best local model (best of the local CNN and logistic cells per seed, chosen on the test set, which favours local), paired on the same test encounters, 95% CI. Break-even n: the smallest target training size at which that interval includes 0.",
  );
  return notes;
}

/** Plain text for the terminal (what the demo prints first). */
export function formatRecommendation(rows: readonly RecommendationRow[]): string {
  if (rows.length === 0) return "Recommendation: no results to recommend from.\n";
  const out: string[] = [];
  const tasks = [...new Set(rows.map((r) => r.task))];
  for (const task of tasks) {
    out.push(`Recommendation — ${task} (test AUROC [95% CI]; Δ vs the best local model [95% CI])`);
    const mine = rows.filter((r) => r.task === task);
    const directions = [...new Set(mine.map((r) => r.direction))];
    for (const dir of directions) {
      const rs = mine.filter((r) => r.direction === dir);
      out.push(`  ${dir}`);
      const cells = rs.map((r) => [
        `n=${sizeLabel(r.targetSize)}`,
        r.label,
        aurocText(r),
        `Δ ${deltaText(r)}`,
        verdictText(r),
        pickedText(r),
      ]);
      const widths = cells[0].map((_, i) => Math.max(...cells.map((c) => c[i].length)));
      for (const c of cells) {
        out.push(
          `    ${c
            .map((x, i) => x.padEnd(widths[i]))
            .join("  ")
            .trimEnd()}`,
        );
      }
      out.push(`    break-even n (local as good): ${breakEvenText(rs[0])}`);
    }
  }
  for (const n of recommendationNotes(rows)) out.push(`  ${n.replace(/`/g, "")}`);
  return `${out.join("\n")}\n`;
}

/** Markdown: one table per task. */
export function recommendationMarkdown(rows: readonly RecommendationRow[]): string[] {
  if (rows.length === 0) return ["No results to recommend from.", ""];
  const out: string[] = [];
  for (const task of [...new Set(rows.map((r) => r.task))]) {
    out.push(
      `| Direction | Target n | Recommended | AUROC [95% CI] | Δ vs best local [95% CI] | Verdict | Break-even n |`,
      "| --- | --- | --- | --- | --- | --- | --- |",
    );
    for (const r of rows.filter((x) => x.task === task)) {
      const picked = pickedText(r);
      out.push(
        `| ${md(r.direction)} | ${sizeLabel(r.targetSize)} | ${md(r.label)}${picked ? ` (${md(picked)})` : ""} | ${md(aurocText(r))} | ${md(deltaText(r))} | ${verdictText(r)} | ${breakEvenText(r)} |`,
      );
    }
    out.push("");
  }
  out.push(...recommendationNotes(rows).map((n) => `- ${n}`), "");
  return out;
}

/** JSON rows with numbers rounded to what each row may publish. */
export function recommendationJson(rows: readonly RecommendationRow[]): unknown[] {
  return rows.map((r) => {
    const d = r.decimals;
    const f = (x: number | null) =>
      x === null || !Number.isFinite(x) || d <= 0 ? null : Math.round(x * 10 ** d) / 10 ** d;
    return {
      task: r.task,
      source: r.source,
      target: r.target,
      targetSize: r.targetSize,
      basis: r.basis,
      recommended: r.arm,
      label: r.label,
      winners: r.winners,
      candidateScores: Object.fromEntries(Object.entries(r.candidateScores).map(([k, v]) => [k, f(v)])),
      auroc: f(r.auroc),
      aurocCI: r.ci ? [f(r.ci[0]), f(r.ci[1])] : null,
      seeds: r.seeds,
      bestLocal: r.bestLocal ? { label: r.bestLocal.label, auroc: f(r.bestLocal.auroc) } : null,
      deltaVsBestLocal: r.delta
        ? {
            diff: f(r.delta.diff),
            ci: [f(r.delta.ci[0]), f(r.delta.ci[1])],
            method: r.delta.method,
            seeds: r.delta.seeds,
          }
        : null,
      deltaNote: r.deltaNote,
      verdict: r.smallSample ? "too few events to rank" : r.verdict,
      breakEven: r.breakEven,
      smallSample: r.smallSample,
    };
  });
}

function md(s: string): string {
  return s.replace(/\|/g, "\\|");
}
