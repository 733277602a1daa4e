import type { Command } from "commander";
import { resolveSite, type SourceOptions } from "../../data/sources.js";
import type { EmbeddedSite } from "../../embed/embedded-site.js";
import { readEmbeddingSpecArg } from "../../embed/spec-arg.js";
import type { EmbeddingProvider } from "../../embed/types.js";
import { saveModel } from "../../model/model-file.js";
import { RECIPE_NAMES, type RecipeName } from "../../model/train-settings.js";
import {
  loadDeployedModel,
  predictionsCsv,
  SITE_SCENARIOS,
  type SiteScenario,
  scoreSite,
  scoreSiteWithModel,
  siteForModel,
  transferAtSite,
} from "../../transfer/at-site.js";
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
import { saveSiteModel } from "../../transfer/site-model.js";
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
 * scenario (`--scenario`: a fine-tuning, the logistic arms, or auto's choice among them all), so
 * what it writes is what an experiment cell would train: a model file for a CNN, a site model file
 * for a logistic arm (`predict --model` scores with either).
 */

interface SiteOptions {
  bundle: string;
  model?: string;
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

function sourceOptions(o: Pick<SiteOptions, "catalog" | "labelColumn">): SourceOptions {
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

function siteCommand(
  program: Command,
  name: string,
  description: string,
  out: string,
  bundle: "required" | "or-model" = "required",
): Command {
  const cmd = program.command(name).description(description);
  if (bundle === "required") cmd.requiredOption("--bundle <file>", "model bundle from the source site");
  else
    cmd
      .option("--bundle <file>", "model bundle from the source site (or --model)")
      .option(
        "--model <file>",
        "a model this site wrote: a model file (train, transfer, bundle import) or a site model file (transfer --scenario local-bow, stacked or auto)",
      );
  return cmd
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

/**
 * `predict --model`: a model this site wrote itself (no bundle, so no signature to check). A CNN
 * model file and a stacked site model rebuild their embedding from the model (or `--embedding`).
 */
async function predictWithModel(o: Omit<SiteOptions, "bundle"> & { model: string }): Promise<void> {
  checkWritable(o.out, { force: o.force, flag: "--out" });
  const deployed = await loadDeployedModel(o.model);
  const ds = await resolveSite(o.data, sourceOptions(o));
  const progress = embeddingProgress();
  const spec = await readEmbeddingSpecArg(o.embedding);
  const { ids, probs, classes } = await scoreSiteWithModel(deployed, ds, o.model, {
    onProgress: progress.onProgress,
    ...(spec !== undefined ? { spec } : {}),
  });
  progress.done();
  await writeFileAtomic(o.out, predictionsCsv(classes, ids, probs));
  const what = deployed.kind === "cnn" ? "model file" : `${deployed.model.scenario} site model`;
  process.stdout.write(`wrote ${ids.length} predictions to ${o.out} (${what} ${o.model})\n`);
}

export function register(program: Command): void {
  siteCommand(
    program,
    "predict",
    "Score this site's encounters with a model bundle, or a model this site wrote (predictions stay at the site)",
    "CSV of encounter id and class probabilities",
    "or-model",
  ).action(
    action(async (o: Omit<SiteOptions, "bundle"> & { bundle?: string }) => {
      if ((o.bundle === undefined) === (o.model === undefined))
        throw new InputError(
          "give exactly one of --bundle (a model from another site) or --model (one this site wrote)",
          {
            field: o.bundle === undefined ? "--bundle" : "--model",
          },
        );
      if (o.model !== undefined) return predictWithModel({ ...o, model: o.model });
      const bundleOptions: SiteOptions = { ...o, bundle: o.bundle as string };
      const { b, trust, provider } = await openAtSite(bundleOptions);
      const ds = await resolveSite(o.data, sourceOptions(o));
      const progress = embeddingProgress();
      const { ids, probs } = await scoreSite(b.snapshot, ds, provider, { onProgress: progress.onProgress });
      progress.done();
      await writeFileAtomic(o.out, predictionsCsv(b.snapshot.classes, ids, probs));
      await writeTrustRecord(o.out, bundleOptions.bundle, b, trust);
      process.stdout.write(
        `wrote ${ids.length} predictions to ${o.out} (${trust.policy}: ${trustFileFor(o.out)})\n`,
      );
    }),
  );

  siteCommand(
    program,
    "transfer",
    "Adapt a model bundle to this site's labeled encounters (fine-tune, stack, or let auto choose by cross-validation) and write the model to deploy",
    "model to deploy: a model file (CNN arms) or a site model file (local-bow, stacked)",
  )
    .option(
      "--scenario <name>",
      `what to run: ${SITE_SCENARIOS.join(", ")} (fine-tune dense / conv + dense / all / with L2-SP; the tuned local logistic regression; stacking on the source model; auto: the one cross-validation at the site picks)`,
      "finetune-conv",
    )
    .option("--epochs <n>", "fine-tuning epochs at most (default: the recipe's)", positiveInt("--epochs"))
    .option("--recipe <name>", `training recipe: ${RECIPE_NAMES.join(" or ")}`, parseRecipe, "converged")
    .option("--seed <n>", "seed for the validation split, the folds and training", nonNegativeInt("--seed"))
    .action(
      action(
        async (o: SiteOptions & { scenario: string; epochs?: number; seed?: number; recipe: RecipeName }) => {
          const scenario = o.scenario as SiteScenario;
          if (!SITE_SCENARIOS.includes(scenario))
            throw new InputError(`unknown scenario "${o.scenario}" (${SITE_SCENARIOS.join(", ")})`, {
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
          // The bar's total is the epochs training reports: a one-pass epoch recipe runs more, shorter
          // ones; auto's bar counts its candidates' fold trainings.
          let bar: ReturnType<typeof createProgress> | undefined;
          const r = transferAtSite(b.snapshot, site, {
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
            onFold: (_done, total, what) => {
              bar ??= createProgress({ label: "auto", total });
              bar.tick(1, what);
            },
          });
          bar?.done();
          if (r.deployed.kind === "cnn") await saveModel(o.out, r.deployed.model);
          else await saveSiteModel(o.out, r.deployed.model);
          await writeTrustRecord(o.out, o.bundle, b, trust);
          const out = r.output;
          const scores = out.selection?.scores;
          if (scenario === "auto" && scores) {
            process.stdout.write("auto: cross-validated AUROC at the site (pooled out-of-fold)\n");
            for (const [arm, v] of Object.entries(scores))
              process.stdout.write(`  ${arm === r.arm ? "*" : " "} ${arm.padEnd(15)} ${v.toFixed(3)}\n`);
          }
          const how =
            r.deployed.kind === "site-model"
              ? `site model (logistic, L2 strength ${r.deployed.model.lambda})`
              : out.bestEpoch !== null
                ? `best validation AUROC ${(out.bestValidationAuroc ?? Number.NaN).toFixed(3)} at epoch ${out.bestEpoch} (engine ${out.engine})`
                : "the source model unchanged";
          process.stdout.write(
            `wrote ${o.out}: ${scenario === "auto" ? `auto chose ${r.arm}` : scenario}, ${how}; ${trust.policy}: ${trustFileFor(o.out)}\n`,
          );
        },
      ),
    );
}
