import { isAbsolute, resolve } from "node:path";
import { sharedData } from "../util/paths.js";

/**
 * Resolve a path written in a spec: `shared:<rel>` points into the shared public data folder
 * (../shared/data beside the project, or $CONCEPTBRIDGE_SHARED_DATA); other relative paths are
 * relative to the spec file's folder, so a spec can be copied to another site with its files.
 */
export function resolveSpecPath(p: string, specDir: string): string {
  if (p.startsWith("shared:")) return sharedData(p.slice("shared:".length));
  return isAbsolute(p) ? p : resolve(specDir, p);
}
