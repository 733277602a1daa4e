import { createHash } from "node:crypto";
import { createReadStream, existsSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { z } from "zod";
import type { VocabularyToken } from "../../concepts/vocabulary.js";
import { InputError } from "../../util/errors.js";
import { parseInput } from "../../util/parse-input.js";
import { checkVector, l2normalizeInPlace } from "../matrix.js";
import type { EmbeddingMatrix, EmbeddingProvider, EmbedOptions, ProviderInfo } from "../types.js";

/**
 * A local transformer encoder (BERT, BioBERT, ClinicalBERT, MedBERT, SapBERT, BioLORD... exported to
 * ONNX in the Hugging Face layout: config.json, tokenizer.json, onnx/model.onnx) run through
 * @huggingface/transformers with remote models off: nothing is ever downloaded. The seed paper used
 * the [CLS] vector of bert-base-uncased; sentence-embedding models (SapBERT uses CLS, BioLORD mean)
 * want their own pooling, hence the setting.
 */
export const OnnxSettings = z
  .object({
    /** The model directory (config.json, tokenizer.json, onnx/<modelFileName>.onnx). */
    modelDir: z
      .string()
      .min(1)
      .describe(
        "The model directory (config.json, tokenizer.json, onnx/<modelFileName>.onnx); relative to the spec's folder, or shared:<path>.",
      ),
    pooling: z
      .enum(["cls", "mean"])
      .describe("Text vector: the [CLS] token's output (cls) or the mean over all tokens' outputs (mean).")
      .default("cls"),
    normalize: z.boolean().describe("Scale each vector to unit length.").default(false),
    /** Longer texts are truncated to this many word pieces (including [CLS] and [SEP]). */
    maxLength: z
      .number()
      .int()
      .min(2)
      .max(8192)
      .describe("Longer texts are truncated to this many word pieces (including [CLS] and [SEP]).")
      .default(512),
    batchSize: z.number().int().min(1).max(4096).describe("Texts per model run.").default(32),
    /** Which ONNX weights: fp32 = onnx/model.onnx, fp16 = model_fp16.onnx, q8 = model_quantized.onnx, ... */
    dtype: z
      .enum(["fp32", "fp16", "q8", "int8", "uint8", "q4", "q4f16", "bnb4"])
      .describe(
        "Which ONNX weights: fp32 = onnx/<modelFileName>.onnx, q8 = <modelFileName>_quantized.onnx, any other = <modelFileName>_<dtype>.onnx.",
      )
      .default("fp32"),
    modelFileName: z
      .string()
      .min(1)
      .describe("File name stem of the weights under onnx/ (the dtype adds its suffix).")
      .default("model"),
  })
  .strict();
export type OnnxSettings = z.infer<typeof OnnxSettings>;
export type OnnxSettingsInput = z.input<typeof OnnxSettings>;

const DTYPE_SUFFIX: Record<OnnxSettings["dtype"], string> = {
  fp32: "",
  fp16: "_fp16",
  q8: "_quantized",
  int8: "_int8",
  uint8: "_uint8",
  q4: "_q4",
  q4f16: "_q4f16",
  bnb4: "_bnb4",
};

/** transformers.js keeps its settings in one global `env`; loads are serialised so two model directories never race. */
let loadQueue: Promise<unknown> = Promise.resolve();

interface Tensorish {
  dims: number[];
  data: ArrayLike<number>;
}
type Tokenizer = ((
  texts: string[],
  opts: { padding: boolean; truncation: boolean },
) => Record<string, Tensorish & { type: string }>) & { all_special_ids?: number[] };
type TensorCtor = new (type: string, data: BigInt64Array, dims: number[]) => Tensorish;
type Model = ((inputs: Record<string, unknown>) => Promise<Record<string, Tensorish>>) & {
  dispose?: () => Promise<unknown>;
};

export async function createOnnxProvider(
  settings: OnnxSettingsInput,
  baseDir = ".",
): Promise<EmbeddingProvider> {
  const s = parseInput(OnnxSettings, settings, { field: "embedding", what: "onnx settings" });
  const dir = resolve(baseDir, s.modelDir);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new InputError(
      "model directory not found (export the model to ONNX in the Hugging Face layout first)",
      {
        file: dir,
      },
    );
  }
  const onnxFile = join(dir, "onnx", `${s.modelFileName}${DTYPE_SUFFIX[s.dtype]}.onnx`);
  const needed = [join(dir, "config.json"), join(dir, "tokenizer.json"), onnxFile];
  const missing = needed.filter((f) => !existsSync(f));
  if (missing.length > 0) {
    throw new InputError(`model directory lacks ${missing.map((f) => f.slice(dir.length + 1)).join(", ")}`, {
      file: dir,
    });
  }
  let config: { hidden_size?: number; max_position_embeddings?: number; model_type?: string };
  try {
    config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
  } catch (e) {
    throw new InputError(`config.json is not valid JSON (${e instanceof Error ? e.message : String(e)})`, {
      file: dir,
    });
  }
  const maxLength = Math.min(s.maxLength, config.max_position_embeddings ?? s.maxLength);
  // A content hash of everything that shapes the vectors: a re-exported model never hits an old cache.
  const hash = createHash("sha256");
  for (const f of [...needed, join(dir, "tokenizer_config.json"), `${onnxFile}_data`]) {
    if (!existsSync(f)) continue;
    hash.update(`${basename(f)}\n`);
    await new Promise<void>((res, rej) => {
      createReadStream(f)
        .on("data", (c) => hash.update(c))
        .on("end", () => res())
        .on("error", rej);
    });
  }

  const loading = loadQueue.then(
    () => loadModel(dir, s.dtype, s.modelFileName),
    () => loadModel(dir, s.dtype, s.modelFileName),
  );
  loadQueue = loading;
  const { tokenizer, model, Tensor } = await loading;
  const special = new Set(tokenizer.all_special_ids ?? []);

  const info: ProviderInfo = {
    provider: "onnx",
    model: basename(dir),
    revision: `sha256:${hash.digest("hex")}`,
    pooling: s.pooling,
    normalize: s.normalize,
    ...(config.hidden_size ? { dimension: config.hidden_size } : {}),
    params: { maxLength, dtype: s.dtype },
  };

  return {
    info,
    async embed(tokens: readonly VocabularyToken[], opts: EmbedOptions = {}): Promise<EmbeddingMatrix> {
      const texts = tokens.map((t) => t.text);
      let dim = config.hidden_size ?? 0;
      let data = new Float32Array(texts.length * dim);
      for (let start = 0; start < texts.length; start += s.batchSize) {
        if (opts.signal?.aborted) throw opts.signal.reason ?? new Error("aborted");
        const batch = texts.slice(start, start + s.batchSize);
        const inputs = truncate(
          tokenizer(batch, { padding: true, truncation: false }),
          maxLength,
          special,
          Tensor,
        );
        const out = await model(inputs);
        const h = out.last_hidden_state;
        if (!h) throw new InputError("the model has no last_hidden_state output", { file: onnxFile });
        const [b, len, hd] = h.dims;
        if (dim === 0) {
          dim = hd;
          data = new Float32Array(texts.length * dim);
        }
        if (b !== batch.length || hd !== dim) {
          throw new InputError(
            `model output has shape (${h.dims.join(", ")}), expected (${batch.length}, L, ${dim})`,
            {
              file: onnxFile,
            },
          );
        }
        const mask = inputs.attention_mask.data;
        const rows: number[] = [];
        const m: EmbeddingMatrix = { rows: batch.length, dim, data: new Float32Array(batch.length * dim) };
        for (let i = 0; i < b; i++) {
          const v = m.data.subarray(i * dim, (i + 1) * dim);
          if (s.pooling === "cls") {
            for (let c = 0; c < dim; c++) v[c] = h.data[i * len * dim + c];
          } else {
            // Mean over real tokens only ([CLS] and [SEP] included, padding excluded), as sentence-transformers does.
            let count = 0;
            for (let t = 0; t < len; t++) {
              if (Number(mask[i * len + t]) === 0) continue;
              count++;
              const off = (i * len + t) * dim;
              for (let c = 0; c < dim; c++) v[c] += h.data[off + c];
            }
            for (let c = 0; c < dim; c++) v[c] /= count;
          }
          if (s.normalize) l2normalizeInPlace(v);
          checkVector(v, `"${batch[i]}"`, { dim }, { file: onnxFile });
          rows.push(start + i);
        }
        data.set(m.data, start * dim);
        opts.onBatch?.(rows, m);
        opts.onProgress?.(Math.min(start + batch.length, texts.length), texts.length);
      }
      return { rows: texts.length, dim, data };
    },
  };
}

/**
 * Cut sequences to maxLength the way Hugging Face's Python tokenizers do for single texts: keep the
 * closing special token ([SEP], </s>). transformers.js 4.3 cuts it off instead, which changes the
 * [CLS] vector of every long text; so tokenize untruncated and cut here.
 */
function truncate(
  enc: Record<string, Tensorish & { type: string }>,
  maxLength: number,
  special: Set<number>,
  Tensor: TensorCtor,
): Record<string, Tensorish> & { attention_mask: Tensorish } {
  const [b, len] = enc.input_ids.dims;
  if (len <= maxLength) return enc as unknown as Record<string, Tensorish> & { attention_mask: Tensorish };
  const mask = enc.attention_mask.data as unknown as BigInt64Array;
  const ids = enc.input_ids.data as unknown as BigInt64Array;
  const lengths: number[] = [];
  for (let i = 0; i < b; i++) {
    let n = 0;
    for (let t = 0; t < len; t++) if (mask[i * len + t] !== 0n) n = t + 1;
    lengths.push(n);
  }
  const newLen = Math.min(maxLength, Math.max(...lengths));
  const out: Record<string, Tensorish> = {};
  for (const [name, tensor] of Object.entries(enc)) {
    const src = tensor.data as unknown as BigInt64Array;
    const dst = new BigInt64Array(b * newLen);
    for (let i = 0; i < b; i++) {
      const n = lengths[i];
      const row = src.subarray(i * len, (i + 1) * len);
      // Tokens and the tokenizer's own padding (newLen <= len), then the closing token put back.
      dst.set(row.subarray(0, newLen), i * newLen);
      if (n > maxLength && special.has(Number(ids[i * len + n - 1])))
        dst[i * newLen + maxLength - 1] = row[n - 1];
    }
    out[name] = new Tensor(tensor.type, dst, [b, newLen]);
  }
  return out as Record<string, Tensorish> & { attention_mask: Tensorish };
}

async function loadModel(dir: string, dtype: OnnxSettings["dtype"], modelFileName: string) {
  const { AutoModel, AutoTokenizer, env, Tensor } = await import("@huggingface/transformers");
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = `${dirname(dir)}/`;
  const id = basename(dir);
  try {
    const tokenizer = (await AutoTokenizer.from_pretrained(id, {
      local_files_only: true,
    })) as unknown as Tokenizer;
    const model = (await AutoModel.from_pretrained(id, {
      local_files_only: true,
      dtype,
      model_file_name: modelFileName,
    })) as unknown as Model;
    return { tokenizer, model, Tensor: Tensor as unknown as TensorCtor };
  } catch (e) {
    throw new InputError(`cannot load the model (${e instanceof Error ? e.message : String(e)})`, {
      file: dir,
    });
  }
}
