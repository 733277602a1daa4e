import { directionGroups } from "./charts.js";
import type { ReportContext } from "./context.js";
import { legendLines, type TableView } from "./tables.js";

/** The report as Markdown: the tables, links to the PNG figures, data summary and provenance. */
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
  return out.join("\n");
}

function tableMarkdown(t: TableView): string[] {
  const lines = [`### ${t.heading}`, "", `${t.subheading}`, ""];
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
