// ConceptBridge as a library: train at one site, fine-tune at another, evaluate there.
// Run with `node examples/library/transfer.mjs` after `npm ci` (or from any project that installed
// conceptbridge). Everything runs offline on the built-in synthetic world.
import {
  createProvider,
  embedSite,
  evaluate,
  FINETUNE_SETTINGS,
  prepareSite,
  readSite,
  runScenario,
  trainAtSite,
  trainValidationSplit,
  vocabularyOf,
} from "conceptbridge";

const task = { type: "binary", name: "influenza-vs-rest", positive: "influenza" };

// 1. The source site trains a model on its own labeled encounters.
const a = prepareSite(await readSite("synthetic:A"), task);
const provider = await createProvider({ provider: "hashing" }, { sourceVocabulary: vocabularyOf(a.site) });
const source = await embedSite(a.site, provider);
const { snapshot: model } = trainAtSite(source, a.classes, { settings: { epochs: 10, seed: 1 } });

// 2. The model travels; the target embeds its own vocabulary with the same provider and keeps
//    a third of its encounters aside to test on.
const b = prepareSite(await readSite("synthetic:B"), task);
const target = await embedSite(b.site, provider);
const { train: pool, validation: test } = trainValidationSplit(target.pool, 0.3, 7);

// 3. Source-only and fine-tuned, scored on the target's held-out encounters.
for (const scenario of ["source-only", "finetune-dense"]) {
  const out = runScenario({
    scenario,
    architecture: model.architecture,
    classes: b.classes,
    target: { ...target, pool, test },
    sourceModel: model,
    training: FINETUNE_SETTINGS,
    finetuning: { ...FINETUNE_SETTINGS, epochs: 5 },
    split: { validationFraction: 0.2, seed: 1 },
  });
  const positive = out.testProbs.filter((_, i) => i % 2 === 1);
  const m = evaluate(test.labels, positive, b.classes);
  console.log(`${scenario}: AUROC ${m.auroc.toFixed(3)} [${m.aurocCI[0].toFixed(3)}, ${m.aurocCI[1].toFixed(3)}]`);
}
