import type { z } from "zod";
import { InputError } from "./errors.js";

/**
 * The one way user input meets a zod schema: parse, and turn the first failure into an InputError
 * naming the file and the full field path (`training.lr`, `sites.A.split.testFraction`), so the CLI
 * exits 2 with one line instead of a ZodError stack. `field` is the path of `value` itself, if any.
 */
export function parseInput<S extends z.ZodType>(
  schema: S,
  value: unknown,
  location: InputPlace = {},
): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw zodInputError(r.error, location);
}

/** Where a value came from: its file, its field path, and what it is ("hashing settings"). */
export interface InputPlace {
  file?: string;
  field?: string;
  /** Named in the message: "invalid <what>: <path>: <problem>". */
  what?: string;
}

/** An InputError for a zod failure at `location`. */
export function zodInputError(error: z.ZodError, location: InputPlace = {}): InputError {
  const issue = error.issues[0];
  const path = [...(location.field ? [location.field] : []), ...issue.path.map(String)].join(".");
  const keys = (issue as { keys?: string[] }).keys;
  // zod names an unknown key in the message only; put it in the path too so the field is exact.
  const field =
    issue.code === "unrecognized_keys" && keys?.length ? [path, keys[0]].filter(Boolean).join(".") : path;
  const where =
    location.what !== undefined
      ? `invalid ${location.what}: ${issue.path.length > 0 ? `${issue.path.join(".")}: ` : ""}`
      : "";
  return new InputError(`${where}${issue.message}`, {
    ...(location.file !== undefined ? { file: location.file } : {}),
    ...(field !== "" ? { field } : {}),
  });
}
