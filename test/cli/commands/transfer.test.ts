import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { generateWorld } from "../../../src/data/synthetic/world.js";
import { writeWorld } from "../../../src/data/synthetic/write.js";
import { runExperiment } from "../../../src/experiment/runner.js";
import { parseSpec } from "../../../src/experiment/spec.js";
import { runCli } from "../in-process.js";

/**
 * `conceptbridge train` -> `bundle export` -> `transfer` -> `predict` is the experiment's own
 * pipeline: the fine-tuned model's predictions equal those of the experiment cell with the same seed
 * and data, to the six decimals a results store keeps. Site B's pool and test set are two folders
 * (the experiment's event-table `testDir`); B's pool has an unlabeled encounter, which both drop.
 */
describe("conceptbridge transfer", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cb-cli-transfer-"));
  await writeWorld(generateWorld({ seed: 3, encountersPerSite: 450, sites: 2 }), join(dir, "w"));
  const source = join(dir, "w", "site-A");
  // Site B's encounters in two folders: the first 300 the pool, the rest the test set.
  const [pool, test] = [join(dir, "B-pool"), join(dir, "B-test")];
  const read = (f: string) =>
    readFileSync(join(dir, "w", "site-B", f), "utf8")
      .trim()
      .split("\n");
  const labels = read("labels.csv");
  const events = read("events.csv");
  const poolIds = new Set(labels.slice(1, 301).map((l) => l.split(",")[0]));
  for (const [folder, inPool] of [
    [pool, true],
    [test, false],
  ] as const) {
    mkdirSync(folder);
    const keep = (l: string) => poolIds.has(l.split(",")[0]) === inPool;
    const rows = labels.slice(1).filter(keep);
    // One unlabeled encounter in the target's pool (the label cell left empty).
    if (inPool) rows[0] = rows[0].replace(/^([^,]*),[^,]*,/, "$1,,");
    writeFileSync(join(folder, "labels.csv"), `${[labels[0], ...rows].join("\n")}\n`);
    writeFileSync(join(folder, "events.csv"), `${[events[0], ...events.slice(1).filter(keep)].join("\n")}\n`);
  }

  const ok = async (args: string[]) => {
    const r = await runCli(args);
    assert.equal(r.code, 0, r.output);
    return r.output;
  };
  /** `train` at site A (binary, hashing) and `bundle export` of the model. */
  const trainAndExport = async (model: string, bundle: string, common: string[]) => {
    await ok([
      "train",
      source,
      "--out",
      model,
      "--positive",
      "influenza",
      "--embedding",
      "hashing",
      ...common,
    ]);
    await ok(["bundle", "export", "--model", model, "--out", bundle]);
  };
  /** The experiment the CLI must equal: A -> B (pool and test folders), paper recipe, seed 1. */
  const cliSpec = (name: string, scenarios: string[], epochs: number) =>
    parseSpec({
      version: 1,
      name,
      sites: {
        S: { adapter: "event-table", dir: source, split: { kind: "none" } },
        T: { adapter: "event-table", dir: pool, testDir: test },
      },
      task: { type: "binary", name: "flu", positive: "influenza" },
      embeddings: { hashing: { provider: "hashing" } },
      scenarios,
      directions: [{ source: "S", target: "T" }],
      seeds: [1],
      model: { kinds: ["cnn"] },
      recipe: "paper",
      training: { epochs },
      finetuning: { epochs },
    });

  it("trains, exports, fine-tunes on a site with an unlabeled encounter, and equals the experiment cell", async () => {
    const model = join(dir, "source.json");
    const bundle = join(dir, "source.cbm");
    const tuned = join(dir, "tuned.json");
    const tunedBundle = join(dir, "tuned.cbm");
    const preds = join(dir, "preds.csv");
    // The paper recipe: fine-tuning always moves the model (the converged recipe may keep the source
    // model when no epoch beats it, which would make the guard below vacuous).
    const common = ["--seed", "1", "--epochs", "3", "--recipe", "paper"];
    await trainAndExport(model, bundle, common);
    // Unsigned bundles (this test is about the numbers; the signature policy has its own tests).
    const said = await ok([
      "transfer",
      "--allow-unsigned",
      "--bundle",
      bundle,
      "--data",
      pool,
      "--out",
      tuned,
      "--scenario",
      "finetune-dense",
      ...common,
    ]);
    assert.match(said, /finetune-dense/);
    await ok(["bundle", "export", "--model", tuned, "--out", tunedBundle]);
    await ok(["predict", "--allow-unsigned", "--bundle", tunedBundle, "--data", test, "--out", preds]);
    const csv = readFileSync(preds, "utf8").trim().split("\n").slice(1);
    const cli = csv.map((l) => Math.round(Number(l.split(",")[2]) * 1e6) / 1e6);

    const spec = cliSpec("cli-equals-cell", ["finetune-dense"], 3);
    const run = await runExperiment(
      { spec, path: join(dir, "spec.json"), dir },
      { out: join(dir, "run"), workers: 1, quiet: true },
    );
    const cell = run.results.find((r) => r.key.scenario === "finetune-dense");
    assert.ok(cell?.predictions, cell?.error);
    assert.equal(cell.engine, "factorized", "the cell records the engine that trained it");
    assert.equal(cli.length, cell.predictions.scores.length);
    assert.deepEqual(cli, cell.predictions.scores);
    // The guard: fine-tuning moved the model, so equality is not the source model's twice.
    await ok([
      "predict",
      "--allow-unsigned",
      "--bundle",
      bundle,
      "--data",
      test,
      "--out",
      join(dir, "source-preds.csv"),
    ]);
    const before = readFileSync(join(dir, "source-preds.csv"), "utf8").trim().split("\n").slice(1);
    assert.notDeepEqual(
      before.map((l) => Math.round(Number(l.split(",")[2]) * 1e6) / 1e6),
      cli,
    );
  });

  it("deploys the logistic arms and auto's choice as the experiment's cells do (site model -> predict --model)", async () => {
    const model = join(dir, "src2.json");
    const bundle = join(dir, "src2.cbm");
    // Two epochs of 100 steps: auto trains every CNN candidate on each fold, twice (CLI and cell).
    const common = ["--seed", "1", "--epochs", "2", "--recipe", "paper"];
    await trainAndExport(model, bundle, common);
    const spec = cliSpec("cli-site-models", ["local-bow", "stacked", "auto"], 2);
    const run = await runExperiment(
      { spec, path: join(dir, "spec2.json"), dir },
      { out: join(dir, "run2"), workers: 1, quiet: true },
    );
    const cell = (s: string) => {
      const c = run.results.find((r) => r.key.scenario === s);
      assert.ok(c?.predictions, `${s}: ${c?.error}`);
      return c;
    };
    const predicted = async (file: string, out: string) => {
      await ok(["predict", "--model", file, "--data", test, "--out", out]);
      return readFileSync(out, "utf8")
        .trim()
        .split("\n")
        .slice(1)
        .map((l) => Number(l.split(",")[2]));
    };
    const close = (a: number[], b: number[]) =>
      a.length === b.length && a.every((v, i) => Math.abs(v - b[i]) < 1e-5);
    const byArm: Record<string, number[]> = {};
    for (const arm of ["local-bow", "stacked"]) {
      const file = join(dir, `${arm}.site.json`);
      const said = await ok([
        "transfer",
        "--allow-unsigned",
        "--bundle",
        bundle,
        "--data",
        pool,
        "--out",
        file,
        "--scenario",
        arm,
        ...common,
      ]);
      assert.match(said, /site model/);
      byArm[arm] = await predicted(file, join(dir, `${arm}.csv`));
      assert.ok(
        close(byArm[arm], cell(arm).predictions?.scores ?? []),
        `${arm}: predict --model equals the experiment cell`,
      );
    }
    // The guard: the two arms are different models (stacking reads the source model's logits).
    assert.ok(!close(byArm["local-bow"], byArm.stacked));
    const auto = join(dir, "auto.json");
    const said = await ok([
      "transfer",
      "--allow-unsigned",
      "--bundle",
      bundle,
      "--data",
      pool,
      "--out",
      auto,
      "--scenario",
      "auto",
      ...common,
    ]);
    const winner = cell("auto").selection?.winner;
    assert.ok(winner);
    assert.match(said, new RegExp(`auto chose ${winner}\\b`));
    assert.match(said, /cross-validated AUROC/);
    assert.ok(close(await predicted(auto, join(dir, "auto.csv")), cell("auto").predictions?.scores ?? []));
    // Neither or both of --bundle and --model: bad input.
    const neither = await runCli(["predict", "--data", test, "--out", join(dir, "x.csv")]);
    assert.equal(neither.code, 2, neither.output);
    assert.match(neither.output, /--bundle/);
  });

  it("rejects --epochs 0, an unknown scenario and unknown flags as bad input (exit 2, field named)", async () => {
    // Everything a transfer needs but the flag under test (the bundle need not exist: flags fail first).
    const base = ["transfer", "--bundle", "x.cbm", "--data", pool, "--out", join(dir, "n.json")];
    const zero = await runCli([...base, "--epochs", "0"]);
    assert.equal(zero.code, 2, zero.output);
    assert.match(zero.output, /--epochs/);
    assert.doesNotMatch(zero.output, /internal error|ZodError/);
    const scen = await runCli([...base, "--scenario", "finetune-bogus"]);
    assert.equal(scen.code, 2, scen.output);
    assert.match(scen.output, /--scenario/);
    const bogus = await runCli(["transfer", "--bogus"]);
    assert.equal(bogus.code, 2, bogus.output);
  });
});
