import { basename } from "node:path";
import { stringify } from "yaml";
import { codeVersionString } from "../util/version.js";
import { type Aggregation, aggregate } from "./aggregate.js";
import { chartSpecs, type RenderedChart, renderCharts } from "./charts.js";
import type { ResultsStore } from "./load.js";
import { type EmbeddingProvenance, redactSecrets } from "./provenance.js";
import type { ReportSettings } from "./settings.js";
import { type SitesView, sitesView } from "./sites.js";
import { type TableView, tableView } from "./tables.js";

/** Everything the writers (HTML, Markdown, CSV, JSON) need; no row-level data in it. */
export interface ReportContext {
  settings: ReportSettings;
  /** Aggregated numbers. Its `predictions` map is for chart building only and no writer reads it. */
  agg: Aggregation;
  tables: TableView[];
  charts: RenderedChart[];
  sites: SitesView | null;
  provenance: ProvenanceView;
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
  return {
    settings,
    agg,
    tables: agg.tables.map((t) => tableView(t, settings)),
    charts,
    sites: p.sites && p.sites.length > 0 ? sitesView(p.sites, settings.smallCellThreshold) : null,
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
