import type { Command } from "commander";
import { InvalidArgumentError } from "commander";
import { buildVocabulary, encodeEncounters } from "../../concepts/vocabulary.js";
import { resolveSite } from "../../data/sources.js";
import { stratifiedSplit } from "../../data/splits.js";
import { binaryLabels, multiclassLabels } from "../../data/task.js";
import { createProvider } from "../../embed/registry.js";
import { providerId } from "../../embed/types.js";
import { meanLogistic } from "../../model/architecture.js";
import { saveModel } from "../../model/model-file.js";
import { trainModel } from "../../model/train.js";
import { TrainSettings } from "../../model/train-settings.js";
import type { ModelArchitecture } from "../../model/types.js";
import { InputError } from "../../util/errors.js";
import { createProgress } from "../../util/progress.js";
import { action } from "../run-command.js";
import { readEmbeddingSpecArg } from "./bundle-embedding.js";
import { embedSite } from "./bundle-workflow.js";

/**
 * `conceptbridge train`: the first step of the travel workflow, run at the source site. Trains the
 * paper's CNN (or the logistic baseline) on the site's own data and writes a model file, which
 * `bundle export` packs for another site. Nothing but weights and the vocabulary's texts is written.
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
}

const positiveInt = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
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
    .option("--catalog <file>", "concept catalog for findings tables")
    .option("--label-column <name>", "label column of findings tables", "diagnosis")
    .option("--positive <class>", "binary task: this class vs the rest (default: all classes, multi-class)")
    .option(
      "--embedding <spec>",
      "embedding: a provider name (hashing, onehot) or a JSON/YAML spec file",
      "hashing",
    )
    .option("--model <kind>", "cnn (the paper's) or logistic (the baseline)", "cnn")
    .option("--seed <n>", "seed for the validation split and training", positiveInt("--seed"))
    .option("--epochs <n>", "training epochs (default: the paper's 50)", positiveInt("--epochs"))
    .action(
      action(async (source: string, o: TrainCliOptions) => {
        if (o.model !== "cnn" && o.model !== "logistic") {
          throw new InputError(`unknown model "${o.model}" (cnn or logistic)`, { field: "--model" });
        }
        const ds = await resolveSite(source, {
          ...(o.catalog !== undefined ? { catalog: o.catalog } : {}),
          ...(o.labelColumn !== undefined ? { labelColumn: o.labelColumn } : {}),
        });
        const task =
          o.positive !== undefined
            ? { labels: binaryLabels(ds, o.positive), classes: [`not ${o.positive}`, o.positive] }
            : multiclassLabels(ds);
        const { vocabulary } = buildVocabulary(ds);
        const spec = (await readEmbeddingSpecArg(o.embedding ?? "hashing")) ?? {
          provider: "hashing" as const,
        };
        const provider = await createProvider(spec, { sourceVocabulary: vocabulary, fitData: fitData(ds) });
        const site = await embedSite(ds, provider);
        const settings = TrainSettings.parse({
          ...(o.seed !== undefined ? { seed: o.seed } : {}),
          ...(o.epochs !== undefined ? { epochs: o.epochs } : {}),
        });
        const [trainIdx, valIdx] = stratifiedSplit(
          task.labels,
          [1 - settings.validationFraction, settings.validationFraction],
          settings.seed,
        );
        const part = (idx: Uint32Array) => {
          const keep = idx.filter((i) => task.labels[i] >= 0);
          return {
            seqs: encodeEncounters(ds, site.typeToToken, keep),
            labels: Int32Array.from(keep, (i) => task.labels[i]),
          };
        };
        const D = site.embedding.dim;
        const C = task.classes.length;
        const architecture: ModelArchitecture =
          o.model === "logistic"
            ? meanLogistic(D, C)
            : {
                kind: "concept-cnn",
                embeddingDim: D,
                kernelSizes: [1],
                filters: [100],
                numClasses: C,
                dropout: 0.5,
              };
        const progress = createProgress({ label: "training", total: settings.epochs });
        const r = trainModel({
          architecture,
          embedding: site.embedding,
          embeddingRef: { providerId: providerId(provider.info), dimension: D, trainable: false },
          classes: task.classes,
          train: part(trainIdx),
          validation: part(valIdx),
          settings,
          vocabulary: site.vocabulary,
          onProgress: (_e, _n, auroc) => progress.tick(1, `val AUROC ${auroc.toFixed(3)}`),
        });
        progress.done();
        await saveModel(o.out, r.snapshot);
        process.stdout.write(
          `trained ${o.model} on ${ds.name}: best validation AUROC ${r.bestValidationAuroc.toFixed(4)} (epoch ${r.bestEpoch}), ${r.seconds.toFixed(1)} s -> ${o.out}\n`,
        );
      }),
    );
}

/** Co-occurrence embeddings are fitted on the site's own (unlabeled) encounters. */
function fitData(ds: Parameters<typeof buildVocabulary>[0]) {
  const { vocabulary, typeToToken } = buildVocabulary(ds);
  return { vocab: vocabulary, seqs: encodeEncounters(ds, typeToToken) };
}
