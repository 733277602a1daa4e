import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { InputError } from "../util/errors.js";
import { type EmbeddingSpecInput, parseEmbeddingSpec } from "./registry.js";

/**
 * An embedding spec as a user types it on a command line: inline JSON, a JSON/YAML file, or a bare
 * provider name ("hashing"). Validated with the registry's schema; errors name the file or flag.
 */
/** `--embedding` as inline JSON, a JSON/YAML file, or a bare provider name ("hashing"). */
export async function readEmbeddingSpecArg(v: string | undefined): Promise<EmbeddingSpecInput | undefined> {
  if (v === undefined) return undefined;
  const t = v.trim();
  if (t.startsWith("{")) {
    try {
      return parseEmbeddingSpec(JSON.parse(t), "--embedding");
    } catch (e) {
      if (e instanceof InputError) throw e;
      throw new InputError(`--embedding is not valid JSON: ${(e as Error).message}`, {
        field: "--embedding",
      });
    }
  }
  if (existsSync(t)) {
    const text = await readFile(t, "utf8");
    let raw: unknown;
    try {
      raw = parseYaml(text);
    } catch (e) {
      throw new InputError(`not valid JSON/YAML: ${(e as Error).message}`, { file: t });
    }
    return parseEmbeddingSpec(raw, t);
  }
  return parseEmbeddingSpec({ provider: t }, "--embedding");
}
