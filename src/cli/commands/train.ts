import type { Command } from "commander";
import { InvalidArgumentError } from "commander";
import { encodeAllEncounters, encodeDataset } from "../../concepts/encoded-site.js";
import { resolveSite } from "../../data/sources.js";
import { type TaskSpec, taskClasses, taskLabels } from "../../data/task.js";
import { embedSite } from "../../embed/embedded-site.js";
import { createProvider } from "../../embed/registry.js";
import { readEmbeddingSpecArg } from "../../embed/spec-arg.js";
import { saveModel } from "../../model/model-file.js";
import { RECIPE_NAMES, type RecipeName } from "../../model/train-settings.js";
import { trainAtSite } from "../../transfer/at-site.js";
import { InputError } from "../../util/errors.js";
import { checkWritable } from "../../util/output-file.js";
import { createProgress } from "../../util/progress.js";
import { action } from "../run-command.js";

/**
 * `conceptbridge train`: the first step of the travel workflow, run at the source site. Trains the
 * paper's CNN (or the logistic baseline) on the site's own labeled encounters with the library's
 * trainAtSite (the experiment's source-model path) and writes a model file, which `bundle export`
 * packs for another site. Nothing but weights and the vocabulary's texts is written.
 */
interface TrainCliOptions {
  out: string;
  catalog?: string;
  labelColumn?: string;
  positive?: string;
  embedding?: string;
  model: "cnn" | "logistic";
  seed?: number;
  epochs?: number;
  force?: boolean;
  recipe: RecipeName;
}

export function parseRecipe(v: string): RecipeName {
  if (!(RECIPE_NAMES as readonly string[]).includes(v))
    throw new InvalidArgumentError(`must be one of ${RECIPE_NAMES.join(", ")}`);
  return v as RecipeName;
}

export const positiveInt = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
  return n;
};

export const nonNegativeInt = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
  return n;
};

export function register(program: Command): void {
  program
    .command("train")
    .description("train a model at one site and write it as a model file (see `bundle export`)")
    .argument(
      "<source>",
      "the site's data: a findings CSV (with --catalog), event-table folder, eicu:<region>, synthetic:<site>",
    )
    .requiredOption("-o, --out <model.json>", "model file to write")
    .option("--force", "overwrite --out if it exists")
    .option("--catalog <file>", "concept catalog for findings tables")
    .option("--label-column <name>", "label column of findings tables", "diagnosis")
    .option("--positive <class>", "binary task: this class vs the rest (default: all classes, multi-class)")
    .option(
      "--embedding <spec>",
      "embedding: a provider name (hashing, onehot) or a JSON/YAML spec file",
      "hashing",
    )
    .option("--model <kind>", "cnn (the paper's) or logistic (the baseline)", "cnn")
    .option("--seed <n>", "seed for the validation split and training", nonNegativeInt("--seed"))
    .option("--epochs <n>", "training epochs at most (default: the recipe's, 50)", positiveInt("--epochs"))
    .option("--recipe <name>", `training recipe: ${RECIPE_NAMES.join(" or ")}`, parseRecipe, "converged")
    .action(
      action(async (source: string, o: TrainCliOptions) => {
        if (o.model !== "cnn" && o.model !== "logistic") {
          throw new InputError(`unknown model "${o.model}" (cnn or logistic)`, { field: "--model" });
        }
        // Refused before any work, not after the training it would throw away.
        checkWritable(o.out, { force: o.force, flag: "--out" });
        const ds = await resolveSite(source, {
          ...(o.catalog !== undefined ? { catalog: o.catalog } : {}),
          ...(o.labelColumn !== undefined ? { labelColumn: o.labelColumn } : {}),
        });
        const task: TaskSpec =
          o.positive !== undefined
            ? { type: "binary", name: o.positive, positive: o.positive }
            : { type: "multiclass", name: "classes" };
        const classes = taskClasses(task, [ds]);
        const encoded = encodeDataset(ds, taskLabels(task, ds, classes));
        const spec = (await readEmbeddingSpecArg(o.embedding ?? "hashing")) ?? {
          provider: "hashing" as const,
        };
        const provider = await createProvider(spec, {
          sourceVocabulary: { site: ds.name, tokens: encoded.vocabulary },
          // Co-occurrence learns from every encounter of the site, labeled or not.
          fitData: {
            vocab: { site: ds.name, tokens: encoded.vocabulary },
            seqs: encodeAllEncounters(ds).seqs,
          },
        });
        const site = await embedSite(encoded, provider);
        // The bar's total is the epochs training reports: a one-pass epoch recipe runs more, shorter ones.
        let progress: ReturnType<typeof createProgress> | undefined;
        const r = trainAtSite(site, classes, {
          model: o.model,
          recipe: o.recipe,
          settings: {
            ...(o.seed !== undefined ? { seed: o.seed } : {}),
            ...(o.epochs !== undefined ? { epochs: o.epochs } : {}),
          },
          onEpoch: (_e, n, auroc) => {
            progress ??= createProgress({ label: "training", total: n });
            progress.tick(1, `val AUROC ${auroc.toFixed(3)}`);
          },
        });
        progress?.done();
        await saveModel(o.out, r.snapshot);
        process.stdout.write(
          `trained ${o.model} on ${ds.name}: best validation AUROC ${r.bestValidationAuroc.toFixed(4)} (epoch ${r.bestEpoch}, engine ${r.engine}), ${r.seconds.toFixed(1)} s -> ${o.out}\n`,
        );
      }),
    );
}
