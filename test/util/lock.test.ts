import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { InputError } from "../../src/util/errors.js";
import { acquireLock, lockHolder } from "../../src/util/lock.js";

test("lock: one holder at a time; the second is told who holds it", () => {
  const path = join(mkdtempSync(join(tmpdir(), "cb-lock-")), ".lock");
  const a = acquireLock(path, "first run");
  assert.throws(
    () => acquireLock(path, "second run"),
    (e: unknown) =>
      e instanceof InputError && e.message.includes(`process ${process.pid} on ${hostname()} (first run)`),
  );
  assert.equal(lockHolder(path)?.purpose, "first run");
  a.release();
  assert.equal(existsSync(path), false);
  acquireLock(path, "again").release();
});

test("lock: a lock left by a dead process on this host is taken over; another host's is not", () => {
  const path = join(mkdtempSync(join(tmpdir(), "cb-lock-")), ".lock");
  // A pid that existed and is gone now.
  const dead = spawnSync(process.execPath, ["-e", "0"]).pid as number;
  writeFileSync(path, JSON.stringify({ pid: dead, host: hostname(), startedAt: "then" }));
  assert.equal(lockHolder(path), null);
  acquireLock(path, "taker").release();
  writeFileSync(path, JSON.stringify({ pid: dead, host: "elsewhere.example", startedAt: "then" }));
  assert.throws(() => acquireLock(path, "x"), /on elsewhere\.example/);
});
