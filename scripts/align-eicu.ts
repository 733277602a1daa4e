/**
 * Cross-site drug-name alignment on the eICU demo: every South drug name matched to its nearest
 * Midwest drug names, scored by HICL code (the standard drug code both regions record), for exact
 * text match, one-hot keys, hashing and co-occurrence embeddings.
 *
 *   npx tsx scripts/align-eicu.ts [--source Midwest] [--target South] [--json out.json]
 *
 * Prints the table; with --json also writes the AlignmentComparison structure (the report's data).
 */
import { parseArgs } from "node:util";
import { ALIGN_METHODS, formatComparison, runAlignment } from "../src/cli/commands/align.js";
import { DEFAULT_ALIGNMENT } from "../src/concepts/alignment.js";
import { resolveSite } from "../src/data/sources.js";
import { writeFileAtomic } from "../src/util/atomic-write.js";

const { values } = parseArgs({
  options: {
    source: { type: "string", default: "Midwest" },
    target: { type: "string", default: "South" },
    json: { type: "string" },
  },
});

const source = await resolveSite(`eicu:${values.source}`);
const target = await resolveSite(`eicu:${values.target}`);
const run = await runAlignment(source, target, {
  methods: ALIGN_METHODS,
  settings: DEFAULT_ALIGNMENT,
  filter: (t) => t.system === "eICU.drugname",
  filterDescription: "drug names (medication concepts, system eICU.drugname)",
  answerKey: "hicl",
});
if (!run.comparison) throw new Error("no comparison");
process.stdout.write(formatComparison(run.comparison));
if (values.json) await writeFileAtomic(values.json, `${JSON.stringify(run.comparison, null, 2)}\n`);
