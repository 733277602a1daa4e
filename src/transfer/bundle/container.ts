import { createHash } from "node:crypto";
import { InputError } from "../../util/errors.js";

/**
 * The bundle container, byte by byte (all integers unsigned 32-bit little-endian):
 *
 *   magic (8)  89 43 42 4E 44 0D 0A 1A   ("\x89CBND\r\n\x1a": catches text-mode and 7-bit mangling)
 *   format version (4)
 *   header length H (4)
 *   header: H bytes of UTF-8 JSON (the manifest lists every part's length and SHA-256)
 *   parts: concatenated in manifest order, their lengths summing to P
 *   content digest (32): SHA-256 of every byte above (magic .. last part)
 *   signature length S (4): 0 (unsigned) or 108
 *   signature (S): Ed25519 public key as SPKI DER (44) + signature (64) of the content digest
 *
 * The file must end exactly there. Every byte is therefore checked: the digest covers magic, version,
 * lengths, header and parts; a changed digest no longer matches; a changed length breaks the exact
 * size; a changed key or signature fails Ed25519 verification against the key the bundle carries.
 */
export const MAGIC = Uint8Array.from([0x89, 0x43, 0x42, 0x4e, 0x44, 0x0d, 0x0a, 0x1a]);
export const FORMAT_VERSION = 1;
const PREFIX = 16;
const DIGEST = 32;
export const SPKI_LENGTH = 44;
export const SIGNATURE_LENGTH = 64;
export const SIGNATURE_BLOCK = SPKI_LENGTH + SIGNATURE_LENGTH;

export interface ContainerSignature {
  /** Ed25519 public key, SPKI DER. */
  publicKey: Uint8Array;
  signature: Uint8Array;
}

export interface DecodedContainer {
  version: number;
  headerBytes: Uint8Array;
  header: unknown;
  /** Part bytes in manifest order (views into the file). */
  parts: Uint8Array[];
  digest: Uint8Array;
  signature: ContainerSignature | null;
}

/** The bytes before the digest. */
export function encodeContent(
  headerBytes: Uint8Array,
  parts: readonly Uint8Array[],
  version = FORMAT_VERSION,
): Buffer {
  const prefix = Buffer.alloc(PREFIX);
  prefix.set(MAGIC, 0);
  prefix.writeUInt32LE(version, 8);
  prefix.writeUInt32LE(headerBytes.length, 12);
  return Buffer.concat([prefix, headerBytes, ...parts]);
}

export function sha256(bytes: Uint8Array): Buffer {
  return createHash("sha256").update(bytes).digest();
}

/** Content + digest + signature block. `sign` receives the digest and returns the signature block. */
export function sealContainer(
  content: Uint8Array,
  sign?: (digest: Uint8Array) => ContainerSignature,
): Buffer {
  const digest = sha256(content);
  const sig = sign ? sign(digest) : null;
  const len = Buffer.alloc(4);
  len.writeUInt32LE(sig ? SIGNATURE_BLOCK : 0, 0);
  if (sig && (sig.publicKey.length !== SPKI_LENGTH || sig.signature.length !== SIGNATURE_LENGTH)) {
    throw new Error("sealContainer: signature block has the wrong size");
  }
  return Buffer.concat(sig ? [content, digest, len, sig.publicKey, sig.signature] : [content, digest, len]);
}

/**
 * Parse and check a container: structure, version, exact size, per-part hashes and the content digest.
 * `partLengths` reads the manifest from the parsed header (the container knows nothing about its
 * schema); it must throw an InputError on a malformed header. Signatures are checked by the caller.
 */
export function decodeContainer(
  bytes: Uint8Array,
  file: string,
  manifest: (header: unknown) => { name: string; length: number; sha256: string }[],
): DecodedContainer {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < PREFIX) {
    throw new InputError(`not a ConceptBridge bundle or truncated (${buf.length} bytes)`, { file });
  }
  if (!buf.subarray(0, 8).equals(MAGIC)) {
    throw new InputError("not a ConceptBridge bundle (bad magic bytes)", { file });
  }
  const version = buf.readUInt32LE(8);
  if (version > FORMAT_VERSION) {
    throw new InputError(
      `bundle format version ${version} is newer than this ConceptBridge reads (${FORMAT_VERSION}); upgrade ConceptBridge`,
      { file },
    );
  }
  if (version !== FORMAT_VERSION) {
    throw new InputError(
      `unknown bundle format version ${version} (this ConceptBridge reads ${FORMAT_VERSION})`,
      {
        file,
      },
    );
  }
  const headerLength = buf.readUInt32LE(12);
  if (PREFIX + headerLength + DIGEST + 4 > buf.length) {
    throw new InputError(`bundle truncated or corrupt: header of ${headerLength} bytes does not fit`, {
      file,
    });
  }
  const headerBytes = buf.subarray(PREFIX, PREFIX + headerLength);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(headerBytes));
  } catch {
    throw new InputError("bundle header is not valid UTF-8 JSON (corrupt or tampered)", { file });
  }
  const entries = manifest(header);
  let offset = PREFIX + headerLength;
  const parts: Uint8Array[] = [];
  for (const e of entries) {
    if (offset + e.length + DIGEST + 4 > buf.length) {
      throw new InputError(`bundle truncated: part "${e.name}" (${e.length} bytes) runs past the end`, {
        file,
      });
    }
    parts.push(buf.subarray(offset, offset + e.length));
    offset += e.length;
  }
  const contentEnd = offset;
  const sigLength = buf.readUInt32LE(contentEnd + DIGEST);
  if (sigLength !== 0 && sigLength !== SIGNATURE_BLOCK) {
    throw new InputError(
      `bundle corrupt: signature block of ${sigLength} bytes (expected 0 or ${SIGNATURE_BLOCK})`,
      {
        file,
      },
    );
  }
  const expectedSize = contentEnd + DIGEST + 4 + sigLength;
  if (buf.length < expectedSize)
    throw new InputError(`bundle truncated (${buf.length} of ${expectedSize} bytes)`, { file });
  if (buf.length > expectedSize) {
    throw new InputError(`bundle corrupt: ${buf.length - expectedSize} unexpected bytes after the end`, {
      file,
    });
  }
  entries.forEach((e, i) => {
    if (sha256(parts[i]).toString("hex") !== e.sha256) {
      throw new InputError(`bundle tampered: part "${e.name}" does not match its SHA-256 in the manifest`, {
        file,
      });
    }
  });
  const digest = buf.subarray(contentEnd, contentEnd + DIGEST);
  if (!sha256(buf.subarray(0, contentEnd)).equals(digest)) {
    throw new InputError("bundle tampered: content digest mismatch (header, manifest or digest changed)", {
      file,
    });
  }
  const sigStart = contentEnd + DIGEST + 4;
  const signature =
    sigLength === 0
      ? null
      : {
          publicKey: buf.subarray(sigStart, sigStart + SPKI_LENGTH),
          signature: buf.subarray(sigStart + SPKI_LENGTH, sigStart + SIGNATURE_BLOCK),
        };
  return { version, headerBytes, header, parts, digest, signature };
}
