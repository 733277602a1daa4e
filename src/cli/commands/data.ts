import type { Command } from "commander";
import { InvalidArgumentError } from "commander";
import { formatInspect, inspectSites } from "../../data/inspect.js";
import { resolveSource } from "../../data/sources.js";
import { generateWorld } from "../../data/synthetic/world.js";
import { writeWorld } from "../../data/synthetic/write.js";
import type { SiteDataset } from "../../data/types.js";
import { InputError } from "../../util/errors.js";
import { checkWritable } from "../../util/output-file.js";
import { action } from "../run-command.js";

/**
 * `conceptbridge data inspect <source...>`: per site encounters, label counts, vocabulary size and
 * missingness; between sites the overlap of codes and texts. `--json` prints one JSON object.
 * `conceptbridge data synthesize <dir>`: write the seeded synthetic world as event tables.
 */
function int(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n)) throw new InvalidArgumentError(`${name} must be an integer`);
    return n;
  };
}

function num(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number`);
    return n;
  };
}

export interface InspectOptions {
  catalog?: string;
  labelColumn?: string;
  json?: boolean;
  smallCellThreshold?: string;
}

/** The work of `data inspect`, writing its output through `out` (stdout in the CLI). */
export async function inspectCommand(
  sources: string[],
  opts: InspectOptions,
  out: (s: string) => void,
): Promise<void> {
  const sites: SiteDataset[] = [];
  for (const source of sources) {
    sites.push(
      ...(await resolveSource(source, {
        ...(opts.catalog !== undefined ? { catalog: opts.catalog } : {}),
        ...(opts.labelColumn !== undefined ? { labelColumn: opts.labelColumn } : {}),
      })),
    );
  }
  const report = inspectSites(sites);
  const threshold = opts.smallCellThreshold === undefined ? 11 : Number(opts.smallCellThreshold);
  if (!Number.isInteger(threshold) || threshold < 1)
    throw new InputError("must be a positive integer", { field: "--small-cell-threshold" });
  out(opts.json ? `${JSON.stringify(report)}\n` : formatInspect(report, threshold));
}

export interface SynthesizeOptions {
  seed?: number;
  sites?: number;
  encounters?: number;
  shift?: number;
}

/** The work of `data synthesize`: generate the world and write it atomically to `dir`. */
export async function synthesizeCommand(dir: string, o: SynthesizeOptions): Promise<number> {
  const world = generateWorld({
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
    ...(o.sites !== undefined ? { sites: o.sites } : {}),
    ...(o.encounters !== undefined ? { encountersPerSite: o.encounters } : {}),
    ...(o.shift !== undefined ? { shift: o.shift } : {}),
  });
  await writeWorld(world, dir);
  return world.sites.length;
}

export function register(program: Command): void {
  const data = program.command("data").description("inspect site data and write the synthetic world");
  data
    .command("inspect")
    .description(
      "describe sites: a findings CSV (with --catalog), an event-table directory, a written synthetic world, " +
        "eicu[:region[,region]] or synthetic[:seed]",
    )
    .argument("<source...>", "one or more sources")
    .option("--catalog <file>", "concept catalog (code: name lines) for findings tables")
    .option("--label-column <name>", "label column of findings tables", "diagnosis")
    .option("--json", "print one JSON object instead of text")
    .option(
      "--small-cell-threshold <n>",
      "label counts below n are shown as <n (default 11; 1 shows your own site's counts in full)",
    )
    .action(
      action(async (sources: string[], opts: InspectOptions) => {
        await inspectCommand(sources, opts, (s) => process.stdout.write(s));
      }),
    );
  data
    .command("synthesize")
    .description("write the seeded synthetic multi-site world (event tables per site + mapping.json)")
    .argument(
      "<dir>",
      "output directory (an existing synthetic world there is replaced atomically with --force)",
    )
    .option("--force", "replace the synthetic world already in <dir>")
    .option("--seed <n>", "random seed", int("--seed"))
    .option("--sites <n>", "number of sites", int("--sites"))
    .option("--encounters <n>", "encounters per site", int("--encounters"))
    .option("--shift <x>", "amount of shift between sites, 0..1", num("--shift"))
    .action(
      action(async (dir: string, o: SynthesizeOptions & { force?: boolean }) => {
        checkWritable(dir, { force: o.force });
        const n = await synthesizeCommand(dir, o);
        process.stderr.write(`wrote ${n} sites to ${dir}\n`);
      }),
    );
}
