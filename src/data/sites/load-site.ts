import { InputError, isInputError } from "../../util/errors.js";
import { readSiteFiles } from "./adapters.js";
import type { SiteSpec } from "./site-spec.js";
import { type SplitSite, splitSite } from "./split-site.js";

/**
 * Read one site named in an experiment spec and split it into pool and test. Errors name the spec
 * entry (`sites.<name>`) as well as the data file's own file/row/field, which stay in the message.
 */
export async function loadSite(
  name: string,
  spec: SiteSpec,
  specDir: string,
  specFile: string,
): Promise<SplitSite> {
  const at = `sites.${name}`;
  try {
    const files = await readSiteFiles(spec, { name, baseDir: specDir, file: specFile, at });
    return splitSite(name, files, spec.split);
  } catch (e) {
    if (isInputError(e)) {
      if (e.location.file === specFile) throw e;
      const field = e.location.file === undefined && e.location.field ? `${at}.${e.location.field}` : at;
      throw new InputError(e.message, { file: specFile, field });
    }
    throw e;
  }
}
