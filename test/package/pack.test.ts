import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { PROJECT_ROOT } from "../../src/util/paths.js";

/**
 * The published shape: `npm pack` (which builds dist/ through `prepare`), the tarball unpacked into a
 * fresh project's node_modules as npm would place it, its dependencies linked from this checkout (the
 * registry is not needed to prove the package's own files, exports and types work), then the README's
 * library example run from plain Node ESM and a TypeScript consumer type-checked against the
 * shipped declarations.
 */
test("npm pack -> install into a temp project -> import from plain Node ESM and from TypeScript", {
  timeout: 300_000,
}, () => {
  const dir = mkdtempSync(join(tmpdir(), "cb-pack-"));
  const tgz = execFileSync("npm", ["pack", "--silent", "--pack-destination", dir], {
    cwd: PROJECT_ROOT,
    encoding: "utf8",
    env: { ...process.env, npm_config_loglevel: "error" },
  })
    .trim()
    .split("\n")
    .pop() as string;
  const app = join(dir, "app");
  const modules = join(app, "node_modules");
  mkdirSync(join(modules, "conceptbridge"), { recursive: true });
  execFileSync("tar", ["-xzf", join(dir, tgz), "-C", join(modules, "conceptbridge"), "--strip-components=1"]);
  const manifest = JSON.parse(readFileSync(join(modules, "conceptbridge", "package.json"), "utf8"));
  for (const dep of Object.keys(manifest.dependencies)) {
    const parts = dep.split("/");
    if (parts.length === 2) mkdirSync(join(modules, parts[0]), { recursive: true });
    symlinkSync(join(PROJECT_ROOT, "node_modules", dep), join(modules, dep));
  }
  const shipped = readdirSync(join(modules, "conceptbridge"));
  assert.ok(
    shipped.includes("dist") && !shipped.includes("src") && !shipped.includes("test"),
    shipped.join(","),
  );
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));

  // The README's example, as a user would run it.
  const example = readFileSync(join(PROJECT_ROOT, "examples", "library", "transfer.mjs"), "utf8");
  writeFileSync(join(app, "transfer.mjs"), example);
  const out = execFileSync(process.execPath, ["transfer.mjs"], { cwd: app, encoding: "utf8" });
  const auroc = (s: string) => Number(new RegExp(`${s}: AUROC ([0-9.]+)`).exec(out)?.[1]);
  assert.ok(auroc("source-only") > 0.55, out);
  assert.ok(auroc("finetune-dense") > 0.55, out);
  assert.notEqual(auroc("source-only"), auroc("finetune-dense"), "fine-tuning moved the model");

  // Types: a consumer that misuses the API must fail to compile, a correct one must pass.
  const tsconfig = {
    compilerOptions: {
      module: "NodeNext",
      moduleResolution: "NodeNext",
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: [],
    },
    include: ["*.ts"],
  };
  writeFileSync(join(app, "tsconfig.json"), JSON.stringify(tsconfig));
  const tsc = join(PROJECT_ROOT, "node_modules", "typescript", "bin", "tsc");
  writeFileSync(
    join(app, "use.ts"),
    'import { type ScenarioInput, SCENARIO_NAMES, paperCnn } from "conceptbridge";\nconst s: ScenarioInput["scenario"] = SCENARIO_NAMES[0];\nexport const a = paperCnn(8, 2).filters[0] + s.length;\n',
  );
  execFileSync(process.execPath, [tsc, "-p", app], { cwd: app, encoding: "utf8" });
  writeFileSync(
    join(app, "use.ts"),
    'import { paperCnn } from "conceptbridge";\nexport const a: string = paperCnn(8, 2);\n',
  );
  assert.throws(
    () => execFileSync(process.execPath, [tsc, "-p", app], { cwd: app, encoding: "utf8" }),
    (e: { stdout?: string }) => /TS2322/.test(e.stdout ?? ""),
  );
});
