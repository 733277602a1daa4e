import { type Aggregation, type ReportTable, rowLabel, sizeLabel } from "./aggregate.js";
import type { Provenance } from "./provenance.js";
import type { ReportSettings } from "./settings.js";
import { suppressCount } from "./suppress.js";

/**
 * Where the data cannot carry a claim, said next to the claim: checks that run on every report
 * (from the results and the run's data checks in provenance.json), each naming the cells it
 * affects. The CLI prints the same list (formatWarnings).
 */

export type WarningCode =
  | "small-sample"
  | "perfect-validation"
  | "patient-overlap"
  | "degenerate-embedding"
  | "negation-erased"
  | "under-trained"
  | "best-epoch-last"
  | "low-coverage"
  | "failed-cells";

export interface ReportWarning {
  code: WarningCode;
  /** One line: what is wrong. */
  title: string;
  /** Why it matters and what the report does about it. */
  detail: string;
  /** The cells affected, in words ("influenza-vs-rest A → B, n = 200: all arms"). */
  affects: string[];
}

/** A calibration slope above this: predictions far less spread than the outcomes (under-fitted). */
export const UNDER_TRAINED_SLOPE = 2;
/** Exact-token coverage below this: a one-hot model from the source reads little of the target. */
export const LOW_COVERAGE = 0.5;
/** Mean pairwise cosine above this: the vectors hardly differ (embed/diagnostics.ts uses 0.95). */
export const DEGENERATE_COSINE = 0.95;

export function collectWarnings(
  agg: Aggregation,
  provenance: Provenance,
  settings: ReportSettings,
): ReportWarning[] {
  const out: ReportWarning[] = [];
  const th = settings.smallCellThreshold;
  const tableName = (t: ReportTable) => `${t.key.task} ${t.direction}, n = ${sizeLabel(t.key.targetSize)}`;

  const small = agg.tables.filter((t) => t.smallSample);
  if (small.length > 0) {
    out.push({
      code: "small-sample",
      title: `Too few events to rank arms in ${small.length} table${small.length > 1 ? "s" : ""}`,
      detail: `A test set with fewer than ${settings.minTestEvents} events (or non-events, or members of a class) cannot tell arms apart: AUROC intervals are shown, but no arm is marked ▲/▼ there, the recommendation's verdict is withheld, and a validation AUROC of 1.0 on such data means little.`,
      affects: small.map((t) => `${tableName(t)}: all arms`),
    });
  }

  const perfect = new Map<string, string[]>();
  for (const t of agg.tables) {
    for (const a of t.arms) {
      if (a.seeds.some((s) => s.bestValidationAuroc !== null && s.bestValidationAuroc >= 0.9995)) {
        perfect.set(tableName(t), [
          ...(perfect.get(tableName(t)) ?? []),
          `${rowLabel(a.arm)} · ${a.arm.embedding}`,
        ]);
      }
    }
  }
  if (perfect.size > 0) {
    out.push({
      code: "perfect-validation",
      title: "Validation AUROC of 1.0",
      detail:
        "Model selection saw a perfect ranking on its validation split: with few validation events that is chance, and the epoch it picked is no better than any other.",
      affects: [...perfect.entries()].map(([t, arms]) => `${t}: ${arms.join(", ")}`),
    });
  }

  const checks = provenance.checks;
  for (const g of checks?.sharedGroups ?? []) {
    if (g.shared === 0) continue;
    const pair = new Set([g.a, g.b]);
    const hit = agg.tables.filter(
      (t) => t.key.source !== null && pair.has(t.key.source) && pair.has(t.key.target),
    );
    out.push({
      code: "patient-overlap",
      title: `Patients at both sites: ${suppressCount(g.shared, th)} group ids occur at ${g.a} and ${g.b}`,
      detail:
        "The same patient (group id) in the source's training data and the target's test set lets a transferred or pooled model recognise people rather than generalise: its AUROC at the target is optimistic. Split by patient across sites, or drop the shared patients from one site.",
      affects:
        hit.length > 0
          ? hit.map((t) => `${tableName(t)}: every arm that learns from ${t.key.source}`)
          : [`${g.a} ↔ ${g.b}`],
    });
  }

  const embeddingsIn = new Set(agg.tables.flatMap((t) => t.embeddings));
  for (const e of checks?.embeddings ?? []) {
    if (!embeddingsIn.has(e.embedding)) continue;
    const affects = agg.tables.filter(
      (t) => t.embeddings.includes(e.embedding) && (t.key.target === e.site || t.key.source === e.site),
    );
    const names =
      affects.length > 0
        ? affects.map((t) => `${tableName(t)}: ${e.embedding} column`)
        : [`${e.embedding} at ${e.site}`];
    if (e.meanCosine > DEGENERATE_COSINE || e.warnings.includes("anisotropic")) {
      out.push({
        code: "degenerate-embedding",
        title: `Near-degenerate embedding table: ${e.embedding} at ${e.site} (mean pairwise cosine ${e.meanCosine.toFixed(3)}, effective rank ${e.effectiveRank.toFixed(1)} of ${e.dimension})`,
        detail:
          "Almost all vectors point the same way, so concepts are hard to tell apart and a model must learn from tiny differences; results with this embedding say little about the embedding model itself. `postprocess: [center]` or [remove-top-k] may help.",
        affects: names,
      });
    }
    if (e.warnings.includes("negation-erased") && e.negationCosine !== null) {
      out.push({
        code: "negation-erased",
        title: `${e.embedding} at ${e.site} barely tells a finding from its absence ("X" vs "Not X" cosine ${e.negationCosine.toFixed(3)})`,
        detail:
          "Present and absent findings get nearly the same vector, which is the information the task needs most.",
        affects: names,
      });
    }
  }

  const timid: string[] = [];
  const lastEpoch: string[] = [];
  for (const t of agg.tables) {
    for (const a of t.arms) {
      if (a.arm.recalibration !== "none") continue;
      const slopes = a.seeds
        .map((s) => s.metrics?.calibrationSlope)
        .filter((x): x is number => x !== undefined);
      const worst = slopes.length > 0 ? Math.max(...slopes) : Number.NaN;
      if (worst > UNDER_TRAINED_SLOPE) {
        timid.push(`${tableName(t)}: ${rowLabel(a.arm)} · ${a.arm.embedding} (slope ${worst.toFixed(1)})`);
      }
      if (a.seeds.some((s) => s.bestEpoch !== null && s.epochs !== null && s.bestEpoch >= s.epochs)) {
        lastEpoch.push(`${tableName(t)}: ${rowLabel(a.arm)} · ${a.arm.embedding}`);
      }
    }
  }
  if (timid.length > 0) {
    out.push({
      code: "under-trained",
      title: `Calibration slope above ${UNDER_TRAINED_SLOPE} in ${timid.length} arm${timid.length > 1 ? "s" : ""}: predictions far less spread than the outcomes`,
      detail:
        "A slope far above 1 is the mark of a model that stopped learning early (too few iterations, too small a learning rate): its ranking may still improve with more training, so its AUROC understates the approach.",
      affects: timid,
    });
  }
  if (lastEpoch.length > 0) {
    out.push({
      code: "best-epoch-last",
      title: "The best validation epoch was the last one",
      detail:
        "Validation AUROC was still rising when training stopped: more epochs would likely help these arms.",
      affects: lastEpoch,
    });
  }

  const onehot = new Set(
    Object.entries(provenance.embeddingProviders ?? {})
      .filter(([, id]) => /onehot/i.test(id))
      .map(([name]) => name),
  );
  for (const c of checks?.coverage ?? []) {
    if (c.occurrences >= LOW_COVERAGE) continue;
    const hit = agg.tables.filter((t) => t.key.source === c.source && t.key.target === c.target);
    if (hit.length === 0) continue;
    const exact = [...onehot].filter((e) => hit.some((t) => t.embeddings.includes(e)));
    out.push({
      code: "low-coverage",
      title: `Low vocabulary coverage ${c.source} → ${c.target}: ${(100 * c.occurrences).toFixed(0)}% of ${c.target}'s token occurrences (${(100 * c.tokens).toFixed(0)}% of its tokens) have the same code at ${c.source}`,
      detail:
        "A model that matches codes exactly (one-hot) reads only that share of the target's data after transfer; text embeddings have to bridge the rest, so differences between embeddings here are about vocabulary, not only about the model.",
      affects: hit.map(
        (t) =>
          `${tableName(t)}: ${exact.length > 0 ? `${exact.join(", ")} column` : "every exact-match arm"}`,
      ),
    });
  }

  if (agg.failures.length > 0) {
    out.push({
      code: "failed-cells",
      title: `${agg.failures.length} cell${agg.failures.length > 1 ? "s" : ""} failed and ${agg.failures.length > 1 ? "are" : "is"} missing from the tables`,
      detail:
        "Their error messages are in the results store (they can quote input data), listed under Failed cells.",
      affects: agg.failures.map(
        (f) =>
          `${f.task} ${f.source ?? "—"} → ${f.target}, n = ${sizeLabel(f.targetSize)}: ${f.scenario}${f.model === "logistic" ? " (logistic)" : ""} · ${f.embedding}, seed ${f.seed}`,
      ),
    });
  }
  return out;
}

/** The warnings as plain text (the CLI prints this after the tables). */
export function formatWarnings(warnings: readonly ReportWarning[], maxAffects = 6): string {
  if (warnings.length === 0) return "Warnings: none.\n";
  const out = [`Warnings (${warnings.length}):`];
  for (const w of warnings) {
    out.push(`  ! ${w.title}`, `    ${w.detail}`);
    const shown = w.affects.slice(0, maxAffects);
    for (const a of shown) out.push(`    - ${a}`);
    if (w.affects.length > shown.length) out.push(`    - … and ${w.affects.length - shown.length} more`);
  }
  return `${out.join("\n")}\n`;
}
