import { readFile } from "node:fs/promises";
import { gunzipSync } from "node:zlib";
import { InputError } from "../util/errors.js";

/**
 * Read a whole text file as strict UTF-8 (gunzipping `.gz` files). Empty files, unreadable files and
 * invalid UTF-8 are input errors naming the file (and, for bad bytes, the line), because a silently
 * replaced byte would turn into a different concept text downstream.
 */
export async function readTextFile(path: string): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(code === "ENOENT" ? "file not found" : `cannot read file (${code ?? String(e)})`, {
      file: path,
    });
  }
  if (path.endsWith(".gz")) {
    try {
      bytes = gunzipSync(bytes);
    } catch {
      throw new InputError("not a valid gzip file", { file: path });
    }
  }
  return decodeUtf8(bytes, path);
}

/** Strict UTF-8 decode; drops a leading byte-order mark. */
export function decodeUtf8(bytes: Uint8Array, file: string): string {
  if (bytes.length === 0) throw new InputError("file is empty", { file });
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new InputError("file is not valid UTF-8", { file, row: firstBadLine(bytes) });
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim().length === 0) throw new InputError("file is empty", { file });
  return text;
}

/** 1-based line of the first invalid UTF-8 sequence (only computed on the error path). */
function firstBadLine(bytes: Uint8Array): number {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let line = 1;
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === 0x0a) {
      try {
        decoder.decode(bytes.subarray(start, i));
      } catch {
        return line;
      }
      line++;
      start = i + 1;
    }
  }
  return line;
}
