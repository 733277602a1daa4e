import { readFile } from "node:fs/promises";
import { type Command, InvalidArgumentError } from "commander";
import { loadModel, saveModel } from "../../model/model-file.js";
import { TrainSettings, type TrainSettingsInput } from "../../model/train-settings.js";
import {
  checkEmbeddingCompatible,
  type OpenedBundle,
  type PerformanceInput,
  readBundleFile,
  writeBundleFile,
} from "../../transfer/bundle/bundle.js";
import { BundleMetrics } from "../../transfer/bundle/schema.js";
import { generateSigningKeys, readPrivateKey, readPublicKey } from "../../transfer/bundle/signing.js";
import { InputError } from "../../util/errors.js";
import { action } from "../run-command.js";
import { EMBEDDING_HELP, providerForBundle, readEmbeddingSpecArg } from "./bundle-embedding.js";

/**
 * `conceptbridge bundle export|verify|import|keygen`: package a trained model as one verifiable file
 * for other sites, check one, and turn one back into a model file.
 */

export interface ExportOptions {
  model: string;
  out: string;
  sign?: string;
  summary?: string;
  training?: string;
}

export async function exportBundle(o: ExportOptions): Promise<OpenedBundle> {
  const snapshot = await loadModel(o.model);
  const performance = o.summary ? await readPerformance(o.summary) : null;
  const training = o.training ? await readTraining(o.training) : null;
  const signingKey = o.sign ? await readPrivateKey(o.sign) : undefined;
  return writeBundleFile(o.out, { snapshot, performance, training, ...(signingKey ? { signingKey } : {}) });
}

export async function verifyBundle(file: string, pubkey?: string): Promise<OpenedBundle> {
  const trustedKey = pubkey ? await readPublicKey(pubkey) : undefined;
  return readBundleFile(file, trustedKey ? { trustedKey } : {});
}

export interface ImportOptions {
  out: string;
  pubkey?: string;
  /** The target's embedding provider id (and dimension) the model must have been trained with. */
  providerId?: string;
  dimension?: number;
  /** The target's embedding spec: its provider must be the bundle's. */
  embedding?: string;
}

export async function importBundle(file: string, o: ImportOptions): Promise<OpenedBundle> {
  const opened = await verifyBundle(file, o.pubkey);
  checkEmbeddingCompatible(opened.header, { providerId: o.providerId, dimension: o.dimension }, file);
  const spec = await readEmbeddingSpecArg(o.embedding);
  if (spec !== undefined) await providerForBundle(opened, file, spec);
  await saveModel(o.out, opened.snapshot);
  return opened;
}

/**
 * A performance summary from a JSON file: a results-store line ({metrics, counts, key.task}) or a bare
 * metrics object ({auroc, aurocCI, ...}). Only known metric fields are kept; stored predictions and
 * anything else a results line holds are dropped, and counts are suppressed/rounded on export.
 */
export async function readPerformance(path: string): Promise<PerformanceInput> {
  const obj = await readJsonObject(path, "performance summary");
  const rawMetrics = typeof obj.metrics === "object" && obj.metrics !== null ? obj.metrics : obj;
  const metrics = BundleMetrics.safeParse(rawMetrics);
  if (!metrics.success) {
    const issue = metrics.error.issues[0];
    throw new InputError(`not a metric summary: ${issue.message}`, {
      file: path,
      field: issue.path.join("."),
    });
  }
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
  return {
    description: typeof obj.description === "string" ? obj.description : `from ${path.split(/[\\/]/).pop()}`,
    ...(task ? { task } : {}),
    metrics: metrics.data,
    ...(Object.keys(counts).length > 0 ? { counts } : {}),
  };
}

async function readTraining(path: string): Promise<TrainSettingsInput> {
  const obj = await readJsonObject(path, "training settings");
  const parsed = TrainSettings.safeParse(obj);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(`not training settings: ${issue.message}`, {
      file: path,
      field: issue.path.join("."),
    });
  }
  return parsed.data;
}

async function readJsonObject(path: string, what: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new InputError(`cannot read ${what}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, {
      file: path,
    });
  }
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

export function register(program: Command): void {
  const bundle = program
    .command("bundle")
    .description("Package a trained model as one signed, verifiable file for other sites (no patient data)");

  bundle
    .command("export")
    .description("Write a model bundle from a model file")
    .requiredOption("--model <model.json>", "trained model file")
    .requiredOption("--out <file>", "bundle file to write")
    .option("--sign <key.pem>", "Ed25519 private key (PEM) to sign the bundle with (see `bundle keygen`)")
    .option(
      "--summary <results.json>",
      "performance summary: a results line or a metrics object (counts < 11 suppressed)",
    )
    .option("--training <settings.json>", "training settings to record")
    .action(
      action(async (o: ExportOptions) => {
        const b = await exportBundle(o);
        process.stdout.write(describeBundle(o.out, b));
      }),
    );

  bundle
    .command("verify <file>")
    .description("Check a bundle's manifest, digest and signature; exit non-zero if anything is off")
    .option("--pubkey <pub.pem>", "trusted Ed25519 public key: the bundle must be signed by it")
    .option("--json", "print the bundle header as JSON")
    .action(
      action(async (file: string, o: { pubkey?: string; json?: boolean }) => {
        const b = await verifyBundle(file, o.pubkey);
        if (o.json) {
          const out = {
            ok: true,
            digest: b.digest,
            signer: b.signer?.fingerprint ?? null,
            trusted: b.trusted,
            header: b.header,
          };
          process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        } else process.stdout.write(describeBundle(file, b));
      }),
    );

  bundle
    .command("import <file>")
    .description("Verify a bundle and write its model file, refusing an incompatible embedding")
    .requiredOption("--out <model.json>", "model file to write")
    .option("--pubkey <pub.pem>", "trusted Ed25519 public key: the bundle must be signed by it")
    .option("--provider-id <id>", "the target's embedding provider id; must equal the bundle's")
    .option("--dimension <n>", "the target's embedding dimension; must equal the bundle's", parseDimension)
    .option("--embedding <spec>", `the target's embedding, checked against the bundle's: ${EMBEDDING_HELP}`)
    .action(
      action(async (file: string, o: ImportOptions) => {
        const b = await importBundle(file, o);
        process.stdout.write(describeBundle(file, b));
        process.stdout.write(`wrote ${o.out}\n`);
      }),
    );

  bundle
    .command("keygen")
    .description("Make an Ed25519 key pair for signing bundles (PEM files; never overwrites)")
    .requiredOption("--out <dir>", "directory for bundle-signing.key.pem and bundle-signing.pub.pem")
    .action(
      action(async (o: { out: string }) => {
        const k = await generateSigningKeys(o.out);
        process.stdout.write(
          `private key ${k.privateKey} (keep it at the source site)\npublic key  ${k.publicKey} (give it to target sites)\nfingerprint ${k.fingerprint}\n`,
        );
      }),
    );
}

function parseDimension(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("must be a positive integer");
  return n;
}
