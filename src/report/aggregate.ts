import type { CellResult, MetricSummary } from "../experiment/results.js";
import type { ReportSettings } from "./settings.js";
import {
  adjustPValues,
  type BinaryPredictions,
  binaryAuroc,
  type ClassPredictions,
  delongInterval,
  hasBothClasses,
  multiclassAuroc,
  pairedBootstrapVersusReference,
  pairedDelong,
  seedSpread,
} from "./stats.js";

/**
 * Turns result cells into the numbers the report shows: one table per task, direction (source ->
 * target) and target training size; in it one arm per scenario x embedding x recalibration, with
 * per-seed AUROC, DeLong CI and a paired DeLong test against the reference (local) arm.
 *
 * Choices (also stated in the report's "how to read" note):
 * - Several seeds: the cell value is the mean AUROC over seeds, "sd" the sample sd (n - 1); the
 *   bracket is the mean of the per-seed 95% DeLong bounds, i.e. the test-set uncertainty of a
 *   typical single run (the sd shows training/seed variability on top of it).
 * - Reference: the reference scenario's arm with the same embedding, else the baseline embedding,
 *   else the first embedding; always without recalibration; same target, size and seed.
 * - Test: paired DeLong (binary tasks) or a paired stratified bootstrap of the macro one-vs-rest
 *   AUROC difference (multi-class tasks) when both arms scored the same test set (labels equal
 *   element-wise); Holm-adjusted over the arms of one table, seed and recalibration setting (or
 *   unadjusted, by setting). No test at all when the test set has fewer than `minTestEvents` events
 *   in a class (the table is then `smallSample`: too few events to rank arms).
 *   An arm is marked when the adjusted p < alpha in every tested seed in the same direction;
 *   "partial" when only in some.
 */

export type TargetSize = number | "all";
export type Recalibration = "none" | "intercept" | "logistic";

export interface TableKey {
  task: string;
  /** null for tables of target-only arms with no transfer direction. */
  source: string | null;
  target: string;
  targetSize: TargetSize;
}

export type ModelKind = "cnn" | "logistic";

export interface ArmKey {
  scenario: string;
  /** "cnn" (the concept CNN) or "logistic" (the baseline on the mean token embedding). */
  model: ModelKind;
  embedding: string;
  recalibration: Recalibration;
}

export interface SeedComparison {
  referenceEmbedding: string;
  /** AUROC(arm) - AUROC(reference). */
  diff: number;
  p: number;
  pAdjusted: number;
  significant: boolean;
}

export interface SeedResult {
  seed: number;
  auroc: number;
  ci: [number, number] | null;
  ciMethod: "delong" | "stored" | null;
  nTest: number | null;
  nPositive: number | null;
  /** Test-set encounters per class (in the task's class order), from stored predictions. */
  classCounts: number[] | null;
  /** Training encounters used (aggregate count), when the store records it. */
  nTrain: number | null;
  metrics: MetricSummary | null;
  before: MetricSummary | null;
  comparison: SeedComparison | null;
  /** Why there is no comparison, when there is none and the arm is not the reference. */
  comparisonNote: string | null;
  /** `auto` cells: the candidate the nested cross-validation picked and every candidate's CV AUROC. */
  selection: Selection | null;
  bestValidationAuroc: number | null;
  /** Epoch the kept model came from and the epochs run, when the cell records them (1-based). */
  bestEpoch: number | null;
  epochs: number | null;
}

export interface Selection {
  winner: string;
  scores: Record<string, number>;
}

export type Mark = "ref" | "up" | "down" | "partial" | "none" | "untested";

export interface ArmResult {
  arm: ArmKey;
  isReference: boolean;
  seeds: SeedResult[];
  mean: number;
  /** Sample sd over seeds; null with one seed. */
  sd: number | null;
  /** Mean of per-seed 95% CI bounds; null when no seed has a CI. */
  ci: [number, number] | null;
  mark: Mark;
  testedSeeds: number;
  significantSeeds: number;
  /** Mean over tested seeds of AUROC(arm) - AUROC(reference). */
  meanDiff: number | null;
}

export interface TableRow {
  scenario: string;
  model: ModelKind;
  recalibration: Recalibration;
  label: string;
  isReference: boolean;
}

export interface ReportTable {
  id: string;
  key: TableKey;
  /** "A → B", or "B (target only)". */
  direction: string;
  rows: TableRow[];
  embeddings: string[];
  arms: ArmResult[];
  binary: boolean;
  /** Positive class name (binary tasks). */
  positiveClass: string | null;
  /** Range of test-set sizes / positives over the table's cells (aggregate counts). */
  testN: [number, number] | null;
  testPositives: [number, number] | null;
  seeds: number[];
  /** Class names of the task (from stored predictions; [] when none are stored). */
  classes: string[];
  /** Smallest test-set count of any class in any seed (binary: min of positives and negatives). */
  minClassCount: number | null;
  /** Fewer than `minTestEvents` in a class: arms are not tested against each other. */
  smallSample: boolean;
  /** How arms were tested: "delong" (binary), "bootstrap" (multi-class) or "none". */
  testMethod: "delong" | "bootstrap" | "none";
}

export interface FailedCell {
  scenario: string;
  model: ModelKind;
  embedding: string;
  source: string | null;
  target: string;
  targetSize: TargetSize;
  seed: number;
  task: string;
  reason: "error" | "no metrics";
}

export interface Aggregation {
  tables: ReportTable[];
  failures: FailedCell[];
  /** Row-level predictions for curves; never serialised. Keyed by predictionKey(). */
  predictions: ReadonlyMap<string, BinaryPredictions>;
  /** Row-level multi-class predictions (N x C rows) for the paired bootstrap; never serialised. */
  classPredictions: ReadonlyMap<string, ClassPredictions>;
}

export function armLabel(arm: ArmKey): string {
  return `${rowLabel(arm)} · ${arm.embedding}`;
}

/** Table row name: scenario, "(logistic)" for the baseline model, and any recalibration. */
export function rowLabel(arm: Pick<ArmKey, "scenario" | "model" | "recalibration">): string {
  const model = arm.model === "logistic" ? " (logistic)" : "";
  const recal = arm.recalibration === "none" ? "" : ` + ${arm.recalibration} recal.`;
  return `${arm.scenario}${model}${recal}`;
}

export function predictionKey(tableId: string, arm: ArmKey, seed: number): string {
  return JSON.stringify([tableId, arm.scenario, arm.model, arm.embedding, arm.recalibration, seed]);
}

function armKeyString(arm: ArmKey): string {
  return JSON.stringify([arm.scenario, arm.model, arm.embedding, arm.recalibration]);
}

export function sameRow(a: Omit<ArmKey, "embedding">, b: Omit<ArmKey, "embedding">): boolean {
  return a.scenario === b.scenario && a.model === b.model && a.recalibration === b.recalibration;
}

export function sizeLabel(size: TargetSize): string {
  return size === "all" ? "all" : String(size);
}

export function aggregate(cells: readonly CellResult[], settings: ReportSettings): Aggregation {
  const failures: FailedCell[] = [];
  const usable: CellResult[] = [];
  for (const c of cells) {
    const failed = c.status !== "ok" ? "error" : !c.metrics && !c.predictions ? "no metrics" : null;
    if (failed) failures.push(failedCell(c, failed));
    else usable.push(c);
  }
  const scenarioOrder = firstAppearance(
    usable.map((c) => c.key.scenario),
    [settings.referenceScenario],
  );
  const embeddingOrder = firstAppearance(
    usable.map((c) => c.key.embedding),
    [settings.baselineEmbedding],
  );

  // Tables are defined by the transfer directions present; target-only cells (no source) join every
  // table with their task/target/size, or form their own when no direction reaches that target.
  const tableKeys = new Map<string, TableKey>();
  for (const c of usable) {
    if (c.key.source === undefined) continue;
    const k: TableKey = {
      task: c.key.task,
      source: c.key.source,
      target: c.key.target,
      targetSize: c.key.targetSize,
    };
    tableKeys.set(tableKeyString(k), k);
  }
  for (const c of usable) {
    if (c.key.source !== undefined) continue;
    const reached = [...tableKeys.values()].some(
      (k) =>
        k.task === c.key.task && k.target === c.key.target && k.targetSize === c.key.targetSize && k.source,
    );
    if (!reached) {
      const k: TableKey = {
        task: c.key.task,
        source: null,
        target: c.key.target,
        targetSize: c.key.targetSize,
      };
      tableKeys.set(tableKeyString(k), k);
    }
  }

  const predictions = new Map<string, BinaryPredictions>();
  const classPredictions = new Map<string, ClassPredictions>();
  const usedIds = new Set<string>();
  const tables = [...tableKeys.values()].sort(compareTableKeys).map((key) => {
    const members = usable.filter(
      (c) =>
        c.key.task === key.task &&
        c.key.target === key.target &&
        c.key.targetSize === key.targetSize &&
        (c.key.source === undefined || c.key.source === key.source),
    );
    let id = slug(
      `${key.task}-${key.source ?? "target-only"}-to-${key.target}-n${sizeLabel(key.targetSize)}`,
    );
    // Names differing only in punctuation/case could collide; ids name files, so keep them unique.
    for (let i = 2; usedIds.has(id); i++) id = `${id}-${i}`;
    usedIds.add(id);
    return buildTable(
      id,
      key,
      members,
      settings,
      scenarioOrder,
      embeddingOrder,
      predictions,
      classPredictions,
    );
  });
  return { tables, failures, predictions, classPredictions };
}

function buildTable(
  id: string,
  key: TableKey,
  cells: CellResult[],
  settings: ReportSettings,
  scenarioOrder: string[],
  embeddingOrder: string[],
  predictions: Map<string, BinaryPredictions>,
  classPredictions: Map<string, ClassPredictions>,
): ReportTable {
  const byArm = new Map<string, { arm: ArmKey; cells: CellResult[] }>();
  for (const c of cells) {
    const arm: ArmKey = {
      scenario: c.key.scenario,
      model: c.key.model,
      embedding: c.key.embedding,
      recalibration: c.key.recalibration,
    };
    const k = armKeyString(arm);
    const entry = byArm.get(k) ?? { arm, cells: [] };
    entry.cells.push(c);
    byArm.set(k, entry);
  }
  const recalOrder: Recalibration[] = ["none", "intercept", "logistic"];
  const modelOrder: ModelKind[] = ["cnn", "logistic"];
  const armEntries = [...byArm.values()].sort(
    (a, b) =>
      scenarioOrder.indexOf(a.arm.scenario) - scenarioOrder.indexOf(b.arm.scenario) ||
      modelOrder.indexOf(a.arm.model) - modelOrder.indexOf(b.arm.model) ||
      recalOrder.indexOf(a.arm.recalibration) - recalOrder.indexOf(b.arm.recalibration) ||
      embeddingOrder.indexOf(a.arm.embedding) - embeddingOrder.indexOf(b.arm.embedding),
  );

  let binary = true;
  let positiveClass: string | null = null;
  let classes: string[] = [];
  // Per arm and seed: the seed result and (binary) predictions for the paired tests.
  const perArm = armEntries.map(({ arm, cells: armCells }) => {
    const seeds = [...armCells].sort((a, b) => a.key.seed - b.key.seed);
    const results = seeds.map((c) => {
      const { result, preds, classPreds, isBinary, positive } = seedResult(c);
      if (!isBinary) binary = false;
      if (positive) positiveClass ??= positive;
      if (classes.length === 0 && c.predictions) classes = [...c.predictions.classes];
      if (preds) predictions.set(predictionKey(id, arm, c.key.seed), preds);
      if (classPreds) classPredictions.set(predictionKey(id, arm, c.key.seed), classPreds);
      return result;
    });
    return { arm, results };
  });

  // Paired tests. A family (for the Holm adjustment) is one seed and one recalibration setting:
  // recalibrated arms are the same models again, so counting them in the family of the originals
  // would only double the penalty for the same question.
  // The reference is the reference scenario's CNN (the model under study) without recalibration;
  // when only the logistic model ran that scenario, its logistic arm.
  const refModel: ModelKind = perArm.some(
    (a) => a.arm.scenario === settings.referenceScenario && a.arm.model === "cnn",
  )
    ? "cnn"
    : "logistic";
  const isRef = (a: ArmKey) =>
    a.scenario === settings.referenceScenario && a.model === refModel && a.recalibration === "none";
  const refEmbeddings = perArm.filter((a) => isRef(a.arm)).map((a) => a.arm.embedding);
  const seedsAll = [...new Set(perArm.flatMap((a) => a.results.map((r) => r.seed)))].sort((a, b) => a - b);
  const current = settings.compatibility === "current";
  const counted = perArm.flatMap((a) => a.results.map((r) => r.classCounts)).filter((c) => c !== null);
  const minClassCount = counted.length > 0 ? Math.min(...counted.flat()) : null;
  const smallSample = current && minClassCount !== null && minClassCount < settings.minTestEvents;
  const multiclassTests = current && !binary;
  for (const seed of seedsAll) {
    const family: {
      result: SeedResult;
      recal: Recalibration;
      refEmbedding: string;
      diff: number;
      p: number;
    }[] = [];
    // Multi-class arms waiting for one bootstrap per reference (all share its resamples).
    const pending = new Map<string, { result: SeedResult; recal: Recalibration; scores: number[] }[]>();
    for (const { arm, results } of perArm) {
      const result = results.find((r) => r.seed === seed);
      if (!result || isRef(arm)) continue;
      if (smallSample) {
        result.comparisonNote = `too few events in the test set to rank arms (fewer than ${settings.minTestEvents} in a class)`;
        continue;
      }
      const refEmbedding = chooseReference(arm.embedding, refEmbeddings, settings.baselineEmbedding);
      if (refEmbedding === null) {
        result.comparisonNote = `no ${settings.referenceScenario} arm in this table`;
        continue;
      }
      const refArm: ArmKey = {
        scenario: settings.referenceScenario,
        model: refModel,
        embedding: refEmbedding,
        recalibration: "none",
      };
      if (multiclassTests) {
        const a = classPredictions.get(predictionKey(id, arm, seed));
        const b = classPredictions.get(predictionKey(id, refArm, seed));
        if (!a || !b) {
          result.comparisonNote = `no stored predictions for this arm or the ${settings.referenceScenario} arm at seed ${seed}`;
        } else if (!sameLabels(a.labels, b.labels)) {
          result.comparisonNote = "different test sets: not paired";
        } else {
          const list = pending.get(refEmbedding) ?? [];
          list.push({ result, recal: arm.recalibration, scores: a.scores });
          pending.set(refEmbedding, list);
        }
        continue;
      }
      const a = predictions.get(predictionKey(id, arm, seed));
      const b = predictions.get(predictionKey(id, refArm, seed));
      if (!a || !b) {
        result.comparisonNote = binary
          ? `no binary predictions for this arm or the ${settings.referenceScenario} arm at seed ${seed}`
          : "paired DeLong test is for binary tasks";
        continue;
      }
      if (!sameLabels(a.labels, b.labels)) {
        result.comparisonNote = "different test sets: not paired";
        continue;
      }
      const t = pairedDelong(a.labels, a.scores, b.scores);
      family.push({ result, recal: arm.recalibration, refEmbedding, diff: t.diff, p: t.p });
    }
    for (const [refEmbedding, list] of pending) {
      const ref = classPredictions.get(
        predictionKey(
          id,
          {
            scenario: settings.referenceScenario,
            model: refModel,
            embedding: refEmbedding,
            recalibration: "none",
          },
          seed,
        ),
      )!;
      const tests = pairedBootstrapVersusReference(
        ref,
        list.map((l) => l.scores),
        settings.testResamples,
      );
      list.forEach((l, i) => {
        family.push({ result: l.result, recal: l.recal, refEmbedding, diff: tests[i].diff, p: tests[i].p });
      });
    }
    for (const recal of new Set(family.map((f) => f.recal))) {
      const members = family.filter((f) => f.recal === recal);
      const adjusted = adjustPValues(
        members.map((f) => f.p),
        settings.adjustment,
      );
      members.forEach((f, i) => {
        f.result.comparison = {
          referenceEmbedding: f.refEmbedding,
          diff: f.diff,
          p: f.p,
          pAdjusted: adjusted[i],
          significant: adjusted[i] < settings.alpha,
        };
      });
    }
  }

  const arms = perArm.map(({ arm, results }) => armResult(arm, results, isRef(arm)));
  const rows: TableRow[] = [];
  for (const a of arms) {
    if (!rows.some((r) => sameRow(r, a.arm))) {
      rows.push({
        scenario: a.arm.scenario,
        model: a.arm.model,
        recalibration: a.arm.recalibration,
        label: rowLabel(a.arm),
        isReference: a.isReference,
      });
    }
  }
  const embeddings = embeddingOrder.filter((e) => arms.some((a) => a.arm.embedding === e));
  const allSeeds = arms.flatMap((a) => a.seeds);
  return {
    id,
    key,
    direction: key.source === null ? `${key.target} (target only)` : `${key.source} → ${key.target}`,
    rows,
    embeddings,
    arms,
    binary,
    positiveClass: binary ? positiveClass : null,
    testN: range(allSeeds.map((s) => s.nTest)),
    testPositives: binary ? range(allSeeds.map((s) => s.nPositive)) : null,
    seeds: seedsAll,
    classes,
    minClassCount,
    smallSample,
    testMethod: smallSample ? "none" : binary ? "delong" : multiclassTests ? "bootstrap" : "none",
  };
}

function seedResult(c: CellResult): {
  result: SeedResult;
  preds: BinaryPredictions | null;
  classPreds: ClassPredictions | null;
  isBinary: boolean;
  positive: string | null;
} {
  const p = c.predictions;
  const isBinary = p ? p.classes.length === 2 : !c.metrics?.perClassAuroc;
  // A test set with one class has no AUROC: keep the stored metrics, but no CI, test or curve.
  const preds = p && isBinary && hasBothClasses(p.labels) ? binaryScores(p.labels, p.scores) : null;
  const C = p ? p.classes.length : 0;
  const classPreds =
    p && !isBinary && p.scores.length === C * p.labels.length
      ? { labels: p.labels, scores: p.scores, classes: C }
      : null;
  let classCounts: number[] | null = null;
  if (p && C >= 2) {
    classCounts = new Array(C).fill(0);
    for (const y of p.labels) if (y >= 0 && y < C) classCounts[y]++;
  }
  let auroc = c.metrics?.auroc;
  if (auroc === undefined && p) {
    if (preds) auroc = binaryAuroc(preds);
    else if (!isBinary) auroc = multiclassAuroc(p.labels, p.scores, p.classes.length);
  }
  let ci: [number, number] | null = null;
  let ciMethod: SeedResult["ciMethod"] = null;
  if (preds) {
    ci = delongInterval(preds);
    ciMethod = "delong";
  } else if (c.metrics?.aurocCI) {
    ci = c.metrics.aurocCI;
    ciMethod = "stored";
  }
  return {
    result: {
      seed: c.key.seed,
      auroc: auroc ?? Number.NaN,
      ci,
      ciMethod,
      nTest: p ? p.labels.length : (c.counts?.test ?? null),
      nPositive: preds ? preds.labels.reduce((s, y) => s + (y === 1 ? 1 : 0), 0) : null,
      classCounts,
      nTrain: c.counts?.train ?? null,
      metrics: c.metrics ?? null,
      before: c.metricsBeforeRecalibration ?? null,
      comparison: null,
      comparisonNote: null,
      selection: selectionOf(c),
      bestValidationAuroc: c.bestValidationAuroc ?? null,
      // The runner's convergence record (experiment/job.ts); older or hand-made lines may carry the
      // two numbers at the top level.
      bestEpoch: c.convergence?.bestEpoch ?? numberField(c, "bestEpoch"),
      epochs: c.convergence?.epochsRun ?? numberField(c, "epochs"),
    },
    preds,
    classPreds,
    isBinary,
    positive: p && isBinary ? p.classes[1] : null,
  };
}

/**
 * The `auto` scenario's selection record, read from the cell as the runner stores it (a field the
 * results schema may not name yet, so it is read defensively).
 */
function selectionOf(c: CellResult): Selection | null {
  const s = (c as { selection?: unknown }).selection;
  if (typeof s !== "object" || s === null) return null;
  const { winner, scores } = s as { winner?: unknown; scores?: unknown };
  if (typeof winner !== "string") return null;
  const out: Record<string, number> = {};
  if (typeof scores === "object" && scores !== null) {
    for (const [k, v] of Object.entries(scores)) if (typeof v === "number" && Number.isFinite(v)) out[k] = v;
  }
  return { winner, scores: out };
}

function numberField(c: CellResult, name: string): number | null {
  const v = (c as Record<string, unknown>)[name];
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/** Binary scores as P(class 1): N values, or the second column of N x 2 rows (both are stored). */
function binaryScores(labels: number[], scores: number[]): BinaryPredictions | null {
  if (scores.length === labels.length) return { labels, scores };
  if (scores.length === 2 * labels.length) return { labels, scores: labels.map((_, i) => scores[2 * i + 1]) };
  return null;
}

function armResult(arm: ArmKey, seeds: SeedResult[], isReference: boolean): ArmResult {
  const spread = seedSpread(seeds.map((s) => s.auroc));
  const withCi = seeds.filter((s) => s.ci !== null);
  const tested = seeds.filter((s) => s.comparison !== null);
  const sig = tested.filter((s) => s.comparison?.significant);
  const up = sig.filter((s) => (s.comparison?.diff ?? 0) > 0).length;
  const down = sig.length - up;
  let mark: Mark;
  if (isReference) mark = "ref";
  else if (tested.length === 0) mark = "untested";
  else if (up === tested.length) mark = "up";
  else if (down === tested.length) mark = "down";
  else if (sig.length > 0) mark = "partial";
  else mark = "none";
  return {
    arm,
    isReference,
    seeds,
    mean: spread.mean,
    sd: spread.sd,
    ci: withCi.length > 0 ? [mean(withCi.map((s) => s.ci![0])), mean(withCi.map((s) => s.ci![1]))] : null,
    mark,
    testedSeeds: tested.length,
    significantSeeds: sig.length,
    meanDiff: tested.length > 0 ? mean(tested.map((s) => s.comparison!.diff)) : null,
  };
}

function chooseReference(embedding: string, refEmbeddings: string[], baseline: string): string | null {
  if (refEmbeddings.includes(embedding)) return embedding;
  if (refEmbeddings.includes(baseline)) return baseline;
  return refEmbeddings[0] ?? null;
}

function failedCell(c: CellResult, reason: FailedCell["reason"]): FailedCell {
  const k = c.key;
  return {
    scenario: k.scenario,
    model: k.model,
    embedding: k.embedding,
    source: k.source ?? null,
    target: k.target,
    targetSize: k.targetSize,
    seed: k.seed,
    task: k.task,
    reason,
  };
}

function sameLabels(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export function mean(xs: readonly number[]): number {
  return xs.reduce((s, x) => s + x, 0) / xs.length;
}

function range(xs: (number | null)[]): [number, number] | null {
  const v = xs.filter((x): x is number => x !== null);
  return v.length > 0 ? [Math.min(...v), Math.max(...v)] : null;
}

function firstAppearance(values: string[], first: string[]): string[] {
  const out = first.filter((f) => values.includes(f));
  for (const v of values) if (!out.includes(v)) out.push(v);
  return out;
}

function tableKeyString(k: TableKey): string {
  return JSON.stringify([k.task, k.source, k.target, k.targetSize]);
}

function compareTableKeys(a: TableKey, b: TableKey): number {
  return (
    a.task.localeCompare(b.task) ||
    (a.source ?? "\uffff").localeCompare(b.source ?? "\uffff") ||
    a.target.localeCompare(b.target) ||
    compareSizes(a.targetSize, b.targetSize)
  );
}

/** Numeric sizes ascending, "all" last. */
export function compareSizes(a: TargetSize, b: TargetSize): number {
  if (a === b) return 0;
  if (a === "all") return 1;
  if (b === "all") return -1;
  return a - b;
}

export function slug(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}
