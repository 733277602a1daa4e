import assert from "node:assert/strict";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  armText,
  bestArm,
  findArmResult,
  findTable,
  iterationsText,
  scheduleText,
  specSection,
} from "../../../scripts/reproduce/sections.js";
import {
  BASELINE_SETTINGS,
  FINETUNE_SETTINGS,
  PAPER_SETTINGS,
  TrainSettings,
} from "../../../src/model/train-settings.js";
import { buildContext } from "../../../src/report/context.js";
import { loadResultsStore } from "../../../src/report/load.js";
import { reportSettings } from "../../../src/report/settings.js";
import { writeSyntheticStore } from "../../report/fixture.js";

describe("reproduction document sections", async () => {
  const dir = join(tmpdir(), `cb-reproduce-sections-${process.pid}`);
  await writeSyntheticStore(dir);
  const store = await loadResultsStore(dir);
  const ctx = await buildContext(store, reportSettings({ title: "tiny" }), new Date("2000-01-01T00:00:00Z"));
  const run = {
    name: "tiny",
    specFile: "examples/reproduce/tiny.yaml",
    description: "tiny store",
    trainIterations: "1 × 1 iterations",
    finetuneIterations: "—",
    settings: {
      training: PAPER_SETTINGS,
      finetuning: FINETUNE_SETTINGS,
      baseline: BASELINE_SETTINGS,
      bootstrap: 2000,
    },
    excluded: [],
    ctx,
  };

  it("turns a spec's report into a section: no title or clock, headings demoted, figure links moved", () => {
    const md = specSection(run, "figures/doc/tiny");
    assert.ok(!md.includes("# tiny\n"), "report title dropped");
    assert.ok(!md.includes("Generated "), "no generated stamp");
    assert.ok(!/^#{1,3} /m.test(md), "every heading at level 4 or deeper");
    assert.match(md, /^#### influenza-vs-rest: A → B$/m);
    assert.match(md, /\]\(figures\/doc\/tiny\/[a-z0-9-]+\.png\)/);
    assert.ok(!md.includes("](figures/influenza"), "no link left pointing at the report's own folder");
    // Only bar and learning-curve figures go into the documents.
    const figures = [...md.matchAll(/\]\(([^)]+\.png)\)/g)].map((m) => m[1]);
    assert.ok(figures.length > 0);
    assert.ok(
      figures.every((f) => /-(auroc-bars|learning-curve)\.png$/.test(f)),
      figures.join(", "),
    );
  });

  it("is a pure function of the context (same bytes twice)", () => {
    assert.equal(specSection(run, "f"), specSection(run, "f"));
  });

  it("finds arms and formats them with mean, CI and seed sd", () => {
    const t = findTable(ctx, "influenza-vs-rest", "A", "all");
    assert.ok(t);
    const a = findArmResult(t, "local", "bert");
    assert.ok(a);
    const expectedMean = a.seeds.reduce((s, x) => s + x.auroc, 0) / a.seeds.length;
    assert.ok(Math.abs(a.mean - expectedMean) < 1e-12);
    assert.match(armText(a), /^0\.\d{3} \[0\.\d{3}–0\.\d{3}\], sd 0\.\d{3}$/);
    const best = bestArm(t, ["local"]);
    assert.ok(best);
    for (const x of t.arms.filter((x) => x.arm.scenario === "local" && x.arm.model === "cnn"))
      assert.ok(best.mean >= x.mean);
    assert.equal(armText(undefined), "—");
  });

  it("describes a schedule from the settings that ran", () => {
    assert.equal(
      scheduleText(PAPER_SETTINGS),
      "SGD lr 0.001, momentum 0.9 (Nesterov), weight decay 0.001, 50 × 100 iterations of 32; the best validation epoch is kept",
    );
    const ft = TrainSettings.parse({ ...FINETUNE_SETTINGS, epochs: 20, earlyStoppingPatience: 5 });
    assert.equal(
      iterationsText(ft),
      "20 × 100 iterations of 32, stopped after 5 epochs without a better validation AUROC",
    );
    assert.match(
      scheduleText(TrainSettings.parse({ ...BASELINE_SETTINGS, classWeights: "balanced" })),
      /^Adam lr 0\.05, weight decay 0, 50 × 100 iterations of 32, balanced class weights;/,
    );
  });
});
