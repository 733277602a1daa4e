import type { Command } from "commander";
import { InvalidArgumentError } from "commander";
import { buildVocabulary, encodeEncounters } from "../../concepts/vocabulary.js";
import { resolveSite } from "../../data/sources.js";
import { stratifiedSplit } from "../../data/splits.js";
import type { SiteDataset } from "../../data/types.js";
import { withPaddingRow } from "../../embed/matrix.js";
import type { EmbeddingMatrix, EmbeddingProvider } from "../../embed/types.js";
import { saveModel } from "../../model/model-file.js";
import { predictProba } from "../../model/predict.js";
import { trainModel } from "../../model/train.js";
import { FINETUNE_SETTINGS, TrainSettings } from "../../model/train-settings.js";
import type { ModelSnapshot } from "../../model/types.js";
import type { OpenedBundle } from "../../transfer/bundle/bundle.js";
import { writeFileAtomic } from "../../util/atomic-write.js";
import { InputError } from "../../util/errors.js";
import { createProgress } from "../../util/progress.js";
import { action } from "../run-command.js";
import { describeBundle, verifyBundle } from "./bundle.js";
import { EMBEDDING_HELP, providerForBundle, readEmbeddingSpecArg } from "./bundle-embedding.js";

/**
 * The target-site half of "models travel, data stays": score the site's own encounters with a
 * bundle's model (`predict --bundle`), or fine-tune the bundle's model on them (`transfer --bundle`).
 * Everything written here stays at the site: predictions are keyed by the site's own encounter ids.
 */

export interface SiteForModel {
  ds: SiteDataset;
  embedding: EmbeddingMatrix;
  vocabulary: { key: string; text: string }[];
  typeToToken: Uint32Array;
}

/** Embed a site's own vocabulary with the bundle's provider (row 0 = padding). */
export async function embedSite(ds: SiteDataset, provider: EmbeddingProvider): Promise<SiteForModel> {
  const { vocabulary, typeToToken } = buildVocabulary(ds);
  const progress = createProgress({ label: "embedding", total: vocabulary.tokens.length });
  let reported = 0;
  const m = await provider.embed(vocabulary.tokens, {
    onProgress: (done) => {
      progress.tick(done - reported);
      reported = done;
    },
  });
  progress.done();
  return {
    ds,
    embedding: withPaddingRow(m),
    vocabulary: vocabulary.tokens.map((t) => ({ key: t.key, text: t.text })),
    typeToToken,
  };
}

/** Scores of every encounter of the site as CSV: encounter_id, then one probability column per class. */
export function predictionsCsv(snapshot: ModelSnapshot, site: SiteForModel): string {
  const seqs = encodeEncounters(site.ds, site.typeToToken);
  const probs = predictProba(snapshot, site.embedding, seqs);
  const C = snapshot.classes.length;
  const lines = [["encounter_id", ...snapshot.classes.map((c) => `p_${c}`)].map(csvField).join(",")];
  site.ds.encounters.ids.forEach((id, i) => {
    const row = [csvField(id)];
    for (let c = 0; c < C; c++) row.push(String(probs[i * C + c]));
    lines.push(row.join(","));
  });
  return `${lines.join("\n")}\n`;
}

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/**
 * The site's labels in the bundle's class order: classes matched by name; a binary bundle whose
 * positive class (its second) is one of the site's classes is used one-vs-rest.
 */
export function labelsForBundle(ds: SiteDataset, classes: string[], file: string): Int32Array {
  const src = ds.encounters.labels;
  const out = new Int32Array(src.length).fill(-1);
  const byName = ds.labelClasses.map((c) => classes.indexOf(c));
  if (byName.every((i) => i >= 0)) {
    for (let i = 0; i < src.length; i++) out[i] = src[i] < 0 ? -1 : byName[src[i]];
    return out;
  }
  if (classes.length === 2 && ds.labelClasses.includes(classes[1])) {
    const pos = ds.labelClasses.indexOf(classes[1]);
    for (let i = 0; i < src.length; i++) out[i] = src[i] < 0 ? -1 : src[i] === pos ? 1 : 0;
    return out;
  }
  throw new InputError(
    `the site's classes (${ds.labelClasses.join(", ")}) do not match the bundle's (${classes.join(", ")})`,
    { file, field: "classes" },
  );
}

export interface TransferOptions {
  validationFraction?: number;
  epochs?: number;
  seed?: number;
}

/** Fine-tune the bundle's model on the site's labeled encounters (the paper's fine-tuning settings). */
export function fineTune(b: OpenedBundle, site: SiteForModel, file: string, o: TransferOptions = {}) {
  const labels = labelsForBundle(site.ds, b.snapshot.classes, file);
  const settings = TrainSettings.parse({
    ...FINETUNE_SETTINGS,
    ...(o.epochs !== undefined ? { epochs: o.epochs } : {}),
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
    ...(o.validationFraction !== undefined ? { validationFraction: o.validationFraction } : {}),
  });
  const labeled = labels.filter((y) => y >= 0).length;
  if (labeled < 10)
    throw new InputError(`only ${labeled} labeled encounters at the site; too few to fine-tune`);
  const [trainIdx, valIdx] = stratifiedSplit(
    labels,
    [1 - settings.validationFraction, settings.validationFraction],
    settings.seed,
  );
  const part = (idx: Uint32Array) => ({
    seqs: encodeEncounters(site.ds, site.typeToToken, idx),
    labels: Int32Array.from(idx, (i) => labels[i]),
  });
  const progress = createProgress({ label: "fine-tuning", total: settings.epochs });
  const result = trainModel({
    architecture: b.snapshot.architecture,
    embedding: site.embedding,
    embeddingRef: b.snapshot.embedding,
    classes: b.snapshot.classes,
    train: part(trainIdx),
    validation: part(valIdx),
    init: b.snapshot,
    settings,
    vocabulary: site.vocabulary,
    onProgress: (_e, _n, auroc) => progress.tick(1, `val AUROC ${auroc.toFixed(3)}`),
  });
  progress.done();
  return result;
}

export function register(program: Command): void {
  program
    .command("predict")
    .description("Score this site's encounters with a model bundle (predictions stay at the site)")
    .requiredOption("--bundle <file>", "model bundle from the source site")
    .requiredOption("--data <source>", "this site's data, e.g. eicu:South")
    .requiredOption("--out <predictions.csv>", "CSV of encounter id and class probabilities")
    .option("--pubkey <pub.pem>", "trusted Ed25519 public key: the bundle must be signed by it")
    .option("--embedding <spec>", EMBEDDING_HELP)
    .action(
      action(
        async (o: { bundle: string; data: string; out: string; pubkey?: string; embedding?: string }) => {
          const b = await verifyBundle(o.bundle, o.pubkey);
          process.stderr.write(describeBundle(o.bundle, b));
          const provider = await providerForBundle(b, o.bundle, await readEmbeddingSpecArg(o.embedding));
          const site = await embedSite(await resolveSite(o.data), provider);
          await writeFileAtomic(o.out, predictionsCsv(b.snapshot, site));
          process.stdout.write(`wrote ${site.ds.encounters.count} predictions to ${o.out}\n`);
        },
      ),
    );

  program
    .command("transfer")
    .description("Fine-tune a model bundle on this site's labeled encounters and write the new model")
    .requiredOption("--bundle <file>", "model bundle from the source site")
    .requiredOption("--data <source>", "this site's labeled data, e.g. eicu:South")
    .requiredOption("--out <model.json>", "fine-tuned model file")
    .option("--pubkey <pub.pem>", "trusted Ed25519 public key: the bundle must be signed by it")
    .option("--epochs <n>", "fine-tuning epochs (default: the paper's)", parsePositiveInt)
    .option("--seed <n>", "seed for the validation split and training", parsePositiveInt)
    .option("--embedding <spec>", EMBEDDING_HELP)
    .action(
      action(
        async (o: {
          bundle: string;
          data: string;
          out: string;
          pubkey?: string;
          epochs?: number;
          seed?: number;
          embedding?: string;
        }) => {
          const b = await verifyBundle(o.bundle, o.pubkey);
          process.stderr.write(describeBundle(o.bundle, b));
          const provider = await providerForBundle(b, o.bundle, await readEmbeddingSpecArg(o.embedding));
          const site = await embedSite(await resolveSite(o.data), provider);
          const r = fineTune(b, site, o.bundle, o);
          await saveModel(o.out, r.snapshot);
          process.stdout.write(
            `wrote ${o.out}: best validation AUROC ${r.bestValidationAuroc.toFixed(3)} at epoch ${r.bestEpoch}\n`,
          );
        },
      ),
    );
}

function parsePositiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("must be a non-negative integer");
  return n;
}
