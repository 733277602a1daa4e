import { basename } from "node:path";
import { stringify } from "yaml";
import { codeVersionString } from "../util/version.js";
import { type Aggregation, aggregate, sizeLabel } from "./aggregate.js";
import { type CalibrationTable, calibrationTables } from "./calibration-view.js";
import { chartSpecs, type RenderedChart, renderCharts } from "./charts.js";
import { reportLegend } from "./legend.js";
import type { ResultsStore } from "./load.js";
import { type EmbeddingProvenance, type Provenance, redactSecrets } from "./provenance.js";
import { type RecommendationRow, recommend } from "./recommendation.js";
import type { ReportSettings } from "./settings.js";
import { type SitesView, sitesView } from "./sites.js";
import { publishedDecimals } from "./suppress.js";
import { type TableView, tableView } from "./tables.js";
import { collectWarnings, type ReportWarning } from "./warnings.js";

/** Everything the writers (HTML, Markdown, CSV, JSON) need; no row-level data in it. */
export interface ReportContext {
  settings: ReportSettings;
  /** Aggregated numbers. Its `predictions` map is for chart building only and no writer reads it. */
  agg: Aggregation;
  tables: TableView[];
  charts: RenderedChart[];
  sites: SitesView | null;
  provenance: ProvenanceView;
  /** The first screen: what was asked, of which data. */
  headline: Headline;
  /** Per task, direction and target size: what to deploy (recommendation.ts). */
  recommendation: RecommendationRow[];
  /** Where the data cannot carry a claim (warnings.ts). */
  warnings: ReportWarning[];
  /** "How to read this", from what was computed (legend.ts). */
  legend: string[];
  /** The AUROC tables of the report itself: one row per arm, recalibrated rows left out. */
  detailTables: TableView[];
  /** Calibration per arm with and without recalibration, by table id. */
  calibration: CalibrationTable[];
}

export interface Headline {
  /** Task names with their kind and classes, e.g. "influenza-vs-rest (binary: influenza vs other)". */
  tasks: string[];
  metric: string;
  /** "A (training pool 700, test 300)". */
  sites: string[];
  sizes: string[];
  seeds: number;
  /** The spec's description, when the store has one. */
  description: string | null;
}

export interface ProvenanceView {
  generatedAt: string;
  reportCodeVersion: string;
  resultsFile: string;
  /** Code versions that produced the cells (several when a store was resumed across versions). */
  codeVersions: string[];
  seeds: number[];
  embeddings: EmbeddingProvenance[];
  cells: { total: number; ok: number; failed: number };
  createdAt: string | null;
  /** Node.js version the experiment ran on. */
  node: string | null;
  specFile: string | null;
  /** The spec as YAML, secrets redacted; null when the store has none. */
  specYaml: string | null;
}

export async function buildContext(
  store: ResultsStore,
  settings: ReportSettings,
  now: Date = new Date(),
): Promise<ReportContext> {
  const agg = aggregate(store.cells, settings);
  const charts = await renderCharts(chartSpecs(agg, settings));
  const p = store.provenance;
  const embeddingNames = [...new Set(store.cells.map((c) => c.key.embedding))];
  const sites =
    p.sites && p.sites.length > 0
      ? sitesView(p.sites, settings.smallCellThreshold, settings.compatibility)
      : null;
  return {
    settings,
    agg,
    tables: agg.tables.map((t) => tableView(t, settings)),
    charts,
    sites,
    headline: headline(agg, p, sites),
    recommendation: recommend(agg, settings),
    warnings: collectWarnings(agg, p, settings),
    legend: reportLegend(agg, settings),
    detailTables: agg.tables.map((t) =>
      tableView(t, settings, {
        withoutRecalibrated: true,
        decimals: publishedDecimals(t, settings.smallCellThreshold, settings.decimals),
      }),
    ),
    calibration: calibrationTables(agg, settings),
    provenance: {
      generatedAt: now.toISOString(),
      reportCodeVersion: codeVersionString(),
      resultsFile: basename(store.file),
      codeVersions: p.codeVersion ? [p.codeVersion] : [...new Set(store.cells.map((c) => c.codeVersion))],
      seeds: p.seeds ?? [...new Set(store.cells.map((c) => c.key.seed))].sort((a, b) => a - b),
      embeddings: embeddingNames.map((name) => ({
        name,
        id: p.embeddingProviders?.[name] ?? "(not recorded)",
      })),
      cells: {
        total: store.cells.length,
        ok: store.cells.length - agg.failures.length,
        failed: agg.failures.length,
      },
      createdAt: p.writtenAt ?? null,
      node: p.node ?? null,
      specFile: p.specFile ?? null,
      specYaml: p.spec === undefined ? null : stringify(redactSecrets(p.spec)),
    },
  };
}

function headline(agg: Aggregation, p: Provenance, sites: SitesView | null): Headline {
  const tasks = [...new Set(agg.tables.map((t) => t.key.task))].map((task) => {
    const ts = agg.tables.filter((t) => t.key.task === task);
    const t = ts[0];
    const classes = t.classes.length > 0 ? t.classes : (p.classes ?? []);
    if (t.binary) {
      const pos = t.positiveClass ?? classes[1];
      const neg = classes.find((c) => c !== pos);
      return `${task} (binary${pos ? `: ${pos}${neg ? ` vs ${neg}` : ""}` : ""})`;
    }
    return `${task} (${classes.length}-class: ${classes.join(", ")})`;
  });
  const binary = agg.tables.some((t) => t.binary);
  const multi = agg.tables.some((t) => !t.binary);
  const metric = `${binary ? "AUROC" : ""}${binary && multi ? " / " : ""}${multi ? "macro one-vs-rest AUROC" : ""} on each target's held-out test set, 95% CI`;
  const siteLines = sites
    ? sites.rows.map((r) => `${r.name} (training pool ${r.pool}, test ${r.test})`)
    : [...new Set(agg.tables.map((t) => t.key.target))].map((s) => `${s} (target)`);
  const sizes: string[] = [];
  for (const t of agg.tables)
    if (!sizes.includes(sizeLabel(t.key.targetSize))) sizes.push(sizeLabel(t.key.targetSize));
  const spec = p.spec as { description?: unknown } | undefined;
  return {
    tasks,
    metric,
    sites: siteLines,
    sizes,
    seeds: Math.max(0, ...agg.tables.map((t) => t.seeds.length)),
    description:
      typeof spec?.description === "string" && spec.description.trim() !== ""
        ? spec.description.trim()
        : null,
  };
}
