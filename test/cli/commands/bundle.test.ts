import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { saveModel } from "../../../src/model/model-file.js";
import { smallSnapshot } from "../../transfer/bundle/fixtures.js";
import { runCli } from "../in-process.js";

/** `bundle export|import` from the command line: signature policy (case 3) and --force (case 4). */
test("bundle import: unsigned refused by default, --allow-unsigned recorded, a private key is no --pubkey", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cb-cli-bundle-"));
  const model = join(dir, "model.json");
  await saveModel(model, smallSnapshot());
  const run = (args: string[]) => runCli(args);
  assert.equal((await run(["bundle", "keygen", "--out", join(dir, "k")])).code, 0);
  const unsigned = join(dir, "u.cbm");
  const signed = join(dir, "s.cbm");
  assert.equal((await run(["bundle", "export", "--model", model, "--out", unsigned])).code, 0);
  assert.equal(
    (
      await run([
        "bundle",
        "export",
        "--model",
        model,
        "--out",
        signed,
        "--sign",
        join(dir, "k", "bundle-signing.key.pem"),
      ])
    ).code,
    0,
  );

  const refused = await run(["bundle", "import", unsigned, "--out", join(dir, "m1.json")]);
  assert.equal(refused.code, 2, refused.output);
  assert.match(refused.output, /bundle is not signed: pass --pubkey .* or --allow-unsigned/);
  assert.equal(existsSync(join(dir, "m1.json")), false);
  const allowed = await run([
    "bundle",
    "import",
    unsigned,
    "--out",
    join(dir, "m1.json"),
    "--allow-unsigned",
  ]);
  assert.equal(allowed.code, 0, allowed.output);
  assert.match(allowed.output, /NOT VERIFIED/);
  assert.equal(JSON.parse(readFileSync(join(dir, "m1.json.trust.json"), "utf8")).policy, "allow-unsigned");

  const priv = await run([
    "bundle",
    "import",
    signed,
    "--out",
    join(dir, "m2.json"),
    "--pubkey",
    join(dir, "k", "bundle-signing.key.pem"),
  ]);
  assert.equal(priv.code, 2, priv.output);
  assert.match(priv.output, /this is a private key/);
  const trusted = await run([
    "bundle",
    "import",
    signed,
    "--out",
    join(dir, "m2.json"),
    "--pubkey",
    join(dir, "k", "bundle-signing.pub.pem"),
  ]);
  assert.equal(trusted.code, 0, trusted.output);
  assert.match(trusted.output, /trust: signed by the trusted key/);
});

test("bundle export / import never overwrite without --force", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cb-cli-bundle-"));
  const model = join(dir, "model.json");
  await saveModel(model, smallSnapshot());
  const out = join(dir, "b.cbm");
  writeFileSync(out, "keep me");
  const r = await runCli(["bundle", "export", "--model", model, "--out", out]);
  assert.equal(r.code, 2, r.output);
  assert.match(r.output, /already exists; pass --force/);
  assert.equal(readFileSync(out, "utf8"), "keep me");
  assert.equal((await runCli(["bundle", "export", "--model", model, "--out", out, "--force"])).code, 0);
  const imported = join(dir, "m.json");
  writeFileSync(imported, "keep me too");
  const i = await runCli(["bundle", "import", out, "--out", imported, "--allow-unsigned"]);
  assert.equal(i.code, 2, i.output);
  assert.equal(readFileSync(imported, "utf8"), "keep me too");
});
