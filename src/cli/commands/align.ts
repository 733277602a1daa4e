import type { Command } from "commander";
import { InvalidArgumentError } from "commander";
import { AlignmentSettings, alignmentMatches, type TokenMatches } from "../../concepts/alignment.js";
import type { CoverageDiagnostics } from "../../concepts/alignment-coverage.js";
import type { VocabularyToken } from "../../concepts/vocabulary.js";
import { resolveSite } from "../../data/sources.js";
import type { EmbeddingSpecInput } from "../../embed/registry.js";
import { readEmbeddingSpecArg } from "../../embed/spec-arg.js";
import { formatComparison } from "../../report/alignment-text.js";
import { ALIGN_METHODS, type AlignMethod, runAlignment } from "../../transfer/align-sites.js";
import { writeFileAtomic } from "../../util/atomic-write.js";
import { checkWritable } from "../../util/output-file.js";
import { parseInput } from "../../util/parse-input.js";
import { action } from "../run-command.js";

/**
 * `conceptbridge align`: a thin shell over transfer/align-sites.ts (runAlignment): for every target
 * token its nearest source tokens, coverage diagnostics, and accuracy against an answer key.
 */

function formatMatches(matches: TokenMatches[], limit: number): string {
  const out: string[] = [];
  for (const m of matches.slice(0, limit)) {
    const c = m.candidates.map((x) => `${x.text} (${x.score.toFixed(3)})`).join("; ");
    out.push(`${m.text}  ->  ${c || "(no candidate)"}`);
  }
  if (matches.length > limit) out.push(`... ${matches.length - limit} more (use --json for all)`);
  return `${out.join("\n")}\n`;
}

function formatCoverage(c: CoverageDiagnostics): string {
  return [
    `coverage: ${c.aboveThreshold} of ${c.targetTokens} target tokens (${(100 * c.shareAboveThreshold).toFixed(1)}%) have a source match with cosine >= ${c.threshold}; ${c.noCandidate} have no candidate`,
    `shared by key: ${c.byKey.shared} (only source ${c.byKey.onlySource}, only target ${c.byKey.onlyTarget}); by text: ${c.byText.shared} (only source ${c.byText.onlySource}, only target ${c.byText.onlyTarget})`,
    `empty texts: ${c.emptyText.source.length} source, ${c.emptyText.target.length} target; texts shared by several tokens: ${c.duplicateText.source.length} source, ${c.duplicateText.target.length} target`,
  ].join("\n");
}

/** Token filters a user can name on the command line. */
function tokenFilter(o: { system?: string; codePrefix?: string }): {
  filter?: (t: VocabularyToken) => boolean;
  description?: string;
} {
  if (!o.system && !o.codePrefix) return {};
  const parts: string[] = [];
  if (o.system) parts.push(`system ${o.system}`);
  if (o.codePrefix) parts.push(`code prefix ${o.codePrefix}`);
  return {
    filter: (t) => (!o.system || t.system === o.system) && (!o.codePrefix || t.code.startsWith(o.codePrefix)),
    description: parts.join(", "),
  };
}

export function register(program: Command): void {
  program
    .command("align")
    .description("Match every target-site token to its nearest source-site tokens in an embedding")
    .requiredOption("--source <source>", "source site, e.g. eicu:Midwest, synthetic:A, findings:<file>")
    .requiredOption("--target <source>", "target site")
    .option("--embedding <methods>", `comma-separated, any of ${ALIGN_METHODS.join(", ")}`, parseMethods, [
      "hashing",
    ] as AlignMethod[])
    .option(
      "--spec <embedding>",
      "also align with this embedding: JSON, a JSON/YAML file or a provider name (repeatable)",
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option("--top <k>", "candidates per target token", parseIntArg, 5)
    .option("--threshold <cosine>", "cosine that counts as a close match", parseFloatArg, 0.8)
    .option("--answer-key <field>", "concept metadata field identifying tokens across sites (hicl, fact)")
    .option("--system <name>", "align only tokens of this coding system (e.g. medication concepts)")
    .option("--code-prefix <prefix>", "align only tokens whose code starts with this")
    .option("--json", "print JSON (matches, coverage, scores)")
    .option("--out <file>", "also write the JSON here")
    .option("--force", "overwrite --out if it exists")
    .action(
      action(
        async (o: {
          source: string;
          target: string;
          embedding: AlignMethod[];
          spec: string[];
          top: number;
          threshold: number;
          answerKey?: string;
          system?: string;
          codePrefix?: string;
          json?: boolean;
          out?: string;
          force?: boolean;
        }) => {
          if (o.out) checkWritable(o.out, { force: o.force, flag: "--out" });
          const settings = parseInput(
            AlignmentSettings,
            { top: o.top, threshold: o.threshold },
            { field: "--top/--threshold" },
          );
          const [source, target] = [await resolveSite(o.source), await resolveSite(o.target)];
          const f = tokenFilter(o);
          const specs: { name: string; spec: EmbeddingSpecInput }[] = [];
          for (const v of o.spec) {
            const spec = await readEmbeddingSpecArg(v);
            if (spec) specs.push({ name: `spec:${spec.provider}`, spec });
          }
          const run = await runAlignment(source, target, {
            methods: o.embedding,
            specs,
            settings,
            ...(f.filter ? { filter: f.filter, filterDescription: f.description } : {}),
            ...(o.answerKey ? { answerKey: o.answerKey } : {}),
          });
          const json = {
            comparison: run.comparison,
            methods: run.methods.map((r) => ({
              method: r.method,
              providerId: r.providerId ?? null,
              coverage: r.coverage,
              score: r.score ?? null,
              matches: alignmentMatches(r.alignment),
            })),
          };
          const text = `${JSON.stringify(json, null, 2)}\n`;
          if (o.out) await writeFileAtomic(o.out, text);
          if (o.json) {
            process.stdout.write(text);
            return;
          }
          for (const r of run.methods) {
            process.stdout.write(`\n== ${r.method} ==\n${formatCoverage(r.coverage)}\n`);
            if (run.methods.length === 1)
              process.stdout.write(formatMatches(alignmentMatches(r.alignment), 30));
          }
          if (run.comparison) process.stdout.write(`\n${formatComparison(run.comparison)}`);
        },
      ),
    );
}

function parseMethods(v: string): AlignMethod[] {
  const out: AlignMethod[] = [];
  for (const m of v.split(",").map((x) => x.trim())) {
    if (!(ALIGN_METHODS as readonly string[]).includes(m)) {
      throw new InvalidArgumentError(`unknown method "${m}" (one of ${ALIGN_METHODS.join(", ")})`);
    }
    out.push(m as AlignMethod);
  }
  return out;
}

function parseIntArg(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("must be a positive integer");
  return n;
}

function parseFloatArg(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError("must be a number");
  return n;
}
