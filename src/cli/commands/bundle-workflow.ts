import type { Command } from "commander";
import { resolveSite, type SourceOptions } from "../../data/sources.js";
import type { EmbeddedSite } from "../../embed/embedded-site.js";
import { readEmbeddingSpecArg } from "../../embed/spec-arg.js";
import type { EmbeddingProvider } from "../../embed/types.js";
import { saveModel } from "../../model/model-file.js";
import { RECIPE_NAMES, type RecipeName } from "../../model/train-settings.js";
import { fineTuneAtSite, predictionsCsv, scoreSite, siteForModel } from "../../transfer/at-site.js";
import type { OpenedBundle } from "../../transfer/bundle/bundle.js";
import { providerForBundle } from "../../transfer/bundle/provider.js";
import {
  type BundleTrust,
  describeBundle,
  describeTrust,
  openBundle,
  trustFileFor,
  writeTrustRecord,
} from "../../transfer/bundle/workflow.js";
import { FINETUNE_SCENARIOS, type FinetuneScenario } from "../../transfer/scenarios.js";
import { writeFileAtomic } from "../../util/atomic-write.js";
import { InputError } from "../../util/errors.js";
import { checkWritable } from "../../util/output-file.js";
import { createProgress } from "../../util/progress.js";
import { EMBEDDING_HELP } from "../embedding-help.js";
import { action } from "../run-command.js";
import { nonNegativeInt, parseRecipe, positiveInt } from "./train.js";

/**
 * `conceptbridge predict --bundle` and `transfer --bundle`: the target-site half of "models travel,
 * data stays", a thin shell over transfer/at-site.ts. `transfer` runs the experiment's own
 * fine-tuning scenario (`--scenario`), so what it writes is what an experiment cell would train.
 */

interface SiteOptions {
  bundle: string;
  data: string;
  out: string;
  pubkey?: string;
  allowUnsigned?: boolean;
  force?: boolean;
  embedding?: string;
  catalog?: string;
  labelColumn?: string;
}

/**
 * Open the bundle under the signature policy (workflow.ts openBundle), after checking that nothing
 * would be overwritten: the output and its `.trust.json`, which records how the bundle was accepted.
 */
async function openAtSite(
  o: SiteOptions,
): Promise<{ b: OpenedBundle; trust: BundleTrust; provider: EmbeddingProvider }> {
  for (const f of [o.out, trustFileFor(o.out)]) checkWritable(f, { force: o.force, flag: "--out" });
  const { bundle: b, trust } = await openBundle(o.bundle, o);
  process.stderr.write(describeBundle(o.bundle, b));
  process.stderr.write(`${describeTrust(trust)}\n`);
  const provider = await providerForBundle(b, o.bundle, await readEmbeddingSpecArg(o.embedding));
  return { b, trust, provider };
}

function sourceOptions(o: SiteOptions): SourceOptions {
  return {
    ...(o.catalog !== undefined ? { catalog: o.catalog } : {}),
    ...(o.labelColumn !== undefined ? { labelColumn: o.labelColumn } : {}),
  };
}

/** A progress bar for embedding the site's vocabulary, made when its size is known. */
function embeddingProgress() {
  let progress: ReturnType<typeof createProgress> | undefined;
  let reported = 0;
  return {
    onProgress: (done: number, total: number) => {
      progress ??= createProgress({ label: "embedding", total });
      progress.tick(done - reported);
      reported = done;
    },
    done: () => progress?.done(),
  };
}

function siteCommand(program: Command, name: string, description: string, out: string): Command {
  return program
    .command(name)
    .description(description)
    .requiredOption("--bundle <file>", "model bundle from the source site")
    .requiredOption("--data <source>", "this site's data, e.g. eicu:South or a findings CSV with --catalog")
    .requiredOption("--out <file>", out)
    .option("--pubkey <pub.pem>", "trusted Ed25519 public key: the bundle must be signed by it")
    .option(
      "--allow-unsigned",
      "accept a bundle whose signer is not checked (unsigned, or no --pubkey); recorded",
    )
    .option("--force", "overwrite --out (and its .trust.json) if they exist")
    .option("--embedding <spec>", EMBEDDING_HELP)
    .option("--catalog <file>", "concept catalog, when --data is a findings table")
    .option("--label-column <name>", "label column of a findings table", "diagnosis");
}

export function register(program: Command): void {
  siteCommand(
    program,
    "predict",
    "Score this site's encounters with a model bundle (predictions stay at the site)",
    "CSV of encounter id and class probabilities",
  ).action(
    action(async (o: SiteOptions) => {
      const { b, trust, provider } = await openAtSite(o);
      const ds = await resolveSite(o.data, sourceOptions(o));
      const progress = embeddingProgress();
      const { ids, probs } = await scoreSite(b.snapshot, ds, provider, { onProgress: progress.onProgress });
      progress.done();
      await writeFileAtomic(o.out, predictionsCsv(b.snapshot.classes, ids, probs));
      await writeTrustRecord(o.out, o.bundle, b, trust);
      process.stdout.write(
        `wrote ${ids.length} predictions to ${o.out} (${trust.policy}: ${trustFileFor(o.out)})\n`,
      );
    }),
  );

  siteCommand(
    program,
    "transfer",
    "Fine-tune a model bundle on this site's labeled encounters and write the new model",
    "fine-tuned model file",
  )
    .option(
      "--scenario <name>",
      `fine-tuning scenario: ${FINETUNE_SCENARIOS.join(", ")} (what is tuned: dense / conv + dense / all)`,
      "finetune-conv",
    )
    .option("--epochs <n>", "fine-tuning epochs at most (default: the recipe's)", positiveInt("--epochs"))
    .option("--recipe <name>", `training recipe: ${RECIPE_NAMES.join(" or ")}`, parseRecipe, "converged")
    .option("--seed <n>", "seed for the validation split and training", nonNegativeInt("--seed"))
    .action(
      action(
        async (o: SiteOptions & { scenario: string; epochs?: number; seed?: number; recipe: RecipeName }) => {
          const scenario = o.scenario as FinetuneScenario;
          if (!FINETUNE_SCENARIOS.includes(scenario))
            throw new InputError(`unknown scenario "${o.scenario}" (${FINETUNE_SCENARIOS.join(", ")})`, {
              field: "--scenario",
            });
          const { b, trust, provider } = await openAtSite(o);
          const ds = await resolveSite(o.data, sourceOptions(o));
          const progress = embeddingProgress();
          const site: EmbeddedSite = await siteForModel(ds, b.snapshot, provider, {
            file: o.data,
            onProgress: progress.onProgress,
          });
          progress.done();
          // The bar's total is the epochs training reports: a one-pass epoch recipe runs more, shorter ones.
          let bar: ReturnType<typeof createProgress> | undefined;
          const r = fineTuneAtSite(b.snapshot, site, {
            scenario,
            recipe: o.recipe,
            settings: {
              ...(o.epochs !== undefined ? { epochs: o.epochs } : {}),
              ...(o.seed !== undefined ? { seed: o.seed } : {}),
            },
            onEpoch: (_e, n, auroc) => {
              bar ??= createProgress({ label: "fine-tuning", total: n });
              bar.tick(1, `val AUROC ${auroc.toFixed(3)}`);
            },
          });
          bar?.done();
          if (!r.model) throw new Error(`${scenario} returned no model`);
          await saveModel(o.out, r.model);
          await writeTrustRecord(o.out, o.bundle, b, trust);
          process.stdout.write(
            `wrote ${o.out}: ${scenario}, best validation AUROC ${(r.bestValidationAuroc ?? Number.NaN).toFixed(3)} at epoch ${r.bestEpoch} (engine ${r.engine}); ${trust.policy}: ${trustFileFor(o.out)}\n`,
          );
        },
      ),
    );
}
