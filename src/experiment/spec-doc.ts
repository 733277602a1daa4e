import { z } from "zod";
import { RECIPES, TrainSettings } from "../model/train-settings.js";
import { ExperimentSpecFields } from "./spec.js";

/**
 * docs/spec.md, generated from the zod schemas (scripts/spec-doc.ts writes it; a test fails when it
 * is stale or when a field has no description). Every field with its type (and bounds), default,
 * meaning (the schema's `.describe()`) and one example (from the example specs when one uses the
 * field, else its default or a value of its type).
 */

type Json = {
  type?: string | string[];
  properties?: Record<string, Json>;
  additionalProperties?: Json | boolean;
  propertyNames?: Json;
  items?: Json;
  prefixItems?: Json[];
  oneOf?: Json[];
  anyOf?: Json[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  pattern?: string;
  required?: string[];
  $ref?: string;
  $defs?: Record<string, Json>;
};

export interface DocField {
  /** "sites.<name>.split.kind". */
  path: string;
  /** Section heading the field is listed under. */
  section: string;
  type: string;
  default: string | null;
  description: string | null;
  required: boolean;
  example: string | null;
}

/** Fields whose schemas belong to the embedding providers (src/embed): documented, descriptions theirs. */
export const EMBEDDING_PREFIX = "embeddings.<name>";

const DISCRIMINATORS: Record<string, string> = {
  "sites.<name>": "adapter",
  "embeddings.<name>": "provider",
  task: "type",
};

const TRAINING_BLOCKS = ["training", "baselineTraining", "finetuning"] as const;

function schemaOf(s: z.ZodType): Json {
  return z.toJSONSchema(s, { io: "input", unrepresentable: "any" }) as Json;
}

/** Every documented field of the spec, in schema order. */
export function specFields(examples: readonly unknown[] = []): DocField[] {
  const root = schemaOf(ExperimentSpecFields);
  const ex = exampleValues(examples);
  const out: DocField[] = [];
  const defs = root.$defs ?? {};
  const resolve = (n: Json): Json => (n.$ref ? (defs[n.$ref.split("/").pop() ?? ""] ?? n) : n);

  const walk = (node: Json, path: string, section: string, variant: string | null, required: boolean) => {
    const n = resolve(node);
    const key = variant ? `${path}{${variant}}` : path;
    out.push({
      path,
      section,
      type: typeText(n),
      default: n.default === undefined ? null : short(n.default),
      description: n.description ?? null,
      required,
      example: (variant ? ex.get(key) : ex.get(path)) ?? exampleOf(n),
    });
    if ((TRAINING_BLOCKS as readonly string[]).includes(path)) return; // documented once, below
    const variants = n.oneOf ?? n.anyOf;
    const disc = DISCRIMINATORS[path];
    if (variants && disc) {
      for (const v of variants.map(resolve)) {
        const name = String(v.properties?.[disc]?.const ?? "?");
        const sec = `${path} (${disc}: ${name})`;
        for (const [k, child] of Object.entries(v.properties ?? {})) {
          walk(child, `${path}.${k}`, sec, `${disc}=${name}`, v.required?.includes(k) ?? false);
        }
      }
      return;
    }
    if (n.properties) {
      const sec = path.includes(".") || path.includes("[") ? section : path;
      for (const [k, child] of Object.entries(n.properties)) {
        walk(child, `${path}.${k}`, sec, variant, n.required?.includes(k) ?? false);
      }
      return;
    }
    const values = typeof n.additionalProperties === "object" ? n.additionalProperties : null;
    if (values && n.propertyNames && Object.keys(values).length > 0) {
      const entry = `${path}.<name>`;
      const disc = DISCRIMINATORS[entry];
      const v = resolve(values);
      walk(
        v.description || !disc
          ? v
          : {
              ...v,
              description: `One entry of \`${path}\`, under a name you choose; its fields depend on \`${disc}\` (sections below).`,
            },
        entry,
        path,
        null,
        true,
      );
      return;
    }
    const items = n.items ? resolve(n.items) : null;
    if (items?.properties) {
      for (const [k, child] of Object.entries(items.properties)) {
        walk(child, `${path}[].${k}`, path, variant, items.required?.includes(k) ?? false);
      }
    }
    for (const alt of (n.anyOf ?? []).map(resolve)) {
      const it = alt.items ? resolve(alt.items) : null;
      if (it?.properties) {
        for (const [k, child] of Object.entries(it.properties)) {
          walk(child, `${path}[].${k}`, path, variant, it.required?.includes(k) ?? false);
        }
      }
    }
  };
  for (const [k, child] of Object.entries(root.properties ?? {})) {
    const c = resolve(child);
    const isObject = !!(
      c.properties ||
      c.oneOf ||
      c.additionalProperties ||
      c.anyOf?.some((a) => resolve(a).items)
    );
    walk(child, k, isObject ? k : "Top level", null, root.required?.includes(k) ?? false);
  }
  // The training blocks: TrainSettings' fields, once.
  const train = schemaOf(TrainSettings);
  const walkTrain = (node: Json, path: string) => {
    for (const [k, child] of Object.entries(node.properties ?? {})) {
      const c = resolve(child);
      out.push({
        path: `${path}.${k}`,
        section: "Training blocks",
        type: typeText(c),
        default: c.default === undefined ? null : short(c.default),
        description: c.description ?? null,
        required: false,
        example:
          ex.get(`training.${k}`) ??
          ex.get(`finetuning.${k}`) ??
          ex.get(`baselineTraining.${k}`) ??
          exampleOf(c),
      });
      if (c.properties) walkTrain(c, `${path}.${k}`);
    }
  };
  walkTrain(train, "<block>");
  return out;
}

function short(v: unknown): string {
  const s = JSON.stringify(v);
  return s.length > 70 ? `${s.slice(0, 67)}...` : s;
}

function num(x: number): string {
  return Number.isInteger(x) ? x.toLocaleString("en-US") : String(x);
}

/** "integer ≥ 1000", "sgd | adam", "list of (integer > 0 or "all"), at least 1". */
export function typeText(n: Json): string {
  if (n.const !== undefined) return JSON.stringify(n.const);
  if (n.enum) return n.enum.map((v) => JSON.stringify(v)).join(" | ");
  const alts = n.anyOf ?? n.oneOf;
  if (alts) {
    // Objects told apart by a constant field (adapter, provider, type, kind): name them by it.
    const tagged = alts.map((a) => {
      const c = Object.entries(a.properties ?? {}).find(([, v]) => v.const !== undefined);
      return c ? `${c[0]}: ${JSON.stringify(c[1].const)}` : null;
    });
    if (alts.length > 1 && tagged.every((t) => t !== null)) return `one of: ${tagged.join(", ")} (objects)`;
    return alts.map((a, i) => tagged[i] ?? typeText(a)).join(" or ");
  }
  const t = Array.isArray(n.type) ? n.type.join(" or ") : n.type;
  const bounds: string[] = [];
  if (n.minimum !== undefined && n.minimum > -Number.MAX_SAFE_INTEGER) bounds.push(`≥ ${num(n.minimum)}`);
  if (n.exclusiveMinimum !== undefined) bounds.push(`> ${num(n.exclusiveMinimum)}`);
  if (n.maximum !== undefined && n.maximum < Number.MAX_SAFE_INTEGER) bounds.push(`≤ ${num(n.maximum)}`);
  if (n.exclusiveMaximum !== undefined) bounds.push(`< ${num(n.exclusiveMaximum)}`);
  switch (t) {
    case "integer":
    case "number":
      return `${t}${bounds.length ? ` ${bounds.join(", ")}` : ""}`;
    case "string":
      return n.pattern ? "name (letters, digits, `.`, `_`, `-`; 64 at most)" : "string";
    case "array": {
      const of = n.items
        ? typeText(n.items)
        : n.prefixItems
          ? `[${n.prefixItems.map(typeText).join(", ")}]`
          : "any";
      return `list of ${of}${n.minItems ? `, at least ${n.minItems}` : ""}`;
    }
    case "object":
      if (n.properties) return "object";
      if (typeof n.additionalProperties === "object" && Object.keys(n.additionalProperties).length > 0) {
        return `map of name → ${n.additionalProperties.oneOf ? "one of the variants below" : typeText(n.additionalProperties)}`;
      }
      return "object (free-form)";
    case undefined:
      return "any";
    default:
      return String(t);
  }
}

function exampleOf(n: Json): string | null {
  if (n.default !== undefined) return short(n.default);
  if (n.const !== undefined) return JSON.stringify(n.const);
  if (n.enum) return JSON.stringify(n.enum[0]);
  return null;
}

/** Values the example specs use, by documented path (record keys as <name>, variants marked). */
function exampleValues(examples: readonly unknown[]): Map<string, string> {
  const out = new Map<string, string>();
  const put = (k: string, v: unknown) => {
    if (!out.has(k)) out.set(k, short(v));
  };
  const walk = (v: unknown, path: string, variant: string | null) => {
    if (path !== "") {
      put(variant ? `${path}{${variant}}` : path, v);
      put(path, v);
    }
    if (Array.isArray(v)) {
      for (const item of v)
        if (item && typeof item === "object" && !Array.isArray(item)) walk(item, `${path}[]`, variant);
      return;
    }
    if (!v || typeof v !== "object") return;
    const obj = v as Record<string, unknown>;
    const disc = DISCRIMINATORS[path];
    const vName = disc && typeof obj[disc] === "string" ? `${disc}=${obj[disc]}` : variant;
    for (const [k, child] of Object.entries(obj)) {
      const named = path === "sites" || path === "embeddings";
      walk(child, path === "" ? k : named ? `${path}.<name>` : `${path}.${k}`, named ? null : vName);
      if (named && child && typeof child === "object") {
        // walk already recorded sites.<name>; its fields are recorded by the recursive call.
      }
    }
  };
  for (const e of examples) walk(e, "", null);
  return out;
}

function cell(s: string | null): string {
  return s === null ? "—" : s.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

/** The whole of docs/spec.md. `examples`: the example specs as parsed YAML; `exampleText`: one shown in full. */
export function specDocMarkdown(
  examples: readonly unknown[],
  exampleText: { name: string; text: string },
): string {
  const fields = specFields(examples);
  const out: string[] = [
    "# Experiment spec reference",
    "",
    "> Generated from the zod schemas by `npm run spec-doc` (src/experiment/spec-doc.ts); do not edit by hand. A test fails when this file is stale or a field has no description.",
    "",
    "An experiment is one YAML or JSON file. Every field below is validated when the spec is read; a",
    "value out of range is refused with the field's path and the reason for its bound. Paths use",
    "`<name>` for keys you choose (site and embedding names) and `[]` for list entries. Examples come",
    "from the specs in `examples/` where one uses the field.",
    "",
    `## A complete example (\`${exampleText.name}\`)`,
    "",
    "```yaml",
    exampleText.text.trimEnd(),
    "```",
    "",
  ];
  const sections: string[] = [];
  for (const f of fields) if (!sections.includes(f.section)) sections.push(f.section);
  for (const sec of sections) {
    out.push(
      `## ${sec === "Training blocks" ? "Training blocks (`training`, `baselineTraining`, `finetuning`)" : `\`${sec}\``}`,
      "",
    );
    if (sec === "Training blocks") out.push(...trainingPreamble(), "");
    out.push("| Field | Type | Default | Meaning | Example |", "| --- | --- | --- | --- | --- |");
    for (const f of fields.filter((x) => x.section === sec)) {
      const name = `\`${f.path.replace(/^<block>/, "<block>")}\`${f.required ? " (required)" : ""}`;
      out.push(
        `| ${name} | ${cell(f.type)} | ${cell(f.default)} | ${cell(f.description)} | ${cell(f.example)} |`,
      );
    }
    out.push("");
  }
  return `${out.join("\n")}\n`;
}

function trainingPreamble(): string[] {
  const base = TrainSettings.parse({});
  const lines = [
    "Each block is a TrainSettings object written over its recipe's defaults (`recipe`). The Default column is",
    "TrainSettings' own (the seed paper's schedule); the recipes change these:",
    "",
    "| Recipe | Block | Differs from the defaults below |",
    "| --- | --- | --- |",
  ];
  const names = { training: "training", baseline: "baselineTraining", finetuning: "finetuning" } as const;
  for (const [recipe, blocks] of Object.entries(RECIPES)) {
    for (const [k, label] of Object.entries(names)) {
      const s = blocks[k as keyof typeof names] as unknown as Record<string, unknown>;
      const diff = Object.entries(s)
        .filter(
          ([f, v]) => JSON.stringify(v) !== JSON.stringify((base as unknown as Record<string, unknown>)[f]),
        )
        .map(([f, v]) => `${f} ${JSON.stringify(v)}`);
      lines.push(`| ${recipe} | ${label} | ${diff.join(", ") || "—"} |`);
    }
  }
  lines.push(
    "",
    "`seed` is refused in every block (each arm's seed comes from `seeds`), and `freeze` and `validationFraction` in `finetuning` (the scenario decides what is frozen; a fine-tuned arm validates on its target's split).",
  );
  return lines;
}
