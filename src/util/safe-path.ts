import { isAbsolute, relative, resolve, sep } from "node:path";
import { InputError, type InputLocation } from "./errors.js";

/**
 * Names that become parts of file paths (a spec's name, site and embedding keys) are safe slugs: a
 * letter or digit, then letters, digits, `.`, `_` or `-`, at most 64 characters. No separators, no
 * `.` / `..`, nothing a shell or another OS reads differently. And every path built from user input
 * is checked to stay inside the folder it is meant for, so a spec shared between sites cannot write
 * anywhere else.
 */
export const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const SAFE_NAME_RULE =
  "must be a safe name: a letter or digit, then letters, digits, '.', '_' or '-' (at most 64 characters)";

export function isSafeName(name: string): boolean {
  return SAFE_NAME.test(name);
}

export function checkSafeName(name: string, where: InputLocation): string {
  if (!isSafeName(name)) throw new InputError(`"${name}" ${SAFE_NAME_RULE}`, where);
  return name;
}

/**
 * `root` joined with `parts`, resolved, and refused unless it lies inside `root` (or is `root`).
 * `what` names the path in the error (e.g. "source model file").
 */
export function containedPath(root: string, parts: string[], what = "output path"): string {
  const base = resolve(root);
  const full = resolve(base, ...parts);
  if (!isInside(base, full)) {
    throw new InputError(
      `${what} ${full} would lie outside the output folder ${base}; refusing to write it`,
      {
        file: base,
      },
    );
  }
  return full;
}

/** Whether `path` is `root` or lies below it (both resolved first). */
export function isInside(root: string, path: string): boolean {
  const rel = relative(resolve(root), resolve(path));
  return rel === "" || (!isAbsolute(rel) && rel !== ".." && !rel.startsWith(`..${sep}`));
}
