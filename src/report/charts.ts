import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import {
  type Aggregation,
  type ArmKey,
  compareSizes,
  type ReportTable,
  rowLabel,
  sizeLabel,
  slug,
} from "./aggregate.js";
import {
  type CalibrationPoint,
  calibrationCurves,
  learningCurve,
  type NetBenefitPoint,
  netBenefitCurves,
  rocCurves,
  round,
} from "./curves.js";
import type { ReportSettings } from "./settings.js";

/**
 * The report's figures as vega-lite specs, rendered to SVG by vega (headless, no browser) and to
 * PNG by resvg. One set of figures per task and transfer direction: AUROC bars with CIs (faceted by
 * target size), ROC curves, the learning curve (AUROC vs target training size), binned calibration
 * curves with their intervals before/after recalibration, and net-benefit (decision) curves.
 */

export type ChartKind = "bars" | "roc" | "learning" | "calibration" | "net-benefit";

export interface ChartSpec {
  /** File-name-safe id, unique in the report. */
  id: string;
  kind: ChartKind;
  /** Task and direction the chart belongs to. */
  group: string;
  title: string;
  /** One or two sentences under the figure saying what it shows and how it was computed. */
  caption: string;
  spec: TopLevelSpec;
}

export interface RenderedChart extends ChartSpec {
  svg: string;
}

/** Fonts: the first one installed is used (DejaVu on Debian, where resvg renders the PNGs). */
export const CHART_FONT = "Helvetica Neue, Helvetica, Arial, DejaVu Sans, sans-serif";

const CONFIG = {
  font: CHART_FONT,
  background: "white",
  view: { stroke: "#d0d4da" },
  axis: {
    labelFontSize: 11,
    titleFontSize: 12,
    titleFontWeight: 600,
    gridColor: "#eceef1",
    domainColor: "#8a919c",
  },
  header: { labelFontSize: 12, titleFontSize: 12, labelFontWeight: 600, titleFontWeight: 400 },
  legend: { labelFontSize: 11, titleFontSize: 12, orient: "bottom", direction: "horizontal", columns: 4 },
  title: { fontSize: 14, fontWeight: 600, anchor: "start", offset: 12 },
  range: { category: { scheme: "tableau10" } },
} as const;

/** Groups of tables by task and direction (source -> target), sizes ascending within each. */
export function directionGroups(tables: readonly ReportTable[]): { label: string; tables: ReportTable[] }[] {
  const groups = new Map<string, ReportTable[]>();
  for (const t of tables) {
    const label = `${t.key.task}: ${t.direction}`;
    groups.set(label, [...(groups.get(label) ?? []), t]);
  }
  return [...groups.entries()].map(([label, ts]) => ({
    label,
    tables: ts.sort((a, b) => compareSizes(a.key.targetSize, b.key.targetSize)),
  }));
}

export function chartSpecs(agg: Aggregation, settings: ReportSettings): ChartSpec[] {
  const out: ChartSpec[] = [];
  for (const group of directionGroups(agg.tables)) {
    const base = slug(group.label);
    const tables = group.tables;
    const sizes = tables.map((t) => sizeLabel(t.key.targetSize));
    // Recalibration is monotone (same AUROC, same ROC), so recalibrated rows appear only in the
    // tables and the calibration plot, not as duplicate bars and lines.
    const rows = unique(
      tables.flatMap((t) => t.rows.filter((r) => r.recalibration === "none").map((r) => r.label)),
    );
    const embeddings = unique(tables.flatMap((t) => t.embeddings));
    out.push(barsChart(base, group.label, tables, sizes, rows, embeddings));
    const roc = tables.flatMap((t) => rocCurves(t, agg, settings));
    if (roc.length > 0) out.push(rocChart(base, group.label, roc, sizes, rows, embeddings));
    const learning = learningCurve(tables);
    if (new Set(learning.map((p) => p.size)).size >= 2) {
      out.push(learningChart(base, group.label, learning, rows, embeddings));
    }
    // Calibration and net benefit at the largest target size, one panel/line per scenario (its
    // best embedding by mean AUROC), so a 14-scenario grid stays readable.
    const calTable = tables[tables.length - 1];
    const best = bestEmbeddingPerScenario(calTable);
    const cal = calibrationCurves(calTable, agg, settings, best);
    if (cal.length > 0) {
      const hasRecal = cal.some((p) => p.recalibration !== "none");
      const panels = unique(cal.map((p) => `${p.scenario} · ${p.embedding}`));
      out.push(
        calibrationChart(
          base,
          group.label,
          cal,
          panels,
          sizeLabel(calTable.key.targetSize),
          hasRecal,
          settings,
        ),
      );
    }
    const nb = netBenefitCurves(calTable, agg, settings, best);
    if (nb.length > 0) {
      out.push(netBenefitChart(base, group.label, nb, sizeLabel(calTable.key.targetSize), settings));
    }
  }
  return out;
}

function barsChart(
  base: string,
  group: string,
  tables: ReportTable[],
  sizes: string[],
  rows: string[],
  embeddings: string[],
): ChartSpec {
  const values = tables.flatMap((t) =>
    t.arms
      .filter((a) => a.arm.recalibration === "none")
      .map((a) => {
        return {
          size: sizeLabel(t.key.targetSize),
          row: rowLabel(a.arm),
          embedding: a.arm.embedding,
          mean: round(a.mean),
          lo: round(a.ci?.[0] ?? a.mean),
          hi: round(a.ci?.[1] ?? a.mean),
        };
      }),
  );
  const low = Math.min(0.5, ...values.map((v) => v.lo));
  const domain = [Math.floor(low * 20) / 20, 1];
  const x = {
    field: "row",
    type: "nominal",
    sort: rows,
    title: null,
    axis: rows.some((r) => r.length > 12)
      ? { labelAngle: -30, labelAlign: "right", labelLimit: 180 }
      : { labelAngle: 0, labelLimit: 140 },
  };
  const xOffset = { field: "embedding", sort: embeddings };
  return {
    id: `${base}-auroc-bars`,
    kind: "bars",
    group,
    title: `AUROC with 95% CI — ${group}`,
    caption:
      "Bars rise from 0.5 (chance). Whiskers: 95% DeLong CI (mean of per-seed bounds when there are several seeds). One panel per target training size. Recalibrated arms are not repeated here: recalibration does not change AUROC.",
    spec: {
      $schema: "https://vega.github.io/schema/vega-lite/v5.json",
      title: `AUROC with 95% CI — ${group}`,
      data: { values },
      facet: { field: "size", type: "ordinal", sort: sizes, title: "Target training size" },
      columns: 3,
      // Each size panel shows only the scenarios run at that size (source-only runs at "all").
      resolve: { scale: { x: "independent", xOffset: "independent" } },
      spec: {
        width: 260,
        height: 220,
        layer: [
          {
            mark: { type: "bar", clip: true },
            encoding: {
              x,
              xOffset,
              y: { field: "mean", type: "quantitative", title: "AUROC", scale: { domain, zero: false } },
              y2: { datum: 0.5 },
              color: { field: "embedding", type: "nominal", sort: embeddings, title: "Embedding" },
              tooltip: [
                { field: "row", title: "Scenario" },
                { field: "embedding", title: "Embedding" },
                { field: "mean", title: "AUROC" },
              ],
            },
          },
          {
            mark: { type: "rule", color: "#1f2933", strokeWidth: 1.2 },
            encoding: { x, xOffset, y: { field: "lo", type: "quantitative" }, y2: { field: "hi" } },
          },
        ],
      },
      config: CONFIG,
    } as TopLevelSpec,
  };
}

function rocChart(
  base: string,
  group: string,
  values: object[],
  sizes: string[],
  rows: string[],
  embeddings: string[],
): ChartSpec {
  return {
    id: `${base}-roc`,
    kind: "roc",
    group,
    title: `ROC curves — ${group}`,
    caption:
      "True-positive rate averaged over seeds at each false-positive rate (vertical averaging on a fixed grid). Colour: embedding; line style: scenario. Grey diagonal: chance.",
    spec: {
      $schema: "https://vega.github.io/schema/vega-lite/v5.json",
      title: `ROC curves — ${group}`,
      data: { values },
      facet: { field: "size", type: "ordinal", sort: sizes, title: "Target training size" },
      columns: 3,
      spec: {
        width: 220,
        height: 220,
        layer: [
          {
            mark: { type: "rule", color: "#b8bec7", strokeDash: [4, 4] },
            encoding: { x: { datum: 0 }, y: { datum: 0 }, x2: { datum: 1 }, y2: { datum: 1 } },
          },
          {
            mark: { type: "line", strokeWidth: 1.6, interpolate: "linear" },
            encoding: {
              x: {
                field: "fpr",
                type: "quantitative",
                title: "False-positive rate",
                scale: { domain: [0, 1] },
              },
              y: {
                field: "tpr",
                type: "quantitative",
                title: "True-positive rate",
                scale: { domain: [0, 1] },
              },
              color: { field: "embedding", type: "nominal", sort: embeddings, title: "Embedding" },
              strokeDash: { field: "row", type: "nominal", sort: rows, title: "Scenario" },
              detail: { field: "arm" },
              order: { field: "fpr" },
            },
          },
        ],
      },
      config: CONFIG,
    } as TopLevelSpec,
  };
}

function learningChart(
  base: string,
  group: string,
  values: object[],
  rows: string[],
  embeddings: string[],
): ChartSpec {
  // Scenarios get their own palette: the embedding colours (bars, ROC) must not be read as scenarios.
  const color = { field: "row", type: "nominal", sort: rows, title: "Scenario", scale: { scheme: "dark2" } };
  const x = {
    field: "size",
    type: "quantitative",
    title: "Target training encounters (log scale)",
    scale: { type: "log" },
    axis: { tickCount: 5, format: "~s" },
  };
  return {
    id: `${base}-learning-curve`,
    kind: "learning",
    group,
    title: `AUROC vs target training size — ${group}`,
    caption:
      "How much local data is needed: mean AUROC over seeds (line) with a mean ± sd band, against the number of target-site training encounters. One panel per embedding.",
    spec: {
      $schema: "https://vega.github.io/schema/vega-lite/v5.json",
      title: `AUROC vs target training size — ${group}`,
      data: { values },
      facet: { field: "embedding", type: "nominal", sort: embeddings, title: "Embedding" },
      columns: 3,
      spec: {
        width: 240,
        height: 200,
        layer: [
          // The line layer first: the shared legend takes its symbols from it (not the faint band).
          {
            mark: { type: "line", point: true, strokeWidth: 1.8 },
            encoding: {
              x,
              y: { field: "mean", type: "quantitative", title: "AUROC", scale: { zero: false } },
              color,
            },
          },
          {
            mark: { type: "area", opacity: 0.15 },
            encoding: { x, y: { field: "lo", type: "quantitative" }, y2: { field: "hi" }, color },
          },
        ],
      },
      config: CONFIG,
    } as TopLevelSpec,
  };
}

/** Per scenario and model, its embedding with the highest mean AUROC (no recalibration). */
function bestEmbeddingPerScenario(t: ReportTable): ArmKey[] {
  const best = new Map<string, { arm: ArmKey; mean: number }>();
  for (const a of t.arms) {
    if (a.arm.recalibration !== "none" || !Number.isFinite(a.mean)) continue;
    const k = `${a.arm.scenario}|${a.arm.model}`;
    const cur = best.get(k);
    if (!cur || a.mean > cur.mean) best.set(k, { arm: a.arm, mean: a.mean });
  }
  return [...best.values()].map((b) => b.arm);
}

function calibrationChart(
  base: string,
  group: string,
  values: CalibrationPoint[],
  panelOrder: string[],
  size: string,
  hasRecal: boolean,
  settings: ReportSettings,
): ChartSpec {
  const panels = values.map((v) => ({ ...v, panel: `${v.scenario} · ${v.embedding}` }));
  const title = `Calibration${hasRecal ? " before/after recalibration" : ""} — ${group} (target size ${size})`;
  const x = {
    field: "meanPredicted",
    type: "quantitative",
    title: "Mean predicted probability",
    scale: { domain: [0, 1] },
  };
  const color = {
    field: "recalibration",
    type: "nominal",
    sort: ["none", "intercept", "logistic"],
    title: "Recalibration",
  };
  return {
    id: `${base}-calibration`,
    kind: "calibration",
    group,
    title,
    caption: `Observed event rate (points, with Wilson 95% intervals) against mean predicted probability, predictions pooled over seeds, in ${settings.calibrationBins} equal-width bins merged until each holds at least ${settings.smallCellThreshold} events and ${settings.smallCellThreshold} non-events per seed (no bin counts are shown: a rate beside its count gives the count back). One panel per scenario, with its best embedding. On the diagonal = well calibrated.${hasRecal ? ' Colour: recalibration ("none" = as trained or transferred).' : ""}`,
    spec: {
      $schema: "https://vega.github.io/schema/vega-lite/v5.json",
      title,
      data: { values: panels },
      facet: { field: "panel", type: "nominal", sort: panelOrder, title: null },
      columns: 4,
      spec: {
        width: 170,
        height: 170,
        layer: [
          {
            mark: { type: "rule", color: "#b8bec7", strokeDash: [4, 4] },
            encoding: { x: { datum: 0 }, y: { datum: 0 }, x2: { datum: 1 }, y2: { datum: 1 } },
          },
          {
            mark: { type: "line", point: true, strokeWidth: 1.6 },
            encoding: {
              x,
              y: {
                field: "observed",
                type: "quantitative",
                title: "Observed rate",
                scale: { domain: [0, 1] },
              },
              color,
              order: { field: "meanPredicted" },
            },
          },
          {
            mark: { type: "rule", strokeWidth: 1.1, opacity: 0.7 },
            encoding: { x, y: { field: "lo", type: "quantitative" }, y2: { field: "hi" }, color },
          },
        ],
      },
      config: CONFIG,
    } as TopLevelSpec,
  };
}

function netBenefitChart(
  base: string,
  group: string,
  values: NetBenefitPoint[],
  size: string,
  settings: ReportSettings,
): ChartSpec {
  const curves = unique(values.map((v) => v.curve));
  const arms = curves.filter((c) => c !== "treat all" && c !== "treat none");
  const order = [...arms, "treat all", "treat none"];
  const top = Math.max(0.05, ...values.map((v) => v.netBenefit));
  const floor = -Math.max(0.02, top * 0.25);
  const title = `Net benefit — ${group} (target size ${size})`;
  return {
    id: `${base}-net-benefit`,
    kind: "net-benefit",
    group,
    title,
    caption: `Decision curves: net benefit = TP/n − FP/n × t/(1 − t) of treating everyone whose predicted risk is at least the threshold t, mean over seeds, beside treating all and treating none. A model helps at thresholds where its curve lies above both. Drawn only at thresholds where every cell of the 2 × 2 table has at least ${settings.smallCellThreshold} people; one line per scenario (its best embedding), as trained or transferred (no recalibration).`,
    spec: {
      $schema: "https://vega.github.io/schema/vega-lite/v5.json",
      title,
      data: { values },
      width: 460,
      height: 260,
      mark: { type: "line", strokeWidth: 1.6, clip: true },
      encoding: {
        x: {
          field: "threshold",
          type: "quantitative",
          title: "Threshold probability",
          axis: { format: "%" },
        },
        y: {
          field: "netBenefit",
          type: "quantitative",
          title: "Net benefit",
          scale: { domain: [floor, top * 1.05] },
        },
        color: {
          field: "curve",
          type: "nominal",
          sort: order,
          title: null,
          scale: {
            domain: order,
            range: [...arms.map((_, i) => PALETTE[i % PALETTE.length]), "#6b7280", "#111827"],
          },
        },
        strokeDash: {
          field: "curve",
          type: "nominal",
          sort: order,
          title: null,
          scale: { domain: order, range: [...arms.map(() => [1, 0]), [5, 3], [2, 2]] },
        },
        order: { field: "threshold" },
      },
      config: { ...CONFIG, legend: { ...CONFIG.legend, columns: 3, labelLimit: 280 } },
    } as TopLevelSpec,
  };
}

const PALETTE = [
  "#4e79a7",
  "#f28e2b",
  "#e15759",
  "#76b7b2",
  "#59a14f",
  "#edc948",
  "#b07aa1",
  "#ff9da7",
  "#9c755f",
];

/** Render a vega-lite spec to an SVG string (headless: no canvas, no DOM, no network). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export async function renderCharts(specs: readonly ChartSpec[]): Promise<RenderedChart[]> {
  const out: RenderedChart[] = [];
  for (const s of specs) out.push({ ...s, svg: await renderSvg(s.spec) });
  return out;
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}
