import { type FailedCell, sizeLabel } from "./aggregate.js";
import {
  CALIBRATION_COLUMNS,
  type CalibrationTable,
  formatFigure,
  recalibrationName,
} from "./calibration-view.js";
import { directionGroups, type RenderedChart } from "./charts.js";
import type { ReportContext } from "./context.js";
import {
  aurocText,
  breakEvenText,
  deltaText,
  pickedText,
  type RecommendationRow,
  recommendationNotes,
  verdictText,
} from "./recommendation.js";
import type { TableView } from "./tables.js";
import type { ReportWarning } from "./warnings.js";

/**
 * The report as ONE self-contained HTML file: inline CSS, charts as inline SVG, no scripts, no
 * fonts or images from anywhere; a Content-Security-Policy forbids every network fetch, so the file
 * opens the same on an air-gapped ward PC as on a laptop.
 */
export function renderHtml(ctx: ReportContext): string {
  const { settings, provenance: p } = ctx;
  const groups = directionGroups(ctx.agg.tables);
  const tablesById = new Map(ctx.detailTables.map((t) => [t.id, t]));
  const calById = new Map(ctx.calibration.map((c) => [c.tableId, c]));
  const body = [
    `<header><h1>${esc(settings.title)}</h1>`,
    `<p class="meta">Generated ${esc(p.generatedAt.replace("T", " ").slice(0, 16))} UTC from <code>${esc(p.resultsFile)}</code> · ${p.cells.ok} result cells${p.cells.failed > 0 ? `, <strong>${p.cells.failed} failed</strong>` : ""} · seeds ${esc(p.seeds.join(", "))}</p></header>`,
    answerHtml(ctx),
    warningsHtml(ctx.warnings),
    nav(groups.map((g) => g.label)),
    `<section id="results"><h2>Results in detail</h2>`,
    howToRead(ctx),
    ...groups.map((g, gi) =>
      [
        `<section class="group" id="group-${gi + 1}"><h3>${esc(g.label)}</h3>`,
        ...g.tables.map((t) => {
          const cal = calById.get(t.id);
          return tableHtml(tablesById.get(t.id)!) + (cal ? calibrationHtml(cal, tablesById.get(t.id)!) : "");
        }),
        `</section>`,
      ].join("\n"),
    ),
    `</section>`,
    `<section id="figures"><h2>Figures</h2>`,
    ...groups.map((g) => {
      const charts = ctx.charts.filter((c) => c.group === g.label);
      return `<section class="group"><h3>${esc(g.label)}</h3>${charts.map(figureHtml).join("\n")}</section>`;
    }),
    `</section>`,
    sitesHtml(ctx),
    failuresHtml(ctx.agg.failures),
    provenanceHtml(ctx),
  ].join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(settings.title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

function nav(groups: string[]): string {
  const items = [
    ["#answer", "Answer"],
    ["#warnings", "Warnings"],
    ["#results", "Results"],
    ...groups.map((g, i) => [`#group-${i + 1}`, g]),
    ["#figures", "Figures"],
    ["#data", "Data"],
    ["#provenance", "Provenance"],
  ];
  return `<nav aria-label="Contents"><ul>${items.map(([h, l]) => `<li><a href="${h}">${esc(l)}</a></li>`).join("")}</ul></nav>`;
}

function howToRead(ctx: ReportContext): string {
  const s = ctx.settings;
  const lines = [
    ...ctx.legend,
    `Each table is one task, one direction (source → target: the model learned at the source is evaluated at the target) and one amount of target training data. Hover a cell for its difference to ${s.referenceScenario} and the p-values.`,
  ];
  return `<aside id="how-to-read" class="note" aria-label="How to read this"><h3>How to read this</h3>
<ul>${lines.map((l) => `<li>${symbols(esc(l))}</li>`).join("")}</ul></aside>`;
}

/** Colour the marks in already-escaped text (the symbol carries the meaning; colour only helps). */
function symbols(html: string): string {
  return html
    .replace(/▲/g, '<span class="sym up">▲</span>')
    .replace(/▼/g, '<span class="sym down">▼</span>')
    .replace(/◇ k\/n/g, '<span class="sym partial">◇&nbsp;k/n</span>');
}

/** The first screen: what was asked of which data, the spec's description, and the answer. */
function answerHtml(ctx: ReportContext): string {
  const h = ctx.headline;
  const facts = [
    `<span class="fact"><b>Task</b> ${esc(h.tasks.join("; "))}</span>`,
    `<span class="fact"><b>Metric</b> ${esc(h.metric)}</span>`,
    `<span class="fact"><b>Sites</b> ${esc(h.sites.join(", "))}</span>`,
    `<span class="fact"><b>Target training sizes</b> ${esc(h.sizes.join(", "))}</span>`,
    `<span class="fact"><b>Seeds</b> ${h.seeds}</span>`,
  ];
  return `<section id="answer" aria-label="Answer">
<p class="headline">${facts.join(" ")}</p>
${h.description ? `<p class="description">${esc(h.description)}</p>` : ""}
<h2>Recommendation</h2>
${recommendationHtml(ctx.recommendation)}
</section>`;
}

function recommendationHtml(rows: readonly RecommendationRow[]): string {
  if (rows.length === 0) return "<p>No result cells to recommend from.</p>";
  const body = rows
    .map((r, i) => {
      const first = i === 0 || rows[i - 1].direction !== r.direction || rows[i - 1].task !== r.task;
      const picked = pickedText(r);
      const v = r.smallSample ? "small" : r.verdict;
      return `<tr${first ? ' class="first"' : ""}><th scope="row" class="rowhead">${first ? esc(`${r.direction}`) : ""}${first && rows.some((x) => x.task !== r.task) ? ` <span class="sub">${esc(r.task)}</span>` : ""}</th><td class="num">${esc(sizeLabel(r.targetSize))}</td><td><b>${esc(r.label)}</b>${picked ? `<span class="picked">${esc(picked)}</span>` : ""}</td><td class="num">${esc(aurocText(r))}</td><td class="num">${esc(deltaText(r))} <span class="verdict ${v}">${esc(verdictText(r))}</span></td><td class="num">${i === rows.length - 1 || rows[i + 1].direction !== r.direction ? esc(breakEvenText(r)) : ""}</td></tr>`;
    })
    .join("\n");
  return `<div class="scroll"><table class="rec"><colgroup><col style="width:12%"><col style="width:8%"><col style="width:27%"><col style="width:18%"><col style="width:23%"><col style="width:12%"></colgroup><thead><tr><th scope="col" class="rowhead">Direction</th><th scope="col">Target n</th><th scope="col">Recommended arm</th><th scope="col">AUROC [95% CI]</th><th scope="col">Δ vs best local [95% CI]</th><th scope="col">Break-even n</th></tr></thead><tbody>
${body}
</tbody></table></div>
<ul class="notes">${recommendationNotes(rows)
    .map((n) => `<li>${esc(n).replace(/`([^`]+)`/g, "<code>$1</code>")}</li>`)
    .join("")}</ul>`;
}

function warningsHtml(warnings: readonly ReportWarning[]): string {
  if (warnings.length === 0) {
    return `<section id="warnings"><h2>Warnings</h2><p class="ok">None: every check passed (test-set events, patients at two sites, embedding tables, training, vocabulary coverage).</p></section>`;
  }
  const items = warnings
    .map(
      (
        w,
      ) => `<li class="warning" data-code="${esc(w.code)}"><p class="wtitle">${esc(w.title)}</p><p class="wdetail">${esc(w.detail)}</p>
<details><summary>Affects ${w.affects.length} ${w.affects.length === 1 ? "entry" : "entries"}</summary><ul>${w.affects.map((a) => `<li>${esc(a)}</li>`).join("")}</ul></details></li>`,
    )
    .join("\n");
  return `<section id="warnings"><h2>Warnings</h2><ul class="warnings">
${items}
</ul></section>`;
}

function calibrationHtml(c: CalibrationTable, t: TableView): string {
  const cols = CALIBRATION_COLUMNS.filter((x) =>
    c.binary ? x.binary : x.key === "brier" || x.key === "ece",
  );
  if (c.rows.length === 0) return "";
  const head = `<tr><th scope="col" class="rowhead">Arm</th>${cols.map((x) => `<th scope="col">${esc(x.name)} <span class="ideal">${esc(x.ideal)}</span></th>`).join("")}</tr>`;
  const rows = c.rows
    .map((r) => {
      const cells = cols
        .map((x) => {
          const [base, ...recal] = r.variants;
          const extra = recal
            .map(
              (v) =>
                `<span class="recal">${esc(formatFigure(v.figures[x.key], c.decimals))} <span class="sub">${esc(recalibrationName(v.recalibration))}</span></span>`,
            )
            .join("");
          const first = base.recalibration === "none" ? formatFigure(base.figures[x.key], c.decimals) : "–";
          const firstExtra =
            base.recalibration === "none"
              ? ""
              : `<span class="recal">${esc(formatFigure(base.figures[x.key], c.decimals))} <span class="sub">${esc(recalibrationName(base.recalibration))}</span></span>`;
          return `<td class="num">${esc(first)}${firstExtra}${extra}</td>`;
        })
        .join("");
      return `<tr${r.isReference ? ' class="ref"' : ""}><th scope="row" class="rowhead">${esc(r.label)}</th>${cells}</tr>`;
    })
    .join("\n");
  return `<div class="table-block cal-block" id="calibration-${esc(t.id)}">
<p class="sub"><b>Calibration</b> at ${esc(t.heading.replace(/^[^:]+: /, ""))}${c.hasRecalibration ? ": first line as trained or transferred, then after each recalibration" : ""}.</p>
<div class="scroll"><table class="results cal"><thead>${head}</thead><tbody>
${rows}
</tbody></table></div></div>`;
}

function tableHtml(t: TableView): string {
  const head = `<tr><th scope="col" class="rowhead">Scenario</th>${t.columns
    .map(
      (c) =>
        `<th scope="col">${esc(c.name)}${c.isBaseline ? ' <span class="badge">baseline</span>' : ""}</th>`,
    )
    .join("")}</tr>`;
  const rows = t.rows
    .map((r) => {
      const cells = r.cells
        .map((c) => {
          if (!c) return `<td class="empty">—</td>`;
          const sym = c.symbol ? ` <span class="sym ${c.mark}">${esc(c.symbol)}</span>` : "";
          return `<td class="cell mark-${c.mark}"${c.detail ? ` title="${esc(c.detail)}"` : ""}><span class="v">${esc(c.value)}</span> <span class="ci">${esc(c.ci)}</span>${sym}<span class="sd">${esc(c.spread)}</span></td>`;
        })
        .join("");
      return `<tr${r.isReference ? ' class="ref"' : ""}><th scope="row" class="rowhead">${esc(r.label)}</th>${cells}</tr>`;
    })
    .join("\n");
  return `<div class="table-block" id="table-${esc(t.id)}">
<h4>${esc(t.heading)}</h4>
<p class="sub">${esc(t.subheading)}</p>
<div class="scroll"><table class="results"><thead>${head}</thead><tbody>
${rows}
</tbody></table></div>
${t.notes.length > 0 ? `<ul class="notes">${t.notes.map((n) => `<li>${esc(n)}</li>`).join("")}</ul>` : ""}
</div>`;
}

function figureHtml(c: RenderedChart): string {
  return `<figure class="chart" id="chart-${esc(c.id)}" data-chart-id="${esc(c.id)}" data-kind="${c.kind}">
<div class="svg-wrap">${uniqueSvgIds(c.svg, c.id)}</div>
<figcaption>${esc(c.caption)} <span class="files">(figures/${esc(c.id)}.png, .svg)</span></figcaption>
</figure>`;
}

/**
 * vega numbers its clip paths clip1, clip2, ... in every SVG; inline in one page they would clash
 * (the browser resolves url(#clip1) to the first one). Prefix each chart's ids with its own id.
 */
export function uniqueSvgIds(svg: string, prefix: string): string {
  const p = prefix.replace(/[^A-Za-z0-9_-]/g, "_");
  return svg
    .replace(/\bid="([^"]+)"/g, `id="${p}-$1"`)
    .replace(/url\(#([^)]+)\)/g, `url(#${p}-$1)`)
    .replace(/href="#([^"]+)"/g, `href="#${p}-$1"`);
}

function sitesHtml(ctx: ReportContext): string {
  const v = ctx.sites;
  const th = ctx.settings.smallCellThreshold;
  if (!v) {
    return `<section id="data"><h2>Data</h2><p>No per-site summary in this results store (provenance.json has no <code>sites</code>).</p></section>`;
  }
  const head = `<tr><th scope="col" class="rowhead">Site</th><th scope="col">Encounters</th><th scope="col">Training pool</th><th scope="col">Test set</th>${v.classes
    .map((c) => `<th scope="col">${esc(c)}</th>`)
    .join("")}<th scope="col">Vocabulary</th></tr>`;
  const rows = v.rows
    .map((r) =>
      [
        `<tr><th scope="row" class="rowhead">${esc(r.name)}</th>`,
        ...[r.encounters, r.pool, r.test, ...r.classCounts, r.vocabularySize].map(
          (x) => `<td class="num">${esc(x)}</td>`,
        ),
        "</tr>",
      ].join(""),
    )
    .join("\n");
  return `<section id="data"><h2>Data</h2>
<p>Encounters per site (training pool and held-out test set) and per outcome class. Counts below ${th} are shown as “&lt;${th}”; where one class alone would be hidden, a second is hidden too (“suppressed”) so it cannot be recovered from the total.</p>
<div class="scroll"><table class="plain"><thead>${head}</thead><tbody>
${rows}
</tbody></table></div></section>`;
}

function failuresHtml(failures: FailedCell[]): string {
  if (failures.length === 0) return "";
  const rows = failures
    .map(
      (f) =>
        `<tr><td>${esc(f.task)}</td><td>${esc(f.source ?? "—")} → ${esc(f.target)}</td><td>${esc(String(f.targetSize))}</td><td>${esc(f.scenario)}${f.model === "logistic" ? " (logistic)" : ""}</td><td>${esc(f.embedding)}</td><td class="num">${f.seed}</td><td>${esc(f.reason)}</td></tr>`,
    )
    .join("\n");
  return `<section id="failures"><h2>Failed cells</h2>
<p>These cells are left out of every table and figure. Their error messages are in the results store, not here (messages can quote input data).</p>
<div class="scroll"><table class="plain"><thead><tr><th>Task</th><th>Direction</th><th>Target size</th><th>Scenario</th><th>Embedding</th><th>Seed</th><th>Reason</th></tr></thead><tbody>
${rows}
</tbody></table></div></section>`;
}

function provenanceHtml(ctx: ReportContext): string {
  const p = ctx.provenance;
  const s = ctx.settings;
  const emb = p.embeddings
    .map(
      (e) => `<tr><th scope="row" class="rowhead">${esc(e.name)}</th><td><code>${esc(e.id)}</code></td></tr>`,
    )
    .join("");
  return `<section id="provenance"><h2>Provenance</h2>
<dl>
${p.specFile ? `<dt>Spec file</dt><dd><code>${esc(p.specFile)}</code></dd>` : ""}<dt>Results</dt><dd><code>${esc(p.resultsFile)}</code>: ${p.cells.total} cells (${p.cells.ok} ok, ${p.cells.failed} failed)${p.createdAt ? `, run started ${esc(p.createdAt)}` : ""}</dd>
<dt>Code version (results)</dt><dd><code>${esc(p.codeVersions.join(", "))}</code></dd>${p.node ? `<dt>Node.js</dt><dd><code>${esc(p.node)}</code></dd>` : ""}
<dt>Code version (report)</dt><dd><code>${esc(p.reportCodeVersion)}</code></dd>
<dt>Seeds</dt><dd>${esc(p.seeds.join(", "))}</dd>
<dt>Statistics</dt><dd>AUROC CI: DeLong 95% for binary tasks (stored CI where predictions are absent, bootstrap for multi-class). Tests vs <em>${esc(s.referenceScenario)}</em>: paired DeLong (binary), paired stratified bootstrap of the macro-AUROC difference with ${s.testResamples} resamples (multi-class${s.compatibility === "current" ? "" : "; off under reproduction-v1 rules"}), none where a test-set class has fewer than ${s.minTestEvents} members; ${s.adjustment === "holm" ? "Holm-adjusted per table, seed and recalibration setting" : "unadjusted"}, α = ${s.alpha}. ROC curves: vertical average over seeds on a ${s.rocGridPoints}-point grid. Calibration: loess (span 0.75, degree 2) for Eavg/E90/Emax; ${s.calibrationBins} equal-width bins merged to at least ${s.smallCellThreshold} events and non-events per seed for the plots, predictions pooled over seeds. Small-cell threshold: ${s.smallCellThreshold}.</dd>
</dl>
<h3>Embeddings</h3>
<div class="scroll"><table class="plain"><thead><tr><th>Name</th><th>Provider id</th></tr></thead><tbody>${emb}</tbody></table></div>
<h3>Experiment spec</h3>
${p.specYaml ? `<pre class="spec">${esc(p.specYaml)}</pre>` : "<p>No spec stored with the results.</p>"}
</section>`;
}

export function esc(s: string): string {
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

const CSS = `
:root{--ink:#1b2430;--muted:#5b6675;--line:#d9dee5;--bg:#ffffff;--soft:#f5f7fa;--ref:#eef3fb;--up:#1a7f37;--down:#b42318;--partial:#9a6700;--accent:#2456a6}
*{box-sizing:border-box}
html{font-size:15px}
body{margin:0;background:var(--bg);color:var(--ink);font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"DejaVu Sans",sans-serif;line-height:1.5}
main{max-width:1400px;margin:0 auto;padding:24px 24px 64px}
header h1{font-size:1.9rem;margin:0 0 4px;letter-spacing:-0.01em}
.meta{color:var(--muted);margin:0 0 18px}
h2{font-size:1.35rem;margin:40px 0 12px;padding-bottom:6px;border-bottom:2px solid var(--ink)}
h3{font-size:1.1rem;margin:28px 0 8px;color:var(--accent)}
h4{font-size:1rem;margin:20px 0 2px}
nav ul{list-style:none;padding:0;margin:0 0 8px;display:flex;flex-wrap:wrap;gap:6px 14px;font-size:.92rem}
nav a{color:var(--accent);text-decoration:none}
nav a:hover{text-decoration:underline}
.note{background:var(--soft);border-left:4px solid var(--accent);padding:2px 18px 6px;margin:14px 0 8px;font-size:.9rem}
.note h3{margin:10px 0 2px;font-size:.95rem;color:var(--ink)}
.note ul{margin:4px 0;padding-left:18px}
.note li{margin:3px 0}
.sub{color:var(--muted);margin:0 0 8px;font-size:.92rem}
.scroll{overflow-x:auto}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}
table.results,table.rec{width:100%;table-layout:fixed}
table.results th.rowhead{width:19%}
table.rec .picked{display:block;color:var(--muted);font-size:.82rem}
table.results th,table.results td,table.rec th,table.rec td{padding:7px 9px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top;overflow-wrap:anywhere}
table.results thead th,table.rec thead th{border-bottom:2px solid var(--ink);font-weight:600}
table.rec td.num{text-align:left}
table.rec tr.first th,table.rec tr.first td{border-top:2px solid var(--line)}
.headline{margin:6px 0 4px;display:flex;flex-wrap:wrap;gap:4px 18px;font-size:.95rem}
.headline .fact b{color:var(--muted);font-weight:600;margin-right:4px}
.description{margin:4px 0 6px;color:var(--ink);max-width:70em}
#answer h2{margin-top:14px}
.verdict{display:inline-block;font-size:.75rem;font-weight:600;border-radius:3px;padding:0 5px;margin-left:4px;white-space:nowrap}
.verdict.better{color:var(--up);border:1px solid var(--up)}.verdict.worse{color:var(--down);border:1px solid var(--down)}.verdict.similar,.verdict.untested,.verdict.small{color:var(--muted);border:1px solid var(--line)}
ul.warnings{list-style:none;padding:0;margin:0}
li.warning{border-left:4px solid var(--partial);background:#fff8e6;padding:6px 14px;margin:8px 0}
.wtitle{font-weight:600;margin:2px 0}.wdetail{margin:2px 0;font-size:.9rem}
li.warning details{font-size:.85rem;color:var(--muted)}
.ok{color:var(--up)}
table.cal td .recal{display:block;color:var(--muted);font-size:.85rem}
.ideal{font-weight:400;color:var(--muted);font-size:.75rem}
table.results tr.ref{background:var(--ref)}
table.results tr.ref .rowhead::after{content:" ref";font-size:.72rem;font-weight:600;color:var(--accent);vertical-align:super}
.rowhead{font-weight:600}
td.cell .v{font-weight:600;font-size:1.02rem}
td.cell .ci{color:var(--ink);display:block;font-size:.86rem;white-space:nowrap}
td.cell .sd{display:block;color:var(--muted);font-size:.8rem}
td.empty{color:var(--muted)}
.sym{font-weight:700;font-size:.9rem}
.sym.up{color:var(--up)}.sym.down{color:var(--down)}.sym.partial{color:var(--partial)}.sym.ref{color:var(--accent);font-size:.72rem;text-transform:uppercase;letter-spacing:.04em}
td.cell.mark-ref .sym{display:none}
.badge{font-size:.7rem;font-weight:600;color:var(--muted);border:1px solid var(--line);border-radius:3px;padding:0 4px;vertical-align:middle}
ul.notes{color:var(--muted);font-size:.85rem;margin:6px 0 0;padding-left:18px}
table.plain th,table.plain td{padding:6px 12px;border-bottom:1px solid var(--line);text-align:left}
table.plain thead th{border-bottom:2px solid var(--ink);font-weight:600}
td.num{text-align:right}
figure.chart{margin:18px 0 30px;padding:14px;border:1px solid var(--line);border-radius:6px;background:#fff;overflow-x:auto}
figure.chart svg{max-width:100%;height:auto;display:block}
figcaption{color:var(--muted);font-size:.88rem;margin-top:8px}
figcaption .files{white-space:nowrap}
dl{display:grid;grid-template-columns:max-content 1fr;gap:6px 18px}
dt{font-weight:600}dd{margin:0}
code{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:.88em}
pre.spec{background:var(--soft);border:1px solid var(--line);border-radius:6px;padding:12px 14px;overflow:auto;max-height:420px;font-size:.82rem}
@media print{main{max-width:none;padding:0}nav{display:none}figure.chart{break-inside:avoid}h2{break-after:avoid}}
`;
