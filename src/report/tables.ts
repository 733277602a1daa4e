import { type ArmResult, type Mark, type ReportTable, sameRow } from "./aggregate.js";
import type { ReportSettings } from "./settings.js";
import { suppressCount } from "./suppress.js";

/**
 * The paper-style table as display-ready text, shared by the HTML and Markdown writers: rows are
 * scenarios, columns embeddings, cells "AUROC [95% CI]" with the seed sd and a mark against the
 * reference (local) arm. No cell is highlighted as "best": the marks and intervals carry the
 * comparison, so a difference inside the noise does not look like a win.
 */

export interface CellView {
  /** "0.812" */
  value: string;
  /** "[0.771–0.853]" or "" when no CI. */
  ci: string;
  /** "sd 0.014 · 3 seeds" or "1 seed". */
  spread: string;
  mark: Mark;
  /** "▲", "▼", "◇ 1/3" or "" (the reference row is labelled instead). */
  symbol: string;
  /** Longer explanation (HTML title attribute, CSV). */
  detail: string;
}

export interface TableView {
  id: string;
  heading: string;
  /** Test-set size, positives, seeds (counts suppressed below the threshold). */
  subheading: string;
  columns: { name: string; isBaseline: boolean }[];
  rows: { label: string; isReference: boolean; cells: (CellView | null)[] }[];
  notes: string[];
}

export function markSymbol(a: Pick<ArmResult, "mark" | "significantSeeds" | "testedSeeds">): string {
  switch (a.mark) {
    case "up":
      return "▲";
    case "down":
      return "▼";
    case "partial":
      return `◇ ${a.significantSeeds}/${a.testedSeeds}`;
    default:
      return "";
  }
}

export function formatAuroc(x: number, decimals: number): string {
  return Number.isFinite(x) ? x.toFixed(decimals) : "–";
}

export function cellView(a: ArmResult, settings: ReportSettings, decimals = settings.decimals): CellView {
  const d = decimals;
  if (d <= 0) {
    return {
      value: "suppressed",
      ci: "",
      spread: `${a.seeds.length} seed${a.seeds.length > 1 ? "s" : ""}`,
      mark: a.mark,
      symbol: "",
      detail: "test set too small to publish this number",
    };
  }
  const n = a.seeds.length;
  const spread = a.sd === null ? `${n} seed` : `sd ${a.sd.toFixed(d)} · ${n} seeds`;
  const detailParts: string[] = [];
  if (a.meanDiff !== null) {
    const ps = a.seeds
      .filter((s) => s.comparison)
      .map(
        (s) =>
          `seed ${s.seed}: p${settings.adjustment === "holm" ? "(Holm)" : ""}=${fmtP(s.comparison!.pAdjusted)}`,
      );
    detailParts.push(
      `Δ vs ${settings.referenceScenario} = ${signed(a.meanDiff, d)}; ${a.significantSeeds}/${a.testedSeeds} seeds significant (${ps.join(", ")})`,
    );
  }
  const notes = [...new Set(a.seeds.map((s) => s.comparisonNote).filter((x) => x !== null))];
  if (notes.length > 0) detailParts.push(`not tested: ${notes.join("; ")}`);
  if (a.isReference) detailParts.push(`reference arm (${settings.referenceScenario})`);
  return {
    value: formatAuroc(a.mean, d),
    ci: a.ci ? `[${a.ci[0].toFixed(d)}–${a.ci[1].toFixed(d)}]` : "",
    spread,
    mark: a.mark,
    symbol: markSymbol(a),
    detail: detailParts.join(". "),
  };
}

export interface TableViewOptions {
  /** Leave out the recalibrated rows (their AUROC is the arm's own; calibration shows them). */
  withoutRecalibrated?: boolean;
  /** Decimals of the numbers (default settings.decimals). */
  decimals?: number;
}

export function tableView(t: ReportTable, settings: ReportSettings, opts: TableViewOptions = {}): TableView {
  const th = settings.smallCellThreshold;
  const sub: string[] = [];
  if (t.testN) sub.push(`test set at ${t.key.target}: n = ${rangeText(t.testN, th)}`);
  if (t.testPositives && t.positiveClass)
    sub.push(`positives (${t.positiveClass}) ${rangeText(t.testPositives, th)}`);
  sub.push(`seeds: ${t.seeds.join(", ")}`);
  // Only what is particular to this table; the general legend is said once (legendLines).
  const notes: string[] = [];
  if (!t.arms.some((a) => a.isReference)) {
    notes.push(`No ${settings.referenceScenario} arm in this table, so no arm is tested against it.`);
  }
  if (!t.binary) {
    notes.push(
      settings.compatibility === "current"
        ? "Multi-class task: macro one-vs-rest AUROC; arms are tested with a paired stratified bootstrap over test encounters."
        : "Multi-class task: macro one-vs-rest AUROC; paired tests are done for binary tasks only.",
    );
  }
  if (t.smallSample) {
    notes.push(
      `Too few events in this test set to rank arms (fewer than ${settings.minTestEvents} in a class): no arm is marked.`,
    );
  }
  return {
    id: t.id,
    heading: `${t.key.task}: ${t.direction}, target training size ${t.key.targetSize}`,
    subheading: sub.join(" · "),
    columns: t.embeddings.map((name) => ({ name, isBaseline: name === settings.baselineEmbedding })),
    rows: t.rows
      .filter((r) => !opts.withoutRecalibrated || r.recalibration === "none")
      .map((r) => ({
        label: r.label,
        isReference: r.isReference,
        cells: t.embeddings.map((e) => {
          const a = t.arms.find((x) => sameRow(x.arm, r) && x.arm.embedding === e);
          return a ? cellView(a, settings, opts.decimals) : null;
        }),
      })),
    notes,
  };
}

function rangeText([lo, hi]: [number, number], threshold: number): string {
  const a = suppressCount(lo, threshold);
  return lo === hi ? a : `${a}–${suppressCount(hi, threshold)}`;
}

export function fmtP(p: number): string {
  return p < 0.001 ? "<0.001" : p.toFixed(3);
}

function signed(x: number, d: number): string {
  return `${x >= 0 ? "+" : "−"}${Math.abs(x).toFixed(d)}`;
}

/**
 * The table legend, said once per report (HTML and Markdown): what a cell holds, what the marks
 * mean and which rows/columns are baselines. Plain text; `hasLogistic` adds the logistic row note.
 */
export function legendLines(
  settings: ReportSettings,
  opts: { hasLogistic: boolean; hasBaseline: boolean },
): string[] {
  const s = settings;
  const adj =
    s.adjustment === "holm"
      ? "Holm-adjusted over the table's arms per seed (recalibrated arms are a family of their own)"
      : "unadjusted";
  const lines = [
    "Cell: AUROC [95% CI] on the target's test set. Several seeds: mean AUROC, mean of the per-seed DeLong bounds, and the sd across seeds.",
    `${s.referenceScenario} (ref): trained on the target site alone, the number transfer has to beat. ▲/▼: significantly higher/lower than ${s.referenceScenario} with the same embedding (else ${s.baselineEmbedding}): paired DeLong on the same test set, ${adj}, p < ${s.alpha}, in every seed. ◇ k/n: in only k of n seeds. No mark: not distinguishable from ${s.referenceScenario}.`,
  ];
  if (opts.hasBaseline) {
    lines.push(
      `${s.baselineEmbedding} (baseline column): codes match only when identical, no language model.`,
    );
  }
  if (opts.hasLogistic) {
    lines.push(
      "(logistic) rows: logistic regression on the encounter's mean token embedding, the simple baseline the concept CNN has to beat.",
    );
  }
  return lines;
}
