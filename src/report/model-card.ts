import type { CellResult } from "../experiment/results.js";
import type { BundleHeader } from "../transfer/bundle/schema.js";
import { type Aggregation, aggregate } from "./aggregate.js";
import { calibrationTables, formatFigure } from "./calibration-view.js";
import type { Provenance } from "./provenance.js";
import { reportSettings } from "./settings.js";
import { publishedDecimals, suppressCount } from "./suppress.js";
import { collectWarnings } from "./warnings.js";

/**
 * A model card (Mitchell et al. 2019) for an exported bundle, in Markdown: intended use, the sites
 * and periods the model learned from, vocabulary and embedding, performance with 95% CIs and
 * calibration at the source and at each target it was evaluated at, the warnings of that evidence,
 * limitations, and the TRIPOD+AI items (Collins et al. 2024) this card answers. It is written inside
 * the bundle (part `model-card.md`) and beside it (`<bundle>.model-card.md`). Aggregates only, with
 * the report's small-cell rules.
 */

export interface ModelCardInput {
  /** The bundle header as written (model, embedding, training, performance summary). */
  header: Pick<BundleHeader, "model" | "training" | "performance" | "codeVersion" | "createdAt">;
  /** File name of the bundle. */
  bundleName: string;
  /** Results of an experiment that evaluated this model (optional), and the source site's name in it. */
  evidence?: { cells: readonly CellResult[]; provenance: Provenance; source: string };
  smallCellThreshold?: number;
}

export function modelCardMarkdown(input: ModelCardInput): string {
  const h = input.header;
  const m = h.model;
  const th = input.smallCellThreshold ?? 11;
  const kind = m.architecture.kind === "concept-cnn" ? "cnn" : "logistic";
  const arch =
    m.architecture.kind === "concept-cnn"
      ? `concept CNN (kernels ${m.architecture.kernelSizes.join(", ")}; filters ${m.architecture.filters.join(", ")})`
      : "logistic regression on the encounter's mean token embedding";
  const out: string[] = [`# Model card — ${input.bundleName}`, ""];
  out.push(
    "> Written by ConceptBridge with the bundle. Aggregate numbers only; counts of people below " +
      `${th} are shown as "<${th}".`,
    "",
  );
  out.push("## Intended use", "");
  out.push(
    `Ranking encounters by their risk of **${m.classes.length === 2 ? m.classes[1] : m.classes.join(" / ")}** ` +
      `(${m.classes.length === 2 ? `binary: ${m.classes[1]} vs ${m.classes[0]}` : `${m.classes.length} classes`}) ` +
      "from the coded clinical concepts of an encounter, at a site other than the one it learned at, after " +
      "that site has checked it on its own data (`conceptbridge transfer` / `predict`). It is a research " +
      "model: not a medical device, not validated for individual care decisions.",
    "",
  );
  out.push("## Model", "");
  out.push(`- Architecture: ${arch}; ${m.classes.length} outputs (${m.classes.join(", ")}).`);
  out.push(
    `- Vocabulary: ${m.vocabularySize} source tokens (concept × value); a target's tokens are matched through the embedding, not by code.`,
  );
  out.push(
    `- Embedding: \`${m.embedding.providerId}\`, dimension ${m.embedding.dimension}${m.embedding.trainable ? ", tuned during training (the bundle carries the tuned vectors' effect in its weights)" : ", frozen"}.`,
  );
  const t = h.training as Record<string, unknown> | null;
  if (t) {
    const fields = ["optimizer", "lr", "epochs", "itersPerEpoch", "batchSize", "weightDecay", "classWeights"]
      .filter((k) => t[k] !== undefined)
      .map((k) => `${k} ${String(t[k])}`);
    out.push(`- Training: ${fields.join(", ")}; the epoch with the best validation AUROC is kept.`);
  }
  out.push(`- Written by ConceptBridge ${h.codeVersion} at ${h.createdAt}.`, "");

  out.push("## Sites and periods", "");
  const ev = input.evidence;
  const sites = ev?.provenance.sites ?? [];
  if (sites.length > 0) {
    for (const s of sites) {
      const role = s.site === ev?.source ? "source (trained here)" : "evaluated target";
      out.push(
        `- ${s.site} (${role}): training pool ${suppressCount(s.poolEncounters, th)}, test set ${s.testEncounters === 0 ? "—" : suppressCount(s.testEncounters, th)} encounters.`,
      );
    }
    const spec = ev?.provenance.spec as
      | { sites?: Record<string, { split?: { testPeriods?: string[] } }> }
      | undefined;
    const periods = Object.entries(spec?.sites ?? {})
      .filter(([, v]) => v.split?.testPeriods)
      .map(([k, v]) => `${k}: test periods ${v.split!.testPeriods!.join(", ")}`);
    out.push(
      periods.length > 0
        ? `- Periods: ${periods.join("; ")}.`
        : "- Periods: not split by time (random or grouped test sets).",
    );
  } else {
    out.push(
      "No experiment results were given with this bundle (`--results`): the sites are not recorded here.",
    );
  }
  out.push("");

  out.push("## Performance", "");
  const perf = h.performance;
  if (perf) {
    const ci = perf.metrics.aurocCI
      ? ` [${perf.metrics.aurocCI[0].toFixed(3)}–${perf.metrics.aurocCI[1].toFixed(3)}]`
      : "";
    const counts = perf.counts
      ? ` (${Object.entries(perf.counts)
          .map(([k, v]) => `${k} ${v}`)
          .join(", ")})`
      : "";
    out.push(
      `Summary given at export${perf.description ? ` (${perf.description})` : ""}: AUROC ${perf.metrics.auroc.toFixed(3)}${ci}${perf.metrics.calibrationSlope !== undefined ? `, calibration slope ${perf.metrics.calibrationSlope.toFixed(2)}` : ""}${perf.metrics.brier !== undefined ? `, Brier ${perf.metrics.brier.toFixed(3)}` : ""}${counts}.`,
      "",
    );
  }
  let agg: Aggregation | null = null;
  if (ev) {
    const settings = reportSettings({ smallCellThreshold: th });
    const providerNames = Object.entries(ev.provenance.embeddingProviders ?? {})
      .filter(([, id]) => id === m.embedding.providerId)
      .map(([name]) => name);
    const mine = ev.cells.filter(
      (c) =>
        c.key.model === kind &&
        (providerNames.length === 0 || providerNames.includes(c.key.embedding)) &&
        c.key.recalibration === "none" &&
        c.key.targetSize === "all" &&
        ((c.key.scenario === "local" && c.key.target === ev.source) ||
          (c.key.scenario === "source-only" && c.key.source === ev.source)),
    );
    agg = aggregate(mine, settings);
    const cal = new Map(calibrationTables(agg, settings).map((c) => [c.tableId, c]));
    const rows: string[] = [];
    for (const table of agg.tables) {
      for (const a of table.arms) {
        const d = publishedDecimals(table, th, 3);
        const f = cal
          .get(table.id)
          ?.rows.find((r) => r.scenario === a.arm.scenario && r.embedding === a.arm.embedding)
          ?.variants[0]?.figures;
        const where =
          a.arm.scenario === "local"
            ? `${table.key.target} (source, held-out test set)`
            : `${table.key.target} (target, as transferred)`;
        const auroc =
          d <= 0
            ? "suppressed"
            : `${a.mean.toFixed(d)}${a.ci ? ` [${a.ci[0].toFixed(d)}–${a.ci[1].toFixed(d)}]` : ""}`;
        rows.push(
          `| ${where} | ${a.arm.embedding} | ${auroc} | ${formatFigure(f?.citl ?? null, d)} | ${formatFigure(f?.slope ?? null, d)} | ${formatFigure(f?.eavg ?? null, d)} | ${formatFigure(f?.brier ?? null, d)} | ${table.testN ? suppressCount(table.testN[0], th) : "?"} | ${a.seeds.length} |`,
        );
      }
    }
    if (rows.length > 0) {
      out.push(
        `At the source and at each target the experiment evaluated this kind of model at (${kind}, ${providerNames.join(", ") || "any embedding"}, trained on all of ${ev.source}'s pool; mean over seeds, 95% CI):`,
        "",
        "| Where | Embedding | AUROC [95% CI] | CITL | Slope | Eavg | Brier | Test n | Seeds |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ...rows,
        "",
        "CITL: calibration-in-the-large (0 ideal); slope 1 ideal; Eavg: mean |loess-smoothed observed − predicted|. A target should recalibrate (intercept at least) on its own data before use.",
        "",
      );
    } else {
      out.push(`The results given hold no evaluation of this model from ${ev.source}.`, "");
    }
  } else if (!perf) {
    out.push("No performance was given at export (`--summary` or `--results`).", "");
  }

  out.push("## Warnings", "");
  const warnings =
    agg && ev ? collectWarnings(agg, ev.provenance, reportSettings({ smallCellThreshold: th })) : [];
  if (warnings.length > 0) for (const w of warnings) out.push(`- **${w.title}** ${w.detail}`);
  else
    out.push(
      agg ? "None of the report's checks fired on this evidence." : "No evidence given, no checks run.",
    );
  out.push("");

  out.push("## Limitations", "");
  out.push(
    "- Performance at a new site is unknown until measured there: vocabulary, case mix and coding practice differ, and the embedding bridges only what its text says.",
    "- Calibration does not transfer: expect to recalibrate at the target (ConceptBridge's `recalibration` settings).",
    "- Concepts the source never saw contribute only through their embedding's neighbours; tokens without a vector are ignored.",
    "- Small test sets give wide intervals; arms within an interval of each other are not distinguishable.",
    "",
  );

  out.push("## TRIPOD+AI items this card answers", "");
  out.push(
    "| Item | Where |",
    "| --- | --- |",
    "| 3a/3b Context, intended use and users | Intended use |",
    "| 6/7 Data sources, setting, periods | Sites and periods |",
    "| 8 Outcome | Intended use (classes) |",
    "| 9 Predictors | Model (vocabulary, embedding) |",
    "| 12 Model type and building, hyperparameters | Model (architecture, training) |",
    "| 12f/23 Performance measures with uncertainty: discrimination and calibration | Performance |",
    "| 14 Updating/recalibration | Performance, Limitations |",
    "| 21/27 Limitations, usability at other sites | Warnings, Limitations |",
    "| 18e Code and model availability | this bundle (SHA-256 manifest, optional signature) |",
    "",
  );
  out.push(
    "Not answered here (the study report has to): participants' flow and missing data (TRIPOD+AI 13, 20), sample-size justification (10), fairness across groups (14d), and clinical evaluation.",
    "",
  );
  return out.join("\n");
}
