import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { runCli } from "../in-process.js";

/**
 * `conceptbridge run` and the program's exit codes: usage errors and bad input exit 2 (issue
 * "Results a reviewer can trust", case 6), a spec file is strict UTF-8, `--dry-run` refuses what the
 * real run refuses, and a spec's name cannot place results outside the output folder (case 2).
 */
const SPEC = `version: 1
name: cli-run
sites:
  A: { adapter: synthetic, site: 0, world: { encountersPerSite: 150, seed: 3 } }
  B: { adapter: synthetic, site: 1, world: { encountersPerSite: 150, seed: 3 } }
task: { type: binary, name: flu, positive: influenza }
embeddings:
  hashing: { provider: hashing, dimension: 64 }
scenarios: [local, source-only]
directions: all-pairs
model: { kinds: [logistic] }
baselineTraining: { epochs: 1, itersPerEpoch: 5 }
`;

const dir = mkdtempSync(join(tmpdir(), "cb-cli-run-"));
const specFile = (name: string, text: string | Buffer) => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};
const bad = async (args: string[], pattern: RegExp) => {
  const r = await runCli(args);
  assert.equal(r.code, 2, `${args.join(" ")}: ${r.output}`);
  assert.match(r.output, pattern);
  assert.doesNotMatch(r.output, /internal error|ZodError/);
};

test("case 6: usage errors exit 2 (unknown option, bad flag value, unknown command)", async () => {
  await bad(["--bogus"], /unknown option/);
  await bad(["frobnicate"], /unknown command/);
  await bad(
    ["train", "synthetic:A", "--out", join(dir, "m.json"), "--epochs", "-3"],
    /--epochs must be a positive integer/,
  );
  await bad(["run", specFile("ok.yaml", SPEC), "--workers", "0", "--dry-run"], /--workers/);
  await bad(["run", specFile("ok.yaml", SPEC), "--shard", "4/3", "--dry-run"], /--shard/);
  assert.equal((await runCli(["--version"])).code, 0);
});

test("case 6: --dry-run refuses what the run refuses: embedding and world settings", async () => {
  const cases: [string, RegExp][] = [
    [SPEC.replace("dimension: 64", "dimensoin: 64"), /embeddings\.hashing\.dimensoin/],
    [SPEC.replace("provider: hashing, dimension: 64", "provider: hashnig"), /embeddings\.hashing\.provider/],
    [SPEC.replace("dimension: 64", "dimension: -32"), /embeddings\.hashing\.dimension/],
    [
      SPEC.replace("site: 1, world: { encountersPerSite: 150", "site: 1, world: { encountersPerSite: -5"),
      /sites\.B|encountersPerSite/,
    ],
  ];
  for (const [i, [text, pattern]] of cases.entries()) {
    const out = join(dir, `dry-${i}`);
    await bad(["run", specFile(`dry-${i}.yaml`, text), "--dry-run", "-o", out], pattern);
    assert.equal(existsSync(out), false);
  }
  const r = await runCli(["run", specFile("ok.yaml", SPEC), "--dry-run", "-o", join(dir, "dry-ok")]);
  assert.equal(r.code, 0, r.output);
  assert.match(r.output, /4 cells in 4 jobs: 0 done, 4 to run/);
});

test("case 6: a spec file with invalid UTF-8 is refused, not repaired", async () => {
  const bytes = Buffer.concat([
    Buffer.from(SPEC.replace("name: cli-run", "name: cli-run\ndescription: caf")),
    Buffer.from([0xe9, 0x0a]),
  ]);
  await bad(["run", specFile("latin1.yaml", bytes), "--dry-run"], /not valid UTF-8/);
});

test("case 2: a spec named ../../x cannot put results outside the output folder", async () => {
  const cwd = process.cwd();
  const work = mkdtempSync(join(tmpdir(), "cb-cli-name-"));
  process.chdir(work);
  try {
    await bad(
      ["run", specFile("evil.yaml", SPEC.replace("name: cli-run", 'name: "../../x"')), "-q"],
      /field "name".*safe name/,
    );
    await bad(
      [
        "run",
        specFile(
          "evil-site.yaml",
          SPEC.replace("  B: {", '  "../B": {').replace("all-pairs", "[{ source: A, target: ../B }]"),
        ),
        "-q",
      ],
      /sites\.\.\.\/B/,
    );
    assert.deepEqual(readdirSync(work), []);
  } finally {
    process.chdir(cwd);
  }
});

test("case 1: run twice into one folder resumes; another spec there is refused with exit 2", async () => {
  const out = join(dir, "twice");
  const spec = specFile("twice.yaml", SPEC);
  const first = await runCli(["run", spec, "-o", out, "-q", "--no-report"]);
  assert.equal(first.code, 0, first.output);
  const again = await runCli(["run", spec, "-o", out, "-q", "--no-report"]);
  assert.equal(again.code, 0, again.output);
  assert.match(again.output, /4 cells: 4 already done, 0 run/);
  await bad(
    ["run", specFile("other.yaml", SPEC.replace("name: cli-run", "name: other")), "-o", out, "-q"],
    /another experiment \(spec "cli-run"\).*--force-new/,
  );
  const forced = await runCli([
    "run",
    specFile("other.yaml", SPEC.replace("name: cli-run", "name: other")),
    "-o",
    out,
    "-q",
    "--no-report",
    "--force-new",
  ]);
  assert.equal(forced.code, 0, forced.output);
  assert.match(forced.output, /4 cells: 0 already done, 4 run/);
});

test("case 4: align --out and data synthesize refuse to overwrite without --force (before any work)", async () => {
  const existing = specFile("exists.json", "keep me");
  await bad(
    ["align", "--source", "synthetic:A", "--target", "synthetic:B", "--out", existing],
    /already exists; pass --force/,
  );
  await bad(["data", "synthesize", dir], /already exists; pass --force/);
  assert.equal(readFileSync(existing, "utf8"), "keep me");
});
