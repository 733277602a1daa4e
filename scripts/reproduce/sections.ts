import type { CellResult } from "../../src/experiment/results.js";
import type { TrainSettings } from "../../src/model/train-settings.js";
import type { ArmResult, ReportTable, TargetSize } from "../../src/report/aggregate.js";
import type { ReportContext } from "../../src/report/context.js";
import { renderMarkdown } from "../../src/report/markdown.js";

/**
 * Building blocks of the reproduction documents (docs/results/*.md): one spec's report as a section of
 * a larger document, and lookups of arms in a report context. Pure functions of the context, so a
 * rerun on the same results writes the same bytes.
 */

/** One spec's results as the documents see them. */
export interface SpecRun {
  /** The spec's result cells in grid order (what a document may read beyond the report's tables). */
  cells?: CellResult[];
  /** Spec name (also its output folder). */
  name: string;
  /** Spec file, relative to the repository root. */
  specFile: string;
  description: string;
  /** Training iterations (epochs x iterations per epoch) for training and fine-tuning. */
  trainIterations: string;
  finetuneIterations: string;
  /** The settings every arm of the spec trained with (defaults filled in). */
  settings: {
    training: TrainSettings;
    finetuning: TrainSettings;
    baseline: TrainSettings;
    /** Bootstrap resamples behind intervals without a closed form (multi-class macro AUROC). */
    bootstrap: number;
  };
  /** The spec's `exclude` entries in words (arms left out of its grid), e.g. "finetune-all × onehot". */
  excluded: string[];
  ctx: ReportContext;
}

/** "50 × 100 iterations of 32" plus the early stop when there is one. */
export function iterationsText(s: TrainSettings): string {
  const score = s.selection === "loss" ? "validation loss" : "validation AUROC";
  const stop =
    s.earlyStoppingPatience === null
      ? ""
      : `, stopped after ${s.earlyStoppingPatience} epochs without a better ${score}`;
  const least =
    s.earlyStoppingMinSteps === 0
      ? ""
      : s.selectAfterMinSteps
        ? `, neither stopped nor an epoch kept before ${s.earlyStoppingMinSteps} steps`
        : `, not stopped before ${s.earlyStoppingMinSteps} steps`;
  // The paper's epochs are fixed at itersPerEpoch steps; the converged recipe's end a pass early.
  const pass = s.epochAtMostOnePass ? " (an epoch at most one pass over the training data)" : "";
  return `${s.epochs} × ${s.itersPerEpoch} iterations of ${s.batchSize}${pass}${stop}${least}`;
}

/** A schedule in words, from the settings the runs used: optimiser, learning rate, iterations, weights. */
export function scheduleText(s: TrainSettings): string {
  const opt =
    s.optimizer === "sgd"
      ? `SGD lr ${s.lr}${s.momentum > 0 ? `, momentum ${s.momentum}${s.nesterov ? " (Nesterov)" : ""}` : ""}, weight decay ${s.weightDecay}`
      : `Adam lr ${s.lr}, weight decay ${s.weightDecay}`;
  const weights = s.classWeights === "balanced" ? ", balanced class weights" : "";
  return `${opt}, ${iterationsText(s)}${weights}; the best validation epoch is kept`;
}

/** Chart kinds copied into the docs (ROC and calibration figures stay in the full HTML report). */
export const DOC_CHART_KINDS: ReadonlySet<string> = new Set(["bars", "learning"]);

/**
 * The spec's report Markdown (buildReport's writer) as a section: its title and "Generated" line
 * dropped, headings `demote` levels down (default 2: below a "### Spec" heading), figure links pointing at `figureDir`, only DOC_CHART_KINDS figures.
 */
export function specSection(run: SpecRun, figureDir: string, demote = 2): string {
  const ctx: ReportContext = {
    ...run.ctx,
    charts: run.ctx.charts.filter((c) => DOC_CHART_KINDS.has(c.kind)),
  };
  const md = renderMarkdown(ctx);
  const lines = md.split("\n");
  const out: string[] = [];
  for (const line of lines) {
    if (line.startsWith("# ")) continue;
    if (line.startsWith("Generated ")) continue;
    let l = line.startsWith("#") ? `${"#".repeat(demote)}${line}` : line;
    l = l.replace(/\]\(figures\//g, `](${figureDir}/`);
    out.push(l);
  }
  return out.join("\n").replace(/^\n+/, "");
}

export function findTable(
  ctx: ReportContext,
  task: string,
  source: string | null,
  size: TargetSize,
): ReportTable | undefined {
  return ctx.agg.tables.find(
    (t) => t.key.task === task && t.key.source === source && t.key.targetSize === size,
  );
}

export function findArmResult(
  table: ReportTable | undefined,
  scenario: string,
  embedding: string,
  model: "cnn" | "logistic" = "cnn",
): ArmResult | undefined {
  return table?.arms.find(
    (a) =>
      a.arm.scenario === scenario &&
      a.arm.embedding === embedding &&
      a.arm.model === model &&
      a.arm.recalibration === "none",
  );
}

/** "0.812 [0.790–0.833], sd 0.004" (mean over seeds, mean 95% CI, seed sd). */
export function armText(a: ArmResult | undefined): string {
  if (!a) return "—";
  const ci = a.ci ? ` [${a.ci[0].toFixed(3)}–${a.ci[1].toFixed(3)}]` : "";
  const sd = a.sd === null ? "" : `, sd ${a.sd.toFixed(3)}`;
  return `${a.mean.toFixed(3)}${ci}${sd}`;
}

/** The arm with the highest mean among the given scenario's arms (optionally only some embeddings). */
export function bestArm(
  table: ReportTable | undefined,
  scenarios: readonly string[],
  model: "cnn" | "logistic" = "cnn",
): ArmResult | undefined {
  if (!table) return undefined;
  const arms = table.arms.filter(
    (a) => scenarios.includes(a.arm.scenario) && a.arm.model === model && a.arm.recalibration === "none",
  );
  return [...arms].sort((a, b) => b.mean - a.mean)[0];
}

export function cellText(s: string): string {
  return s.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

/** The opening every generated results doc shares: title, do-not-edit note, data paragraph, spec table. */
export function docPreamble(title: string, dataParagraph: string, runs: readonly SpecRun[]): string[] {
  const out: string[] = [`# ${title}`, ""];
  out.push(
    "> Written by `npm run reproduce` (scripts/reproduce.ts) from the results of the specs below; do not edit by hand — rerun instead.",
    "",
  );
  out.push("## What was run", "", dataParagraph, "");
  out.push("| Spec | What it covers | Training | Fine-tuning |", "| --- | --- | --- | --- |");
  for (const r of runs) {
    out.push(
      `| [\`${r.specFile}\`](../../${r.specFile}) | ${cellText(r.description)} | ${r.trainIterations} | ${r.finetuneIterations} |`,
    );
  }
  out.push("");
  for (const r of runs) {
    if (r.excluded.length > 0)
      out.push(`Left out of \`${r.name}\` (its \`exclude\` list): ${r.excluded.join("; ")}.`, "");
  }
  return out;
}
