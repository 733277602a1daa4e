import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { distIsFresh, sourceStamp, writeStamp } from "../../scripts/source-stamp.mjs";

/*
 * `npm start` runs dist/ only while dist/source-stamp.json matches the sources (scripts/start.mjs):
 * any edit, added or renamed source file makes it stale, and so does a missing stamp.
 */
test("the source stamp follows every byte and name under src/ and the tsconfigs", () => {
  const root = mkdtempSync(join(tmpdir(), "cb-stamp-"));
  try {
    mkdirSync(join(root, "src", "model"), { recursive: true });
    mkdirSync(join(root, "dist"));
    writeFileSync(join(root, "src", "model", "a.ts"), "export const a = 1;\n");
    writeFileSync(join(root, "tsconfig.json"), "{}\n");
    writeFileSync(join(root, "tsconfig.build.json"), "{}\n");
    assert.equal(distIsFresh(root), false, "no stamp: not fresh");
    writeStamp(root);
    assert.equal(distIsFresh(root), true);
    const first = sourceStamp(root);
    writeFileSync(join(root, "src", "model", "a.ts"), "export const a = 2;\n");
    assert.equal(distIsFresh(root), false, "an edit");
    writeFileSync(join(root, "src", "model", "a.ts"), "export const a = 1;\n");
    assert.equal(sourceStamp(root), first, "the same bytes, the same stamp");
    renameSync(join(root, "src", "model", "a.ts"), join(root, "src", "model", "b.ts"));
    assert.notEqual(sourceStamp(root), first, "a rename");
    renameSync(join(root, "src", "model", "b.ts"), join(root, "src", "model", "a.ts"));
    writeFileSync(join(root, "src", "new.ts"), "");
    assert.notEqual(sourceStamp(root), first, "a new (even empty) file");
    rmSync(join(root, "src", "new.ts"));
    writeFileSync(join(root, "tsconfig.build.json"), '{"compilerOptions":{}}\n');
    assert.notEqual(sourceStamp(root), first, "a tsconfig edit");
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
