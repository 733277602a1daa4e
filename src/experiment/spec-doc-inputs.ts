import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { PROJECT_ROOT } from "../util/paths.js";

/**
 * The example specs docs/spec.md draws its examples from: a fixed list, so adding a spec to
 * examples/ does not change the reference (examples/synthetic.yaml is also shown in full).
 */
export const SPEC_DOC_EXAMPLES = [
  "examples/synthetic.yaml",
  "examples/paper-influenza.yaml",
  "examples/eicu-regions.yaml",
  "examples/paper-grid.yaml",
] as const;

export async function specDocInputs(): Promise<{
  examples: unknown[];
  shown: { name: string; text: string };
}> {
  const texts = SPEC_DOC_EXAMPLES.map((f) => readFileSync(join(PROJECT_ROOT, f), "utf8"));
  return {
    examples: texts.map((t) => parse(t)),
    shown: { name: SPEC_DOC_EXAMPLES[0], text: texts[0] },
  };
}
