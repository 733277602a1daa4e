import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Rng } from "../../../src/util/rng.js";
import { runCli } from "../in-process.js";

/**
 * `predict` and `transfer` at a target site: the signature policy (issue "Results a reviewer can
 * trust", case 3), no overwrite without --force (case 4), and findings tables with --catalog as
 * targets, the seed paper's own format (case 6). A tiny findings table, its catalog, one logistic
 * model trained on it.
 */
function findingsTable(seed: number, n: number): string {
  const rng = new Rng(seed);
  const rows = ["C1,C2,C3,C0424781,diagnosis"];
  for (let i = 0; i < n; i++) {
    const flu = rng.bernoulli(0.5);
    const c1 = rng.bernoulli(flu ? 0.8 : 0.2) ? "P" : "A";
    const pick = (v: string) => v[rng.int(v.length)];
    rows.push([c1, pick("PAM"), pick("PA"), pick("PAIM"), flu ? "I" : "R"].join(","));
  }
  return `${rows.join("\n")}\n`;
}

describe("conceptbridge predict / transfer", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cb-cli-site-"));
  const [source, target, catalog] = ["source.csv", "target.csv", "catalog.txt"].map((f) => join(dir, f));
  writeFileSync(source, findingsTable(1, 160));
  writeFileSync(target, findingsTable(2, 120));
  writeFileSync(
    catalog,
    "C1: cough\nC2: fever\nC3: headache\nC0424781_P: high temperature\nC0424781_A: moderate temperature\nC0424781_I: low temperature\n",
  );
  const model = join(dir, "model.json");
  const ok = async (args: string[]) => {
    const r = await runCli(args);
    assert.equal(r.code, 0, r.output);
    return r.output;
  };
  const bad = async (args: string[], pattern: RegExp) => {
    const r = await runCli(args);
    assert.equal(r.code, 2, r.output);
    assert.match(r.output, pattern);
    assert.doesNotMatch(r.output, /internal error/);
    return r.output;
  };
  await ok([
    "train",
    source,
    "--catalog",
    catalog,
    "--out",
    model,
    "--model",
    "logistic",
    "--epochs",
    "1",
    "--seed",
    "1",
  ]);
  await ok(["bundle", "keygen", "--out", join(dir, "keys")]);
  const signed = join(dir, "signed.cbm");
  const unsigned = join(dir, "unsigned.cbm");
  await ok([
    "bundle",
    "export",
    "--model",
    model,
    "--out",
    signed,
    "--sign",
    join(dir, "keys", "bundle-signing.key.pem"),
  ]);
  await ok(["bundle", "export", "--model", model, "--out", unsigned]);
  const pub = join(dir, "keys", "bundle-signing.pub.pem");

  it("case 3: an unsigned bundle, or a signed one without --pubkey, is refused unless --allow-unsigned", async () => {
    const out = join(dir, "p0.csv");
    for (const bundle of [unsigned, signed]) {
      await bad(
        ["predict", "--bundle", bundle, "--data", target, "--catalog", catalog, "--out", out],
        /--pubkey .*--allow-unsigned/,
      );
      await bad(
        [
          "transfer",
          "--bundle",
          bundle,
          "--data",
          target,
          "--catalog",
          catalog,
          "--out",
          join(dir, "t0.json"),
          "--epochs",
          "1",
        ],
        /--allow-unsigned/,
      );
    }
    await bad(
      [
        "predict",
        "--bundle",
        signed,
        "--data",
        target,
        "--catalog",
        catalog,
        "--out",
        out,
        "--pubkey",
        join(dir, "keys", "bundle-signing.key.pem"),
      ],
      /this is a private key/,
    );
    assert.equal(existsSync(out), false);
    const said = await ok([
      "predict",
      "--bundle",
      unsigned,
      "--data",
      target,
      "--catalog",
      catalog,
      "--out",
      out,
      "--allow-unsigned",
    ]);
    assert.match(said, /NOT VERIFIED \(--allow-unsigned\)/);
    assert.equal(JSON.parse(readFileSync(`${out}.trust.json`, "utf8")).policy, "allow-unsigned");
  });

  it("case 6: a findings table with --catalog is a target for predict and transfer", async () => {
    const preds = join(dir, "preds.csv");
    await ok([
      "predict",
      "--bundle",
      signed,
      "--pubkey",
      pub,
      "--data",
      target,
      "--catalog",
      catalog,
      "--out",
      preds,
    ]);
    const lines = readFileSync(preds, "utf8").trim().split("\n");
    assert.equal(lines.length, 121);
    assert.equal(lines[0], "encounter_id,p_I,p_R");
    assert.equal(JSON.parse(readFileSync(`${preds}.trust.json`, "utf8")).policy, "trusted-key");
    const tuned = join(dir, "tuned.json");
    const said = await ok([
      "transfer",
      "--bundle",
      signed,
      "--pubkey",
      pub,
      "--data",
      target,
      "--catalog",
      catalog,
      "--out",
      tuned,
      "--scenario",
      "finetune-dense",
      "--epochs",
      "1",
      "--seed",
      "1",
    ]);
    assert.match(said, /trusted-key/);
    assert.ok(existsSync(tuned));
    // Without the catalog, the message says what to pass (and passing it works, as above).
    await bad(
      ["predict", "--bundle", signed, "--pubkey", pub, "--data", target, "--out", join(dir, "x.csv")],
      /--catalog/,
    );
  });

  it("case 4: predict and transfer never overwrite without --force", async () => {
    const out = join(dir, "keep.csv");
    writeFileSync(out, "keep me");
    await bad(
      ["predict", "--bundle", signed, "--pubkey", pub, "--data", target, "--catalog", catalog, "--out", out],
      /already exists; pass --force/,
    );
    await bad(
      [
        "transfer",
        "--bundle",
        signed,
        "--pubkey",
        pub,
        "--data",
        target,
        "--catalog",
        catalog,
        "--out",
        out,
        "--epochs",
        "1",
      ],
      /already exists/,
    );
    assert.equal(readFileSync(out, "utf8"), "keep me");
    await ok([
      "predict",
      "--bundle",
      signed,
      "--pubkey",
      pub,
      "--data",
      target,
      "--catalog",
      catalog,
      "--out",
      out,
      "--force",
    ]);
    assert.match(readFileSync(out, "utf8"), /^encounter_id,/);
  });
});
