import { readFile } from "node:fs/promises";
import { decodeUtf8 } from "../../data/text-file.js";
import { readEmbeddingSpecArg } from "../../embed/spec-arg.js";
import { loadModel, saveModel } from "../../model/model-file.js";
import { TrainSettings, type TrainSettingsInput } from "../../model/train-settings.js";
import { writeFileAtomic } from "../../util/atomic-write.js";
import { InputError } from "../../util/errors.js";
import { checkWritable } from "../../util/output-file.js";
import { parseInput } from "../../util/parse-input.js";
import { codeVersionString } from "../../util/version.js";
import {
  checkEmbeddingCompatible,
  decodeBundle,
  encodeBundle,
  type OpenedBundle,
  type PerformanceInput,
  readBundleFile,
  writeBundleFile,
} from "./bundle.js";
import { providerForBundle } from "./provider.js";
import { type BundleHeader, BundleMetrics } from "./schema.js";
import { readPrivateKey, readPublicKey } from "./signing.js";

/**
 * The bundle verbs as files in, files out (what `conceptbridge bundle export|verify|import` and the
 * library call): package a trained model as one verifiable file for other sites, check one, and turn
 * one back into a model file.
 */

export interface ExportOptions {
  model: string;
  out: string;
  sign?: string;
  summary?: string;
  training?: string;
  /** Overwrite `out` if it exists (refused otherwise). */
  force?: boolean;
  /**
   * Writes the model card from the bundle's header (report/model-card.ts; transfer/ cannot import
   * the report): stored inside the bundle and beside it as `<out>.model-card.md`.
   */
  modelCard?: (header: BundleHeader) => string;
}

export async function exportBundle(o: ExportOptions): Promise<OpenedBundle> {
  checkWritable(o.out, { force: o.force, flag: "--out" });
  const snapshot = await loadModel(o.model);
  const performance = o.summary ? await readPerformance(o.summary) : null;
  const training = o.training ? await readTraining(o.training) : null;
  const signingKey = o.sign ? await readPrivateKey(o.sign) : undefined;
  const base = { snapshot, performance, training, createdAt: new Date().toISOString() };
  if (!o.modelCard) return writeBundleFile(o.out, { ...base, ...(signingKey ? { signingKey } : {}) });
  // The card describes the header exactly as written (sanitised performance, parsed training).
  const card = o.modelCard(decodeBundle(encodeBundle(base), o.out).header);
  const opened = await writeBundleFile(o.out, {
    ...base,
    modelCard: card,
    ...(signingKey ? { signingKey } : {}),
  });
  await writeFileAtomic(`${o.out}.model-card.md`, card);
  return opened;
}

export async function verifyBundle(file: string, pubkey?: string): Promise<OpenedBundle> {
  const trustedKey = pubkey ? await readPublicKey(pubkey) : undefined;
  return readBundleFile(file, trustedKey ? { trustedKey } : {});
}

/**
 * The signature policy at the target. A bundle is used (imported, scored with, fine-tuned) only when
 * it is signed by the key the target trusts (`pubkey`, a public key file), or when the user says
 * explicitly that an unchecked bundle is acceptable (`allowUnsigned`). A bundle whose signature was
 * stripped, or that was changed and re-signed by another key, is refused by default.
 */
export interface TrustOptions {
  /** Trusted Ed25519 public key (PEM): the bundle must be signed by exactly this key. */
  pubkey?: string;
  /** Use a bundle without checking who signed it (unsigned, or signed by an unchecked key). */
  allowUnsigned?: boolean;
}

/** Which way a bundle was accepted: recorded beside every file made from it. */
export interface BundleTrust {
  policy: "trusted-key" | "allow-unsigned";
  /** Fingerprint of the key that signed the bundle (null: unsigned). */
  signer: string | null;
}

/** Open and verify a bundle under the signature policy; refuse it when neither rule admits it. */
export async function openBundle(
  file: string,
  o: TrustOptions,
): Promise<{ bundle: OpenedBundle; trust: BundleTrust }> {
  if (o.pubkey !== undefined) {
    const bundle = await verifyBundle(file, o.pubkey);
    return { bundle, trust: { policy: "trusted-key", signer: bundle.signer?.fingerprint ?? null } };
  }
  // Integrity (manifest, digests, a present signature against its own key) is checked either way.
  const bundle = await verifyBundle(file);
  if (!o.allowUnsigned) {
    const what = bundle.signer
      ? `is signed by key ${bundle.signer.fingerprint}, but no trusted key was given to check that key against`
      : "is not signed";
    throw new InputError(
      `bundle ${what}: pass --pubkey <trusted public key .pem> (the signer's bundle-signing.pub.pem), ` +
        "or --allow-unsigned to use it without knowing who made it",
      { file },
    );
  }
  return { bundle, trust: { policy: "allow-unsigned", signer: bundle.signer?.fingerprint ?? null } };
}

/** One line on how a bundle was accepted. */
export function describeTrust(t: BundleTrust): string {
  return t.policy === "trusted-key"
    ? `trust: signed by the trusted key ${t.signer}`
    : `trust: NOT VERIFIED (--allow-unsigned): ${t.signer ? `signed by key ${t.signer}, not checked against a trusted key` : "unsigned"}`;
}

/** The record written beside a file made from a bundle: `<out>.trust.json`. */
export function trustFileFor(out: string): string {
  return `${out}.trust.json`;
}

export async function writeTrustRecord(
  out: string,
  bundleFile: string,
  b: OpenedBundle,
  trust: BundleTrust,
): Promise<void> {
  const record = {
    format: "conceptbridge.bundle-trust",
    output: out,
    bundle: bundleFile,
    bundleDigest: b.digest,
    policy: trust.policy,
    signer: trust.signer,
    writtenBy: codeVersionString(),
    writtenAt: new Date().toISOString(),
  };
  await writeFileAtomic(trustFileFor(out), `${JSON.stringify(record, null, 2)}\n`);
}

export interface ImportOptions extends TrustOptions {
  out: string;
  /** Overwrite `out` (and its trust record) if they exist (refused otherwise). */
  force?: boolean;
  /** The target's embedding provider id (and dimension) the model must have been trained with. */
  providerId?: string;
  dimension?: number;
  /** The target's embedding spec: its provider must be the bundle's. */
  embedding?: string;
}

/** Verify a bundle under the signature policy and write its model file, with `<out>.trust.json` beside it. */
export async function importBundle(
  file: string,
  o: ImportOptions,
): Promise<OpenedBundle & { trust: BundleTrust }> {
  for (const f of [o.out, trustFileFor(o.out)]) checkWritable(f, { force: o.force, flag: "--out" });
  const { bundle: opened, trust } = await openBundle(file, o);
  checkEmbeddingCompatible(opened.header, { providerId: o.providerId, dimension: o.dimension }, file);
  const spec = await readEmbeddingSpecArg(o.embedding);
  if (spec !== undefined) await providerForBundle(opened, file, spec);
  await saveModel(o.out, opened.snapshot);
  await writeTrustRecord(o.out, file, opened, trust);
  return { ...opened, trust };
}

/**
 * A performance summary from a JSON file: a results-store line ({metrics, counts, key.task}) or a bare
 * metrics object ({auroc, aurocCI, ...}). Only known metric fields are kept; stored predictions and
 * anything else a results line holds are dropped, and counts are suppressed/rounded on export.
 */
export async function readPerformance(path: string): Promise<PerformanceInput> {
  const obj = await readJsonObject(path, "performance summary");
  const rawMetrics = typeof obj.metrics === "object" && obj.metrics !== null ? obj.metrics : obj;
  const metrics = parseInput(BundleMetrics, rawMetrics, { file: path });
  const counts: NonNullable<PerformanceInput["counts"]> = {};
  if (typeof obj.counts === "object" && obj.counts !== null) {
    for (const k of ["train", "validation", "test"] as const) {
      const n = (obj.counts as Record<string, unknown>)[k];
      if (n === undefined) continue;
      if (typeof n !== "number" || !Number.isInteger(n) || n < 0) {
        throw new InputError("must be a non-negative integer", { file: path, field: `counts.${k}` });
      }
      counts[k] = n;
    }
  }
  const key = typeof obj.key === "object" && obj.key !== null ? (obj.key as Record<string, unknown>) : {};
  const task = typeof key.task === "string" ? key.task : typeof obj.task === "string" ? obj.task : undefined;
  const description =
    typeof obj.description === "string" ? obj.description : `from ${path.split(/[\\/]/).pop()}`;
  checkFreeText(description, path, "description");
  if (task !== undefined) checkFreeText(task, path, "task");
  return {
    description,
    ...(task ? { task } : {}),
    metrics: roundMetrics(metrics),
    ...(Object.keys(counts).length > 0 ? { counts } : {}),
  };
}

async function readTraining(path: string): Promise<TrainSettingsInput> {
  const obj = await readJsonObject(path, "training settings");
  return parseInput(TrainSettings, obj, { file: path });
}

async function readJsonObject(path: string, what: string): Promise<Record<string, unknown>> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new InputError(`cannot read ${what}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, {
      file: path,
    });
  }
  // Strict UTF-8, like every input file: a silently repaired byte would be a different text.
  const text = decodeUtf8(bytes, path);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    const lines = text.trim().split("\n").length;
    const hint = lines > 1 ? " (a results.jsonl has one result per line: save the one line you mean)" : "";
    throw new InputError(`${what} is not valid JSON${hint}: ${(e as Error).message}`, { file: path });
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new InputError(`${what} must be a JSON object`, { file: path });
  }
  return v as Record<string, unknown>;
}

/** Human-readable summary of a verified bundle (no patient data exists in a bundle to print). */
export function describeBundle(file: string, b: OpenedBundle): string {
  const h = b.header;
  const m = h.model;
  const arch =
    m.architecture.kind === "concept-cnn"
      ? `concept CNN (kernels ${m.architecture.kernelSizes.join(",")}, filters ${m.architecture.filters.join(",")})`
      : "mean-embedding logistic regression";
  const lines = [
    `${file}: OK (SHA-256 ${b.digest})`,
    `  signature: ${
      b.signer
        ? `Ed25519 key ${b.signer.fingerprint}${b.trusted ? " (the trusted key)" : " (valid; not checked against a trusted key: pass --pubkey)"}`
        : "none"
    }`,
    `  model: ${arch}, classes ${m.classes.join(", ")}, ${m.vocabularySize} source tokens`,
    `  embedding: ${m.embedding.providerId} (dimension ${m.embedding.dimension}${m.embedding.trainable ? ", tuned" : ""})`,
    `  written by ConceptBridge ${h.codeVersion} at ${h.createdAt}`,
  ];
  const p = h.performance;
  if (p) {
    const ci = p.metrics.aurocCI
      ? ` (95% CI ${p.metrics.aurocCI[0].toFixed(3)}-${p.metrics.aurocCI[1].toFixed(3)})`
      : "";
    const counts = p.counts
      ? `; n ${Object.entries(p.counts)
          .map(([k, v]) => `${k} ${v}`)
          .join(", ")}`
      : "";
    lines.push(
      `  performance: AUROC ${p.metrics.auroc.toFixed(3)}${ci}${p.task ? ` on ${p.task}` : ""}${counts}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

/**
 * Free text that goes into a bundle travels to other sites: it must be a short label, not a place
 * where patient data can ride along. Refused: more than 160 characters, line breaks, control
 * characters, runs of 5 or more digits (record numbers, dates written as digits), dates, e-mail
 * addresses.
 */
export function checkFreeText(text: string, file: string, field: string): void {
  const why =
    text.length > 160
      ? "is longer than 160 characters"
      : [...text].some((ch) => ch.charCodeAt(0) < 32 || ch.charCodeAt(0) === 127)
        ? "holds line breaks or control characters"
        : /\d{5,}/.test(text)
          ? "holds a run of 5 or more digits (a record number or date?)"
          : /\b\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}\b/.test(text)
            ? "holds a date"
            : /[^\s@]+@[^\s@]+\.[^\s@]+/.test(text)
              ? "holds an e-mail address"
              : null;
  if (why)
    throw new InputError(
      `${why}: a bundle's ${field} travels to other sites, so it may only be a short label without patient data`,
      { file, field },
    );
}

/**
 * Metrics as a bundle states them: 3 decimals. A rate or AUROC with 15 digits and a test count can
 * be solved for the number of events; at 3 decimals it cannot for the test sets a bundle's counts
 * allow (they are stated rounded up to tens).
 */
function roundMetrics(m: BundleMetrics): BundleMetrics {
  const r = (x: number) => Math.round(x * 1000) / 1000;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m)) {
    if (typeof v === "number") out[k] = r(v);
    else if (Array.isArray(v)) out[k] = v.map((x) => (typeof x === "number" ? r(x) : x));
    else if (v && typeof v === "object")
      out[k] = Object.fromEntries(Object.entries(v).map(([c, x]) => [c, typeof x === "number" ? r(x) : x]));
    else out[k] = v;
  }
  return out as BundleMetrics;
}
