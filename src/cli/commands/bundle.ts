import { basename } from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import { loadResultsStore } from "../../report/load.js";
import { modelCardMarkdown } from "../../report/model-card.js";
import { generateSigningKeys } from "../../transfer/bundle/signing.js";
import {
  describeBundle,
  describeTrust,
  type ExportOptions,
  exportBundle,
  type ImportOptions,
  importBundle,
  trustFileFor,
  verifyBundle,
} from "../../transfer/bundle/workflow.js";
import { InputError } from "../../util/errors.js";
import { EMBEDDING_HELP } from "../embedding-help.js";
import { action } from "../run-command.js";

/**
 * `conceptbridge bundle export|verify|import|keygen`: package a trained model as one verifiable file
 * for other sites, check one, and turn one back into a model file (transfer/bundle/workflow.ts).
 */
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
    .option(
      "--results <dir>",
      "results store of an experiment that evaluated this model: its performance at the source and at each target goes into the model card",
    )
    .option("--source <site>", "the site the model was trained at, in --results")
    .option("--force", "overwrite --out if it exists")
    .action(
      action(async (o: ExportOptions & { results?: string; source?: string }) => {
        if ((o.results === undefined) !== (o.source === undefined))
          throw new InputError("--results and --source go together", {
            field: o.results ? "--source" : "--results",
          });
        const store = o.results ? await loadResultsStore(o.results) : null;
        const evidence =
          store && o.source
            ? { cells: store.cells, provenance: store.provenance, source: o.source }
            : undefined;
        const b = await exportBundle({
          ...o,
          modelCard: (header) =>
            modelCardMarkdown({ header, bundleName: basename(o.out), ...(evidence ? { evidence } : {}) }),
        });
        process.stdout.write(describeBundle(o.out, b));
        process.stdout.write(`  model card: inside the bundle and ${o.out}.model-card.md\n`);
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
    .option(
      "--allow-unsigned",
      "accept a bundle whose signer is not checked (unsigned, or no --pubkey); recorded",
    )
    .option("--force", "overwrite --out (and its .trust.json) if they exist")
    .option("--provider-id <id>", "the target's embedding provider id; must equal the bundle's")
    .option("--dimension <n>", "the target's embedding dimension; must equal the bundle's", parseDimension)
    .option("--embedding <spec>", `the target's embedding, checked against the bundle's: ${EMBEDDING_HELP}`)
    .action(
      action(async (file: string, o: ImportOptions) => {
        const b = await importBundle(file, o);
        process.stdout.write(describeBundle(file, b));
        process.stdout.write(`${describeTrust(b.trust)}\nwrote ${o.out} (and ${trustFileFor(o.out)})\n`);
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
