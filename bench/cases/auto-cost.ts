import { performance } from "node:perf_hooks";
import { prepareSite } from "../../src/concepts/encoded-site.js";
import { resolvePath, resolveSite } from "../../src/data/sources.js";
import { embedSite } from "../../src/embed/embedded-site.js";
import { createTableProvider } from "../../src/embed/providers/table.js";
import { paperCnn } from "../../src/model/architecture.js";
import { RECIPES } from "../../src/model/train-settings.js";
import { runAuto } from "../../src/transfer/auto.js";
import {
  runScenario,
  type Scenario,
  type ScenarioInput,
  type ScenarioOutput,
  trainSourceModel,
} from "../../src/transfer/scenarios.js";
import { subsamplePool } from "../../src/transfer/training-data.js";

/*
 * What `auto` costs per cell against a plain fine-tuning cell: influenza vs rest, same-setting
 * source, BERT, the converged recipe, target sizes 200 and 1,000. The plain cell is finetune-conv;
 * auto runs 3 folds x 7 candidates and then the winner's plain arm (which the grid shares with that
 * arm's own cell, so the marginal cost is the folds). Reports seconds for both and the ratio.
 */
const CATALOG = "shared:influenza-embeddings/concept_pair.txt";

export async function run(): Promise<Record<string, number | string>> {
  const task = { type: "binary" as const, name: "flu", positive: "I" };
  const src = prepareSite(
    await resolveSite("shared:influenza-dtl/source_train/findings_final_0814_seed1591536269_size10000.csv", {
      catalog: CATALOG,
    }),
    task,
  );
  const tgt = prepareSite(
    await resolveSite("shared:influenza-dtl/target_train/findings_final_0814_seed2132231585_size10000.csv", {
      catalog: CATALOG,
    }),
    task,
  );
  const provider = await createTableProvider({
    file: resolvePath("shared:influenza-embeddings/concept_pair_bert.h5"),
  });
  const source = await embedSite(src.site, provider);
  const target = await embedSite(tgt.site, provider);
  const { training, finetuning } = RECIPES.converged;
  const split = { validationFraction: 0.2, seed: 1 };
  const arch = paperCnn(target.embedding.dim, 2);
  const sourceModel = trainSourceModel({
    architecture: arch,
    classes: src.classes,
    training: { ...training, seed: 1 },
    source,
    split,
  }).snapshot;
  const out: Record<string, number | string> = {};
  for (const n of [200, 1000]) {
    const input: ScenarioInput = {
      scenario: "finetune-conv",
      architecture: arch,
      classes: tgt.classes,
      target: { ...target, pool: subsamplePool(target.pool, n, 1), test: target.test },
      source,
      sourceModel,
      training: { ...training, seed: 1 },
      finetuning: { ...finetuning, seed: 1 },
      split,
    };
    let t0 = performance.now();
    runScenario(input);
    const plain = (performance.now() - t0) / 1000;
    const memo = new Map<Scenario, ScenarioOutput>();
    t0 = performance.now();
    const auto = runAuto({ ...input, scenario: "auto" }, (s) => {
      let o = memo.get(s);
      if (!o) {
        o = runScenario({ ...input, scenario: s });
        memo.set(s, o);
      }
      return o;
    });
    const autoSeconds = (performance.now() - t0) / 1000;
    out[`auto_n${n}_seconds`] = Number(autoSeconds.toFixed(2));
    out[`finetune_conv_n${n}_seconds`] = Number(plain.toFixed(2));
    out[`auto_over_plain_n${n}`] = Number((autoSeconds / plain).toFixed(1));
    out[`auto_n${n}_winner`] = auto.selection?.winner ?? "?";
  }
  return out;
}
