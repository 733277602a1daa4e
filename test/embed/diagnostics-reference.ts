import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../src/util/paths.js";

interface Figures {
  meanCosine: number;
  effectiveRank: number;
  negationCosine: number | null;
}
interface RefEntry {
  tokens: number;
  pairs: number;
  raw: Figures;
  centered: Figures;
}
/** numpy's figures: scripts/embedding-diagnostics-reference.py. */
export const REFERENCE = JSON.parse(
  readFileSync(join(PROJECT_ROOT, "test", "embed", "fixtures", "diagnostics-reference.json"), "utf8"),
) as Record<string, { all: RefEntry; "influenza-dtl": RefEntry }>;

/** The TypeScript figures equal numpy's to 0.01 (they agree to 1e-6 and better). */
export function assertMatches(got: { raw: Figures; centered: Figures }, ref: RefEntry, what: string): void {
  for (const space of ["raw", "centered"] as const) {
    for (const k of ["meanCosine", "effectiveRank", "negationCosine"] as const) {
      const a = got[space][k];
      const b = ref[space][k];
      assert.ok(
        a !== null && b !== null && Math.abs(a - b) < 1e-6,
        `${what} ${space}.${k}: ${a} vs numpy ${b}`,
      );
    }
  }
}
