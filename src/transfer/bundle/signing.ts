import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { tempPathFor, writeFileAtomic } from "../../util/atomic-write.js";
import { InputError } from "../../util/errors.js";
import { type ContainerSignature, SPKI_LENGTH } from "./container.js";

/**
 * Ed25519 signatures of a bundle's content digest, so a target site can check who produced a model.
 * The bundle carries the signer's public key; `verify` always checks the signature against it (so a
 * changed key or signature byte is caught) and, given a trusted public key, also that it is that key.
 */

/** Domain separation: a bundle signature can never be replayed as a signature of anything else. */
const SIGNED_PREFIX = Buffer.from("conceptbridge.bundle.v1 digest:", "utf8");

function signedMessage(digest: Uint8Array): Buffer {
  return Buffer.concat([SIGNED_PREFIX, digest]);
}

export function signDigest(privateKey: KeyObject, digest: Uint8Array): ContainerSignature {
  if (privateKey.asymmetricKeyType !== "ed25519") throw new InputError("signing key is not an Ed25519 key");
  const publicKey = createPublicKey(privateKey).export({ type: "spki", format: "der" });
  return { publicKey, signature: sign(null, signedMessage(digest), privateKey) };
}

/** True when the signature is a valid Ed25519 signature of the digest by the embedded key. */
export function signatureValid(sig: ContainerSignature, digest: Uint8Array): boolean {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(sig.publicKey), format: "der", type: "spki" });
  } catch {
    return false;
  }
  if (key.asymmetricKeyType !== "ed25519") return false;
  // Re-export must give the same bytes: refuses any alternative encoding of the same key.
  if (!Buffer.from(key.export({ type: "spki", format: "der" })).equals(Buffer.from(sig.publicKey)))
    return false;
  return verify(null, signedMessage(digest), key, sig.signature);
}

/** Short fingerprint of a public key (SPKI DER): the first 16 bytes of its SHA-256, hex. */
export function keyFingerprint(spkiDer: Uint8Array): string {
  return createHash("sha256").update(spkiDer).digest("hex").slice(0, 32);
}

export async function readPrivateKey(path: string): Promise<KeyObject> {
  const pem = await readKeyFile(path);
  try {
    const key = createPrivateKey(pem);
    if (key.asymmetricKeyType !== "ed25519") throw new Error("not ed25519");
    return key;
  } catch {
    throw new InputError("not an Ed25519 private key in PEM format (make one with `bundle keygen`)", {
      file: path,
    });
  }
}

/**
 * A trusted public key as SPKI DER bytes. A private key is refused, although one could be turned
 * into its public key: a private key passed as `--pubkey` has travelled to where it must not be, and
 * trusting "whatever key this file makes" is not a trust decision.
 */
export async function readPublicKey(path: string): Promise<Uint8Array> {
  const pem = await readKeyFile(path);
  if (/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(pem) || isPrivateKey(pem)) {
    throw new InputError(
      "this is a private key; --pubkey takes the signer's public key (bundle-signing.pub.pem). Keep the private key at the source site only",
      { file: path },
    );
  }
  try {
    const key = createPublicKey(pem);
    if (key.asymmetricKeyType !== "ed25519") throw new Error("not ed25519");
    const der = key.export({ type: "spki", format: "der" });
    if (der.length !== SPKI_LENGTH) throw new Error("unexpected length");
    return der;
  } catch {
    throw new InputError("not an Ed25519 public key in PEM format", { file: path });
  }
}

function isPrivateKey(pem: string): boolean {
  try {
    createPrivateKey(pem);
    return true;
  } catch {
    return false;
  }
}

async function readKeyFile(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    throw new InputError(`cannot read key file: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, {
      file: path,
    });
  }
}

export const PRIVATE_KEY_FILE = "bundle-signing.key.pem";
export const PUBLIC_KEY_FILE = "bundle-signing.pub.pem";

/**
 * Write a fresh Ed25519 key pair as PEM files. The private key is created readable by its owner only
 * (mode 0600 from the start, not chmod-ed afterwards) and existing key files are never overwritten:
 * losing a signing key silently would orphan every bundle signed with it.
 */
export async function generateSigningKeys(
  dir: string,
): Promise<{ privateKey: string; publicKey: string; fingerprint: string }> {
  const privatePath = join(dir, PRIVATE_KEY_FILE);
  const publicPath = join(dir, PUBLIC_KEY_FILE);
  for (const p of [privatePath, publicPath]) {
    if (existsSync(p)) throw new InputError("key file already exists; refusing to overwrite it", { file: p });
  }
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  await mkdir(dir, { recursive: true });
  const tmp = tempPathFor(privatePath);
  try {
    await writeFile(tmp, privateKey.export({ type: "pkcs8", format: "pem" }).toString(), { mode: 0o600 });
    await rename(tmp, privatePath);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  await writeFileAtomic(publicPath, publicKey.export({ type: "spki", format: "pem" }).toString());
  return {
    privateKey: privatePath,
    publicKey: publicPath,
    fingerprint: keyFingerprint(publicKey.export({ type: "spki", format: "der" })),
  };
}
