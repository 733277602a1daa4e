import type { z } from "zod";
import { parseInput } from "../util/parse-input.js";

/**
 * Parse settings with a zod schema; a failure becomes an InputError naming the setting's path
 * (e.g. `synthetic.shift`), so the CLI exits 2 with a one-line message instead of a stack trace.
 */
export function parseSettings<S extends z.ZodType>(schema: S, input: unknown, where: string): z.infer<S> {
  return parseInput(schema, input ?? {}, { file: where, field: where });
}
