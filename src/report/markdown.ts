import {
  CALIBRATION_COLUMNS,
  type CalibrationTable,
  formatFigure,
  recalibrationName,
} from "./calibration-view.js";
import { directionGroups } from "./charts.js";
import type { ReportContext } from "./context.js";
import { recommendationMarkdown } from "./recommendation.js";
import { legendLines, type TableView } from "./tables.js";
import type { ReportWarning } from "./warnings.js";

/**
 * The report as Markdown (report.md): the first screen (task, metric, sites; the spec's
 * description; the recommendation; the warnings), then the detail tables (one AUROC row per arm,
 * calibration with and without recalibration), figures, data summary and provenance.
 */
export function renderReportMarkdown(ctx: ReportContext): string {
  const { settings: s, provenance: p, headline: h } = ctx;
  const out: string[] = [];
  out.push(`# ${s.title}`, "");
  out.push(
    `Generated ${p.generatedAt} from \`${p.resultsFile}\` (${p.cells.ok} result cells, ${p.cells.failed} failed); seeds ${p.seeds.join(", ")}.`,
    "",
  );
  out.push(
    `**Task** ${h.tasks.join("; ")} · **Metric** ${h.metric} · **Sites** ${h.sites.join(", ")} · **Target training sizes** ${h.sizes.join(", ")} · **Seeds** ${h.seeds}`,
    "",
  );
  if (h.description) out.push(`> ${h.description.replace(/\r?\n/g, " ")}`, "");
  out.push("## Recommendation", "", ...recommendationMarkdown(ctx.recommendation));
  out.push("## Warnings", "", ...warningsMarkdown(ctx.warnings));
  out.push("## Results in detail", "", "**How to read this**", "");
  out.push(...ctx.legend.map((l) => `- ${l}`), "");
  const byId = new Map(ctx.detailTables.map((t) => [t.id, t]));
  const calById = new Map(ctx.calibration.map((c) => [c.tableId, c]));
  for (const g of directionGroups(ctx.agg.tables)) {
    out.push(`### ${g.label}`, "");
    for (const t of g.tables) {
      out.push(...tableMarkdown(byId.get(t.id)!, "####"), "");
      const cal = calById.get(t.id);
      if (cal) out.push(...calibrationMarkdown(cal), "");
    }
    for (const c of ctx.charts.filter((c) => c.group === g.label)) {
      out.push(`![${c.title}](figures/${c.id}.png)`, "", `*${c.caption}*`, "");
    }
  }
  out.push(...tailMarkdown(ctx));
  return out.join("\n");
}

function warningsMarkdown(ws: readonly ReportWarning[]): string[] {
  if (ws.length === 0) return ["None: every check passed.", ""];
  const out: string[] = [];
  for (const w of ws) {
    out.push(`- **${cellText(w.title)}** ${w.detail}`);
    for (const a of w.affects) out.push(`  - ${a}`);
  }
  out.push("");
  return out;
}

function calibrationMarkdown(c: CalibrationTable): string[] {
  const cols = CALIBRATION_COLUMNS.filter((x) =>
    c.binary ? x.binary : x.key === "brier" || x.key === "ece",
  );
  if (c.rows.length === 0) return [];
  const lines = [
    `Calibration${c.hasRecalibration ? " (as trained or transferred; after recalibration)" : ""}:`,
    "",
    `| Arm | ${cols.map((x) => `${x.name} (${x.ideal})`).join(" | ")} |`,
    `| --- |${" --- |".repeat(cols.length)}`,
  ];
  for (const r of c.rows) {
    const cells = cols.map((x) =>
      r.variants
        .map((v, i) =>
          i === 0 && v.recalibration === "none"
            ? formatFigure(v.figures[x.key], c.decimals)
            : `${formatFigure(v.figures[x.key], c.decimals)} (${recalibrationName(v.recalibration)})`,
        )
        .join("; "),
    );
    lines.push(
      `| ${cellText(r.isReference ? `**${r.label}** (ref)` : r.label)} | ${cells.map(cellText).join(" | ")} |`,
    );
  }
  return lines;
}

/**
 * The tables document the reproduction (scripts/reproduce) builds its sections from: tables, links
 * to the PNG figures, data summary and provenance, with the legend of reproduction-v1. Its output
 * is part of committed documents and must not change; the report itself is renderReportMarkdown.
 */
export function renderMarkdown(ctx: ReportContext): string {
  const { settings: s, provenance: p } = ctx;
  const out: string[] = [];
  out.push(`# ${s.title}`, "");
  out.push(
    `Generated ${p.generatedAt} from \`${p.resultsFile}\` (${p.cells.ok} result cells, ${p.cells.failed} failed); seeds ${p.seeds.join(", ")}.`,
    "",
  );
  out.push("**How to read this**", "");
  const lines = legendLines(s, {
    hasLogistic: ctx.agg.tables.some((t) => t.rows.some((r) => r.model === "logistic")),
    hasBaseline: ctx.agg.tables.some((t) => t.embeddings.includes(s.baselineEmbedding)),
  });
  lines.push(`Counts of people below ${s.smallCellThreshold} are shown as "<${s.smallCellThreshold}".`);
  out.push(...lines.map((l) => `- ${l}`), "");
  const byId = new Map(ctx.tables.map((t) => [t.id, t]));
  for (const g of directionGroups(ctx.agg.tables)) {
    out.push(`## ${g.label}`, "");
    for (const t of g.tables) out.push(...tableMarkdown(byId.get(t.id)!), "");
    for (const c of ctx.charts.filter((c) => c.group === g.label)) {
      out.push(`![${c.title}](figures/${c.id}.png)`, "", `*${c.caption}*`, "");
    }
  }
  out.push(...tailMarkdown(ctx));
  return out.join("\n");
}

/** Data summary, failed cells and provenance (the same in both documents). */
function tailMarkdown(ctx: ReportContext): string[] {
  const p = ctx.provenance;
  const out: string[] = [];
  if (ctx.sites) {
    const v = ctx.sites;
    out.push("## Data", "");
    out.push(
      `| Site | Encounters | Training pool | Test set | ${v.classes.map((c) => `${cellText(c)} | `).join("")}Vocabulary |`,
    );
    out.push(`|${" --- |".repeat(5 + v.classes.length)}`);
    for (const r of v.rows) {
      out.push(
        `| ${[r.name, r.encounters, r.pool, r.test, ...r.classCounts, r.vocabularySize].map(cellText).join(" | ")} |`,
      );
    }
    out.push("");
  }
  if (ctx.agg.failures.length > 0) {
    out.push("## Failed cells", "");
    for (const f of ctx.agg.failures) {
      out.push(
        `- ${f.task}, ${f.source ?? "—"} → ${f.target}, size ${f.targetSize}, ${f.scenario}${f.model === "logistic" ? " (logistic)" : ""} · ${f.embedding}, seed ${f.seed}: ${f.reason}`,
      );
    }
    out.push("");
  }
  out.push("## Provenance", "");
  out.push(`- Code version (results): \`${p.codeVersions.join(", ")}\``);
  out.push(`- Code version (report): \`${p.reportCodeVersion}\``);
  out.push(`- Seeds: ${p.seeds.join(", ")}`);
  for (const e of p.embeddings) out.push(`- Embedding \`${e.name}\`: \`${e.id}\``);
  if (p.specYaml) out.push("", "### Experiment spec", "", "```yaml", p.specYaml.trimEnd(), "```");
  out.push("");
  return out;
}

function tableMarkdown(t: TableView, level = "###"): string[] {
  const lines = [`${level} ${t.heading}`, "", `${t.subheading}`, ""];
  lines.push(
    `| Scenario | ${t.columns.map((c) => cellText(c.isBaseline ? `${c.name} (baseline)` : c.name)).join(" | ")} |`,
  );
  lines.push(`| --- |${" --- |".repeat(t.columns.length)}`);
  for (const r of t.rows) {
    const cells = r.cells.map((c) =>
      c ? cellText([`${c.value} ${c.ci}`.trim(), c.symbol, `(${c.spread})`].filter((x) => x).join(" ")) : "—",
    );
    lines.push(`| ${cellText(r.isReference ? `**${r.label}** (ref)` : r.label)} | ${cells.join(" | ")} |`);
  }
  if (t.notes.length > 0) lines.push("", ...t.notes.map((n) => `- ${n}`));
  return lines;
}

function cellText(s: string): string {
  return s.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}
