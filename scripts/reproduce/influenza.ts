import { PAPER_SETTINGS, type TrainSettings } from "../../src/model/train-settings.js";
import { compareSizes, type ReportTable } from "../../src/report/aggregate.js";
import {
  type ArmData,
  armData,
  armMean,
  combine,
  compareArms,
  findArm,
  judgeBest,
  judgeExcessiveTuning,
  judgeNeedsFinetuning,
  meanText,
  phrase,
  signed,
  type Verdict,
} from "./claims.js";
import {
  armText,
  bestArm,
  cellText,
  docPreamble,
  findArmResult,
  findTable,
  iterationsText,
  type SpecRun,
  scheduleText,
  specSection,
} from "./sections.js";

/**
 * docs/results/paper-influenza.md: the seed paper's experiment on influenza-dtl, with the DTL
 * anchor (Ye & Gu), the tables of every spec, and a discussion of the paper's three claims judged
 * from the numbers (claims.ts). Everything here is computed from the runs; nothing is typed in
 * except the published reference numbers, which are quoted as such.
 */

export const INFLUENZA_SPECS = {
  binaryMain: "influenza-binary-main",
  fourMain: "influenza-4class-main",
  curve: "influenza-4class-curve",
  binaryLogistic: "influenza-binary-logistic",
  fourLogistic: "influenza-4class-logistic",
} as const;

const BINARY = "influenza-vs-rest";
const FOUR = "4-class";
/** The whole target training pool (10,000 encounters). */
const FULL = "all";
const SOURCES = ["source-same", "source-shifted"] as const;
const SOURCE_LABEL: Record<string, string> = {
  "source-same": "same-setting source",
  "source-shifted": "shifted source",
};
const BIOMEDICAL = "biobert";
const GENERIC = ["bert", "openai-small"];
/** Ye & Gu (arXiv 2103.06710): mean AUROC of model-based transfer on the 4-class task. */
const DTL_ANCHOR_AUROC = 0.83;
const DTL_ANCHOR_CROSSOVER = 1000;
/** Size of the target training pool ("all" in the specs). */
const POOL = 10000;
/** Numbers the project brief quotes for the same data (influenza vs rest, target site). */
const BRIEF_LOGISTIC_ONEHOT = 0.9755;
const BRIEF_TORCH_CNN_BERT = 0.9687;

export interface InfluenzaDoc {
  markdown: string;
  /** One paragraph for the README. */
  summary: string;
}

export function influenzaDoc(
  runs: ReadonlyMap<string, SpecRun>,
  figureDir: (spec: string) => string,
): InfluenzaDoc {
  const get = (n: string) => runs.get(n);
  const bin = get(INFLUENZA_SPECS.binaryMain);
  const four = get(INFLUENZA_SPECS.fourMain);
  const curve = get(INFLUENZA_SPECS.curve);
  const binLog = get(INFLUENZA_SPECS.binaryLogistic);
  const fourLog = get(INFLUENZA_SPECS.fourLogistic);
  const out: string[] = [];

  out.push(
    ...docPreamble(
      "Reproducing Gao et al. on influenza-dtl",
      'Data: the public influenza-dtl release of Ye & Gu ("Deep Transfer Learning for Infectious Disease Case Detection Using Electronic Medical Records", arXiv 2103.06710): one emergency-department target site (a 10,000-encounter training pool and a 10,000-encounter test set) and two 10,000-encounter source sites, one from the same setting as the target and one shifted. Embeddings: one-hot, the seed paper\'s BERT, BioBERT and OpenAI text-embedding-3-small concept vectors (its HDF5 files), and the offline `hashing` and `cooccurrence` embedders. Tasks: influenza vs rest (binary AUROC) and the 4-class task I/R/P/M (macro one-vs-rest AUROC).',
      [...runs.values()],
    ),
  );
  out.push(...scheduleLines(bin ?? four), "");
  out.push(
    "Rerun: `npm run reproduce` (from the repository root; it reads `../shared/data`, or `$CONCEPTBRIDGE_SHARED_DATA`). It is resumable: finished cells in `reproduce-output/` are reused. Every number is seeded (seeds 1, 2, 3), so a fresh run writes the same file. The full HTML reports (with ROC and calibration figures) are written to `reproduce-output/<spec>/report.html`.",
    "",
  );
  out.push(
    "Public files: influenza-dtl from the release of Ye & Gu (repository AI-In-Population-Health-Lab/Deep-Transfer-Learning-Package-Release-V1); the concept embeddings from the seed paper's repository (AI-In-Population-Health-Lab/CNN-package, `Clean_version/cui_embeddings/`). Put them under `../shared/data/influenza-dtl` and `../shared/data/influenza-embeddings`.",
    "",
  );
  out.push(
    `Uncertainty: a cell is the mean AUROC over 3 seeds, the 95% CI (binary: DeLong; 4-class: stratified bootstrap, ${(four ?? curve)?.settings.bootstrap.toLocaleString("en-US") ?? "—"} resamples) averaged over seeds, and the sd across seeds. Two arms are called *clearly* different when (binary) the paired DeLong test on the same test set gives p < 0.05 in every seed with the same sign, or (4-class, no paired DeLong for macro AUROC) a paired t-test over the seeds gives p < 0.05; otherwise *not distinguishable*.`,
    "",
  );

  // ---- DTL anchor
  out.push("## Beside the DTL study (Ye & Gu)", "");
  out.push(
    `Ye & Gu report a mean AUROC of ${DTL_ANCHOR_AUROC} for model-based transfer on the 4-class task, and that it beat target-only models below ${DTL_ANCHOR_CROSSOVER.toLocaleString("en-US")} target training encounters. Our 4-class numbers at the full target size (10,000), per source; best embedding of each scenario, and BioBERT and one-hot:`,
    "",
  );
  out.push(
    "| Arm | same-setting source | shifted source |",
    "| --- | --- | --- |",
    `| Ye & Gu, model-based transfer (published) | ${DTL_ANCHOR_AUROC} (mean) | — |`,
  );
  const anchorRows: [string, string[]][] = [
    ["target-only (local)", ["local"]],
    ["source-only", ["source-only"]],
    ["pooled", ["pooled"]],
    ["fine-tuned (dense, conv or all)", ["finetune-dense", "finetune-conv", "finetune-all"]],
  ];
  for (const [label, scen] of anchorRows) {
    const cells = SOURCES.map((s) => {
      const t = four ? findTable(four.ctx, FOUR, s, FULL) : undefined;
      const best = bestArm(t, scen);
      const bio = scen
        .map((x) => findArmResult(t, x, BIOMEDICAL))
        .sort((a, b) => (b?.mean ?? 0) - (a?.mean ?? 0))[0];
      const one = scen
        .map((x) => findArmResult(t, x, "onehot"))
        .sort((a, b) => (b?.mean ?? 0) - (a?.mean ?? 0))[0];
      if (!best) return "—";
      return `best ${best.arm.embedding}${scen.length > 1 ? ` (${best.arm.scenario})` : ""}: ${armText(best)}; biobert ${bio ? bio.mean.toFixed(3) : "—"}; onehot ${one ? one.mean.toFixed(3) : "—"}`;
    });
    out.push(`| ${label} | ${cells.map(cellText).join(" | ")} |`);
  }
  out.push("");
  out.push(...curveLines(curve, four));
  out.push("");

  // ---- claims
  const claims = judgeClaims(bin, four);
  out.push("## The paper's three claims on this data", "");
  for (const c of claims) {
    out.push(`### ${c.title}`, "", `**Verdict: ${c.verdict}.** ${c.note}`, "");
    out.push(...c.details.map((d) => `- ${d}`), "");
  }
  out.push("### The CNN and the logistic baseline", "");
  out.push(...logisticLines(bin, binLog, four, fourLog), "");

  // ---- the tables
  out.push("## All results", "");
  for (const r of runs.values()) {
    out.push(`### Spec \`${r.name}\``, "", `${r.description}`, "");
    out.push(specSection(r, figureDir(r.name)), "");
  }

  const summary = summaryParagraph(four, claims, bin, binLog);
  return {
    markdown: `${out
      .join("\n")
      .replace(/\n{3,}/g, "\n\n")
      .trimEnd()}\n`,
    summary,
  };
}

interface ClaimResult {
  title: string;
  verdict: Verdict;
  note: string;
  details: string[];
}

function judgeClaims(bin?: SpecRun, four?: SpecRun): ClaimResult[] {
  // Claim 1: BioBERT best for local and direct transfer (source-only).
  const c1: { verdict: Verdict; detail: string }[] = [];
  for (const [run, task] of [
    [bin, BINARY],
    [four, FOUR],
  ] as const) {
    if (!run) continue;
    const tSame = findTable(run.ctx, task, "source-same", FULL);
    if (tSame) c1.push(judgeBest(`${task}, local`, embeddingArms(run, tSame, "local"), BIOMEDICAL));
    for (const s of SOURCES) {
      const t = findTable(run.ctx, task, s, FULL);
      if (t)
        c1.push(
          judgeBest(
            `${task}, source-only from the ${SOURCE_LABEL[s]}`,
            embeddingArms(run, t, "source-only"),
            BIOMEDICAL,
          ),
        );
    }
  }
  // Claim 2: generic embeddings need fine-tuning (fine-tuned clearly better than source-only).
  const c2: { verdict: Verdict; detail: string }[] = [];
  const c2contrast: string[] = [];
  forEachSetting(bin, four, (task, s, arm) => {
    const finetuned = (e: string) =>
      [arm("finetune-dense", e), arm("finetune-conv", e)].filter((x): x is ArmData => x !== undefined);
    for (const e of GENERIC)
      c2.push(judgeNeedsFinetuning(`${task}, ${SOURCE_LABEL[s]}, ${e}`, arm("source-only", e), finetuned(e)));
    const bSo = arm("source-only", BIOMEDICAL);
    const bFt = finetuned(BIOMEDICAL);
    if (bSo && bFt.length > 0)
      c2contrast.push(
        judgeNeedsFinetuning(`${task}, ${SOURCE_LABEL[s]}, ${BIOMEDICAL} (contrast)`, bSo, bFt).detail,
      );
  });
  // Claim 3: finetune-all hurts the biomedical embedding (vs finetune-conv, same fine-tuning settings).
  const c3: { verdict: Verdict; detail: string }[] = [];
  const c3contrast: string[] = [];
  forEachSetting(bin, four, (task, s, arm) => {
    const all = arm("finetune-all", BIOMEDICAL);
    if (!all) return;
    c3.push(
      judgeExcessiveTuning(
        `${task}, ${SOURCE_LABEL[s]}, ${BIOMEDICAL}`,
        all,
        arm("finetune-conv", BIOMEDICAL),
      ),
    );
    for (const e of ["bert", "openai-small", "onehot"])
      c3contrast.push(
        judgeExcessiveTuning(
          `${task}, ${SOURCE_LABEL[s]}, ${e} (contrast)`,
          arm("finetune-all", e),
          arm("finetune-conv", e),
        ).detail,
      );
  });
  return [
    {
      title: "1. Domain-specific embeddings (BioBERT) are best for local training and direct transfer",
      verdict: combine(c1.map((x) => x.verdict)),
      note: "Judged per task and setting: BioBERT must be clearly better than every other embedding (ranking by mean AUROC quoted).",
      details: c1.map((x) => x.detail),
    },
    {
      title: "2. Generic embeddings (BERT, OpenAI) need fine-tuning",
      verdict: combine(c2.map((x) => x.verdict)),
      note: "Judged per task, source and generic embedding: the better fine-tuning arm (dense or conv) must be clearly better than the transferred model used as is (source-only). BioBERT is shown for contrast (not part of the verdict).",
      details: [...c2.map((x) => x.detail), ...c2contrast],
    },
    {
      title: "3. Excessive tuning (finetune-all) hurts biomedical embeddings",
      verdict: c3.length > 0 ? combine(c3.map((x) => x.verdict)) : "cannot be tested",
      note: "Judged on BioBERT, per task and source: finetune-all (embeddings trained too) must be clearly worse than finetune-conv under the same fine-tuning settings. BERT, OpenAI and one-hot are shown for contrast (not part of the verdict).",
      details: c3.length > 0 ? [...c3.map((x) => x.detail), ...c3contrast] : ["no finetune-all results"],
    },
  ];
}

/** Every (task, source) table of the main grids at the full target size, with an arm lookup in it. */
function forEachSetting(
  bin: SpecRun | undefined,
  four: SpecRun | undefined,
  fn: (
    task: string,
    source: string,
    arm: (scenario: string, embedding: string) => ArmData | undefined,
  ) => void,
): void {
  for (const [run, task] of [
    [bin, BINARY],
    [four, FOUR],
  ] as const) {
    if (!run) continue;
    for (const s of SOURCES) {
      const t = findTable(run.ctx, task, s, FULL);
      if (t) fn(task, s, (sc, e) => findArm(run.ctx.agg, t, sc, e));
    }
  }
}

function embeddingArms(
  run: SpecRun,
  table: NonNullable<ReturnType<typeof findTable>>,
  scenario: string,
): Map<string, ArmData> {
  const m = new Map<string, ArmData>();
  for (const a of table.arms) {
    if (a.arm.scenario === scenario && a.arm.model === "cnn" && a.arm.recalibration === "none")
      m.set(a.arm.embedding, armData(run.ctx.agg, table, a));
  }
  return m;
}

const CURVE_SCENARIOS = ["local", "source-only", "finetune-dense", "finetune-conv"] as const;

/**
 * The learning curve: where model-based transfer (the better of finetune-dense and finetune-conv by
 * mean) beats target-only training, per embedding, at the curve spec's sizes and the full pool.
 */
function curveLines(curve?: SpecRun, four?: SpecRun): string[] {
  if (!curve) return ["(no learning-curve results)"];
  // The curve spec's sizes (its "all" table holds only source-only, which uses no target data),
  // then the full pool from the main grid.
  const curveTables = curve.ctx.agg.tables
    .filter((t) => t.key.task === FOUR && t.key.source === "source-same" && t.key.targetSize !== FULL)
    .sort((a, b) => compareSizes(a.key.targetSize, b.key.targetSize));
  const points: { size: number; run: SpecRun; table: ReportTable }[] = curveTables.map((table) => ({
    size: sizeOf(table),
    run: curve,
    table,
  }));
  const full = four ? findTable(four.ctx, FOUR, "source-same", FULL) : undefined;
  if (four && full) points.push({ size: POOL, run: four, table: full });
  const sourceOnly = findTable(curve.ctx, FOUR, "source-same", FULL) ?? full;
  const embeddings = [
    ...new Set(
      curveTables.flatMap((t) => t.arms.filter((a) => a.arm.model === "cnn").map((a) => a.arm.embedding)),
    ),
  ];
  const lines = [
    `Learning curve (4-class, same-setting source): target-only training against the source model used as is and fine-tuned at the target, at each target training size (${points.map((p) => p.size.toLocaleString("en-US")).join(", ")}; the full pool from \`${INFLUENZA_SPECS.fourMain}\`; the source model used as is is the same at every size). Δ = the better fine-tuned arm (by mean) − local, mean over seeds, with the paired test over seeds.`,
    "",
    "| Target size | Embedding | local | source-only | finetune-dense | finetune-conv | Δ fine-tuned − local |",
    "| --- | --- | --- | --- | --- | --- | --- |",
  ];
  const wins = new Map<string, number[]>(embeddings.map((e) => [e, []]));
  const losses = new Map<string, number[]>(embeddings.map((e) => [e, []]));
  for (const p of points) {
    for (const e of embeddings) {
      const agg = p.run.ctx.agg;
      const l = findArm(agg, p.table, "local", e);
      const ft = [findArm(agg, p.table, "finetune-dense", e), findArm(agg, p.table, "finetune-conv", e)]
        .filter((x): x is ArmData => x !== undefined)
        .sort((a, b) => armMean(b) - armMean(a))[0];
      let delta = "—";
      if (l && ft) {
        const c = compareArms(ft, l);
        if (c.direction === "higher") wins.get(e)!.push(p.size);
        if (c.direction === "lower") losses.get(e)!.push(p.size);
        delta = `${signed(c.diff)}${c.direction === "tie" ? "" : ` (${phrase(c.direction)})`}`;
      }
      // The source model does not depend on the target size: one source-only number per embedding.
      const cells = CURVE_SCENARIOS.map((sc) =>
        armText(findArmResult(sc === "source-only" ? sourceOnly : p.table, sc, e)),
      );
      lines.push(
        `| ${p.size.toLocaleString("en-US")} | ${e} | ${[...cells, delta].map(cellText).join(" | ")} |`,
      );
    }
  }
  lines.push("");
  const below = points.map((p) => p.size).filter((n) => n < DTL_ANCHOR_CROSSOVER);
  let reproduced = 0;
  for (const e of embeddings) {
    const wonBelow = wins.get(e)!.filter((n) => n < DTL_ANCHOR_CROSSOVER);
    const full = wonBelow.length === below.length && below.length > 0;
    if (full) reproduced++;
    lines.push(
      `- ${e}: fine-tuned transfer clearly beats target-only at sizes ${list(wins.get(e)!)}; clearly loses at ${list(losses.get(e)!)}. Below ${DTL_ANCHOR_CROSSOVER.toLocaleString("en-US")}: ${wonBelow.length} of ${below.length} sizes clearly better — the DTL finding (transfer wins below 1,000) ${full ? "is reproduced" : wonBelow.length > 0 ? "is partly reproduced" : "is not reproduced"}.`,
    );
  }
  lines.push(
    "",
    `The DTL finding is reproduced in full with ${reproduced} of ${embeddings.length} embeddings.`,
  );
  return lines;
}

function sizeOf(t: ReportTable): number {
  return t.key.targetSize === "all" ? POOL : t.key.targetSize;
}

/** What the CNN arms trained with, in words, from the spec's settings. */
function scheduleLines(run?: SpecRun): string[] {
  if (!run) return [];
  const { training, finetuning } = run.settings;
  const paper = isPaperSchedule(training);
  const ftPaper =
    finetuning.epochs === 50 && finetuning.itersPerEpoch === 100 && finetuning.earlyStoppingPatience === null;
  return [
    `Training (local, pooled and the source models): ${scheduleText(training)}${paper ? " — the paper's schedule" : " (the paper: SGD lr 0.001, momentum 0.9 Nesterov, weight decay 0.001, 50 × 100 iterations of 32)"}. Fine-tuning (\`finetune-dense\`, \`finetune-conv\` and \`finetune-all\` alike): ${scheduleText(finetuning)}${ftPaper ? "." : ". The paper fine-tunes for 50 × 100 iterations; a transferred model starts near an optimum, and the shorter schedule keeps `npm run reproduce` within its 20-minute budget on two CPU cores. All three fine-tuning arms share these settings, so claim 3 compares like with like."}`,
    "",
    "`finetune-all` trains the embedding matrix as well (768 dimensions for BERT and BioBERT, 1,536 for OpenAI). SGD is rotation-invariant, so it runs exactly in the span of the initial token vectors and conv filters (at most vocabulary + 100 dimensions; `src/model/engine-subspace.ts`, checked against plain D-space training in the tests).",
  ];
}

function isPaperSchedule(t: TrainSettings): boolean {
  return (
    t.optimizer === "sgd" &&
    t.lr === PAPER_SETTINGS.lr &&
    t.momentum === PAPER_SETTINGS.momentum &&
    t.nesterov === PAPER_SETTINGS.nesterov &&
    t.weightDecay === PAPER_SETTINGS.weightDecay &&
    t.batchSize === PAPER_SETTINGS.batchSize &&
    t.epochs === PAPER_SETTINGS.epochs &&
    t.itersPerEpoch === PAPER_SETTINGS.itersPerEpoch &&
    t.earlyStoppingPatience === null
  );
}

function logisticLines(bin?: SpecRun, binLog?: SpecRun, four?: SpecRun, fourLog?: SpecRun): string[] {
  const lines: string[] = [];
  for (const [main, log, task] of [
    [bin, binLog, BINARY],
    [four, fourLog, FOUR],
  ] as const) {
    if (!main || !log) continue;
    const tm = findTable(main.ctx, task, "source-same", FULL);
    const tl = findTable(log.ctx, task, "source-same", FULL);
    const bestCnn = bestArm(tm, ["local"]);
    const logOne = tl ? findArm(log.ctx.agg, tl, "local", "onehot", "logistic") : undefined;
    const logBio = tl ? findArm(log.ctx.agg, tl, "local", BIOMEDICAL, "logistic") : undefined;
    if (!tm || !tl || !bestCnn || !logOne) continue;
    const cnn = armData(main.ctx.agg, tm, bestCnn);
    const c = compareArms(cnn, logOne);
    const verdict = phrase(c.direction, {
      higher: "the CNN is clearly better",
      lower: "the plain logistic regression is clearly better than the CNN",
      tie: "they are not distinguishable",
    });
    lines.push(
      `- ${task}, target-only: best CNN (${bestCnn.arm.embedding}) ${meanText(cnn)} vs logistic regression on one-hot tokens ${meanText(logOne)}${logBio ? ` (on BioBERT: ${meanText(logBio)})` : ""}; Δ CNN − logistic ${signed(c.diff)} (${c.test}): ${verdict}.`,
    );
  }
  const settings = (binLog ?? fourLog)?.settings.baseline;
  const cnnSettings = (bin ?? four)?.settings.training;
  if (settings && cnnSettings)
    lines.push(
      `- Settings: the logistic baseline is convex and is fitted to convergence with its own settings (${scheduleText(settings)}); the CNN with ${isPaperSchedule(cnnSettings) ? "the paper's schedule" : scheduleText(cnnSettings)}.`,
    );
  lines.push(
    `- For reference, the project brief measured on the same data (influenza vs rest): logistic regression on one-hot tokens ${BRIEF_LOGISTIC_ONEHOT}, the PyTorch CNN with BERT ${BRIEF_TORCH_CNN_BERT}. On this task the findings carry most of the signal and a linear model on one-hot tokens is a strong baseline; the CNN's advantage, if any, lies in transfer across vocabularies, not in local accuracy.`,
  );
  return lines;
}

function summaryParagraph(
  four: SpecRun | undefined,
  claims: ClaimResult[],
  bin?: SpecRun,
  binLog?: SpecRun,
): string {
  const parts: string[] = [];
  const t = four ? findTable(four.ctx, FOUR, "source-same", FULL) : undefined;
  const loc = bestArm(t, ["local"]);
  const ft = bestArm(t, ["finetune-dense", "finetune-conv", "finetune-all"]);
  const so = bestArm(t, ["source-only"]);
  const po = bestArm(t, ["pooled"]);
  if (loc && ft && so && po) {
    parts.push(
      `On the 4-class task (10,000 target encounters, same-setting source, best embedding per arm) target-only training reaches macro AUROC ${loc.mean.toFixed(3)} (${loc.arm.embedding}), source-only ${so.mean.toFixed(3)} (${so.arm.embedding}), pooled ${po.mean.toFixed(3)} (${po.arm.embedding}) and fine-tuned transfer ${ft.mean.toFixed(3)} (${ft.arm.embedding}, ${ft.arm.scenario}), beside the DTL study's 0.83 for model-based transfer.`,
    );
  }
  const tb = bin ? findTable(bin.ctx, BINARY, "source-same", FULL) : undefined;
  const bl = bestArm(tb, ["local"]);
  const tl = binLog ? findTable(binLog.ctx, BINARY, "source-same", FULL) : undefined;
  const lo = tl ? findArmResult(tl, "local", "onehot", "logistic") : undefined;
  if (bl && lo) {
    parts.push(
      `On influenza vs rest the best target-only CNN (${bl.arm.embedding}) reaches ${bl.mean.toFixed(3)} and a logistic regression on one-hot tokens ${lo.mean.toFixed(3)}.`,
    );
  }
  const tr = (four ?? bin)?.settings;
  const schedule = tr
    ? `CNN training ${isPaperSchedule(tr.training) ? "follows the paper's schedule (50 × 100 iterations)" : `runs ${iterationsText(tr.training)}`}; fine-tuning ${iterationsText(tr.finetuning)}.`
    : "";
  parts.push(
    `The paper's claims, judged with paired tests over 3 seeds: (1) BioBERT best for local and direct transfer — ${claims[0].verdict}; (2) generic embeddings need fine-tuning — ${claims[1].verdict}; (3) excessive tuning hurts biomedical embeddings — ${claims[2].verdict}.${schedule ? ` ${schedule}` : ""}`,
  );
  return parts.join(" ");
}

function list(xs: number[]): string {
  return xs.length === 0 ? "none" : xs.map((x) => x.toLocaleString("en-US")).join(", ");
}
