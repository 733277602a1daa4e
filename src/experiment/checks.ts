import { embeddingDiagnostics } from "../embed/diagnostics.js";
import type { SharedGroups, VocabularyCoverage } from "../eval/data-checks.js";
import type { PreparedExperiment } from "./prepare.js";
import type { LoadedSpec } from "./spec.js";

/**
 * The data checks of a run, as provenance.json stores them for the report's warnings: patients at
 * two sites and vocabulary coverage (computed in prepare.ts) and each embedding table's diagnostics
 * per site (src/embed/diagnostics.ts: mean pairwise cosine, effective rank, negation cosine).
 * Aggregates only.
 */
export interface EmbeddingCheck {
  embedding: string;
  site: string;
  meanCosine: number;
  effectiveRank: number;
  negationCosine: number | null;
  dimension: number;
  /** Warning codes of embeddingDiagnostics ("anisotropic", "negation-erased", "missing-vectors"). */
  warnings: string[];
}

export interface ExperimentChecks {
  sharedGroups: SharedGroups[];
  coverage: VocabularyCoverage[];
  embeddings: EmbeddingCheck[];
}

/** Providers whose vectors are orthogonal by construction: nothing to diagnose. */
const STRUCTURAL = new Set(["onehot"]);

export async function experimentChecks(
  loaded: LoadedSpec,
  prepared: PreparedExperiment,
): Promise<ExperimentChecks> {
  const embeddings: EmbeddingCheck[] = [];
  for (const [name, spec] of Object.entries(loaded.spec.embeddings)) {
    if (STRUCTURAL.has(spec.provider)) continue;
    for (const [site, enc] of prepared.sites) {
      const table = await prepared.embeddingTable(name, { sites: [site] }, site);
      const m = table.matrix;
      // Drop the padding row 0: diagnostics see the vocabulary's own vectors.
      const rows = { rows: m.rows - 1, dim: m.dim, data: m.data.subarray(m.dim) };
      // 500 rows bound the effective rank's eigenproblem (an even stride through the vocabulary).
      const d = embeddingDiagnostics(rows, enc.vocabulary, { maxRankRows: 500, neighbourExamples: 0 });
      embeddings.push({
        embedding: name,
        site,
        meanCosine: round(d.stats.raw.meanCosine),
        effectiveRank: round(d.stats.raw.effectiveRank),
        negationCosine: d.stats.raw.negationCosine === null ? null : round(d.stats.raw.negationCosine),
        dimension: m.dim,
        warnings: d.warnings.map((w) => w.code),
      });
    }
  }
  return {
    sharedGroups: prepared.checks.sharedGroups,
    coverage: prepared.checks.coverage.map((c) => ({
      ...c,
      tokens: round(c.tokens),
      occurrences: round(c.occurrences),
    })),
    embeddings,
  };
}

function round(x: number): number {
  return Number.isFinite(x) ? Math.round(x * 1e4) / 1e4 : x;
}
