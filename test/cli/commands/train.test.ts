import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadModel } from "../../../src/model/model-file.js";
import { Rng } from "../../../src/util/rng.js";
import { runCli } from "../in-process.js";

/**
 * `conceptbridge train` with user strings that are Object.prototype's names as codes, values and
 * labels (issue "Results a reviewer can trust", case 6), and no overwrite without --force (case 4).
 */
const TRICKY = ["__proto__", "constructor", "toString"];

function eventTable(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const rng = new Rng(4);
  const events = ["encounter_id,code,text,value,value_text"];
  const labels = ["encounter_id,label"];
  for (let i = 0; i < 150; i++) {
    const label = TRICKY[i % 3];
    labels.push(`e${i},${label}`);
    // Codes and values named like prototype members; a level's text too.
    if (rng.bernoulli(label === "__proto__" ? 0.8 : 0.2)) events.push(`e${i},__proto__,cough,present,`);
    if (rng.bernoulli(0.5)) events.push(`e${i},constructor,fever,absent,`);
    events.push(`e${i},toString,temperature,${TRICKY[rng.int(3)]},`);
    // A level with a text of its own ("valueOf" -> "young") and one without.
    events.push(
      rng.bernoulli(0.5) ? `e${i},C1,age group,valueOf,young` : `e${i},C1,age group,hasOwnProperty,`,
    );
  }
  writeFileSync(join(dir, "events.csv"), `${events.join("\n")}\n`);
  writeFileSync(join(dir, "labels.csv"), `${labels.join("\n")}\n`);
}

test("case 6: __proto__, constructor, toString as codes, values and labels: train works, no label vanishes", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cb-cli-proto-"));
  eventTable(join(dir, "site"));
  const inspect = await runCli(["data", "inspect", join(dir, "site"), "--json"]);
  assert.equal(inspect.code, 0, inspect.output);
  const counts = JSON.parse(inspect.output).sites[0].labelCounts;
  assert.deepEqual(Object.keys(counts).sort(), [...TRICKY].sort());
  assert.equal(
    Object.values(counts).reduce((a: number, b) => a + (b as number), 0),
    150,
  );
  const out = join(dir, "m.json");
  for (const model of ["cnn", "logistic"]) {
    const r = await runCli([
      "train",
      join(dir, "site"),
      "--out",
      out,
      "--epochs",
      "1",
      "--seed",
      "1",
      "--model",
      model,
      "--force",
    ]);
    assert.equal(r.code, 0, r.output);
    const m = await loadModel(out);
    assert.deepEqual([...m.classes].sort(), [...TRICKY].sort());
    const texts = m.vocabulary.map((v) => v.text);
    assert.ok(texts.every((t) => typeof t === "string" && t.length > 0));
    for (const t of [
      "temperature: constructor",
      "temperature: toString",
      "young",
      "age group: hasOwnProperty",
    ])
      assert.ok(texts.includes(t), `${t} in ${texts.join("; ")}`);
  }
  // One-vs-rest on a class named __proto__.
  const r = await runCli([
    "train",
    join(dir, "site"),
    "--out",
    out,
    "--epochs",
    "1",
    "--positive",
    "__proto__",
    "--force",
    "--model",
    "logistic",
  ]);
  assert.equal(r.code, 0, r.output);
  assert.deepEqual((await loadModel(out)).classes, ["not __proto__", "__proto__"]);
});

test("case 4: train -o never overwrites an existing file without --force, and says so before training", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cb-cli-train-"));
  const out = join(dir, "model.json");
  writeFileSync(out, "keep me");
  const r = await runCli(["train", "synthetic:A", "-o", out, "--epochs", "1", "--model", "logistic"]);
  assert.equal(r.code, 2, r.output);
  assert.match(r.output, /already exists; pass --force to overwrite it/);
  assert.doesNotMatch(r.output, /training \[/, "refused before any training");
  assert.equal(readFileSync(out, "utf8"), "keep me");
});
