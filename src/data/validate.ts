import type { z } from "zod";
import { InputError } from "../util/errors.js";

/**
 * Parse settings with a zod schema; a failure becomes an InputError naming the setting's path
 * (e.g. `synthetic.shift`), so the CLI exits 2 with a one-line message instead of a stack trace.
 */
export function parseSettings<S extends z.ZodType>(schema: S, input: unknown, where: string): z.infer<S> {
  const r = schema.safeParse(input ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = [where, ...issue.path.map(String)].join(".");
  throw new InputError(issue.message, { file: where, field: path });
}
