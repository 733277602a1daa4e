import type { ArmResult, Mark, ReportTable } from "./aggregate.js";
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
  /** "▲", "▼", "◇ 1/3", "ref" or "". */
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
    case "ref":
      return "ref";
    default:
      return "";
  }
}

export function formatAuroc(x: number, decimals: number): string {
  return Number.isFinite(x) ? x.toFixed(decimals) : "–";
}

export function cellView(a: ArmResult, settings: ReportSettings): CellView {
  const d = settings.decimals;
  const n = a.seeds.length;
  const spread = a.sd === null ? `${n} seed` : `sd ${a.sd.toFixed(d)} · ${n} seeds`;
  const detailParts: string[] = [];
  if (a.meanDiff !== null) {
    const ps = a.seeds
      .filter((s) => s.comparison)
      .map((s) => `seed ${s.seed}: p${settings.adjustment === "holm" ? "(Holm)" : ""}=${fmtP(s.comparison!.pAdjusted)}`);
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

export function tableView(t: ReportTable, settings: ReportSettings): TableView {
  const th = settings.smallCellThreshold;
  const sub: string[] = [];
  if (t.testN) sub.push(`test set at ${t.key.target}: n = ${rangeText(t.testN, th)}`);
  if (t.testPositives && t.positiveClass) sub.push(`positives (${t.positiveClass}) ${rangeText(t.testPositives, th)}`);
  sub.push(`seeds: ${t.seeds.join(", ")}`);
  const notes: string[] = [];
  const hasRef = t.arms.some((a) => a.isReference);
  if (hasRef) {
    notes.push(
      `▲/▼: AUROC significantly higher/lower than ${settings.referenceScenario} (same embedding, else ${settings.baselineEmbedding}) by a paired DeLong test on the same test set, ${settings.adjustment === "holm" ? "Holm-adjusted across this table's arms" : "unadjusted"}, p < ${settings.alpha}, in every seed; ◇ k/n: significant in only k of n seeds.`,
    );
  } else {
    notes.push(`No ${settings.referenceScenario} arm in this table, so no arm is tested against it.`);
  }
  if (t.embeddings.includes(settings.baselineEmbedding)) {
    notes.push(
      `${settings.baselineEmbedding} is the baseline column: tokens match only by identical code, no language model.`,
    );
  }
  if (!t.binary) notes.push("Multi-class task: macro one-vs-rest AUROC; paired tests are done for binary tasks only.");
  return {
    id: t.id,
    heading: `${t.key.task}: ${t.direction}, target training size ${t.key.targetSize}`,
    subheading: sub.join(" · "),
    columns: t.embeddings.map((name) => ({ name, isBaseline: name === settings.baselineEmbedding })),
    rows: t.rows.map((r) => ({
      label: r.label,
      isReference: r.isReference,
      cells: t.embeddings.map((e) => {
        const a = t.arms.find(
          (x) => x.arm.scenario === r.scenario && x.arm.recalibration === r.recalibration && x.arm.embedding === e,
        );
        return a ? cellView(a, settings) : null;
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
