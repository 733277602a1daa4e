import { existsSync } from "node:fs";
import { InputError } from "./errors.js";

/**
 * No overwrite without --force: every file the CLI writes is checked before any work starts (so a
 * long training run does not end in a refusal), and refused when it exists unless `force` is set.
 */
export function checkWritable(path: string, o: { force?: boolean; flag?: string } = {}): void {
  if (o.force || !existsSync(path)) return;
  throw new InputError("already exists; pass --force to overwrite it", {
    file: path,
    ...(o.flag !== undefined ? { field: o.flag } : {}),
  });
}
