import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { PROJECT_ROOT } from "../../src/util/paths.js";
import { TORCH_MATMUL_PEAK_PY, wasmMatmulPeak } from "../lib/matmul-peak.js";
import { type ScaleShape, scaleEngine, scaleProblem, timeSteps } from "../lib/scale-shape.js";

/*
 * A real site's vocabulary: the paper's CNN on a 30,000 x 768 embedding (BERT-sized), batches of
 * 32 encounters x 64 tokens, SGD, frozen and trained (finetune-all) embedding, ours (the engine
 * trainModel picks: screened) and ../shared/bench/torch_scale.py (2 threads) in the same run, ms per
 * step and the ratio torch / ours (>= 1: we are faster). The direct engine (the reference) is timed
 * on a few steps for scale. The physical view: GFLOP/s of the model's dense arithmetic (the conv
 * layer forward, its weight gradient and, trained, its input gradient: 2 B L D F each) per second
 * for both, beside this machine's measured matrix-multiply peak (our wasm kernel on 1 and 2 threads,
 * and torch's sgemm on 2). Noisy on a shared machine: compare the ratios, not the absolute numbers;
 * torch is also timed on one thread, which a busy second core hurts far less than two threads.
 * CONCEPTBRIDGE_BENCH_QUICK=1 times fewer steps.
 */
const SHAPE: Omit<ScaleShape, "trainable"> = { vocab: 30000, dim: 768, tokens: 64, batch: 32, filters: 100 };

async function torchScale(
  trainable: boolean,
  iters: number,
  threads = 2,
): Promise<{ ms: number; engine: string }> {
  const script = join(PROJECT_ROOT, "..", "shared", "bench", "torch_scale.py");
  const args = [script, "--vocab", `${SHAPE.vocab}`, "--dim", `${SHAPE.dim}`, "--tokens", `${SHAPE.tokens}`];
  args.push(
    "--batch",
    `${SHAPE.batch}`,
    "--filters",
    `${SHAPE.filters}`,
    "--iters",
    `${iters}`,
    "--threads",
    `${threads}`,
  );
  if (trainable) args.push("--trainable");
  const { stdout } = await promisify(execFile)("/usr/bin/python3", args, { maxBuffer: 1 << 20 });
  const r = JSON.parse(stdout.trim().split("\n").pop()!) as { ms_per_step: number; engine: string };
  return { ms: r.ms_per_step, engine: r.engine };
}

async function torchPeak(): Promise<number> {
  const { stdout } = await promisify(execFile)("/usr/bin/python3", ["-c", TORCH_MATMUL_PEAK_PY]);
  return (JSON.parse(stdout.trim().split("\n").pop()!) as { gflops: number }).gflops;
}

export async function run(): Promise<Record<string, number | string>> {
  const quick = process.env.CONCEPTBRIDGE_BENCH_QUICK === "1";
  const out: Record<string, number | string> = {};
  const { batch: B, tokens: L, dim: D, filters: F } = SHAPE;
  for (const trainable of [false, true]) {
    const tag = trainable ? "trainable" : "frozen";
    const input = scaleProblem({ ...SHAPE, trainable }, 4096);
    const ours = scaleEngine(input, "auto");
    const oursMs = timeSteps(ours, input, B, quick ? 5 : 10, quick ? 8 : 20);
    console.error(`${tag}: ours (${ours.name}) ${oursMs.toFixed(2)} ms/step`);
    const torch = await torchScale(trainable, quick ? 50 : 100);
    console.error(`${tag}: torch ${torch.ms.toFixed(2)} ms/step`);
    // One torch thread too: on a shared machine two OpenMP threads can lose far more to a busy core
    // than one (then the 2-thread ratio flatters us; the 1-thread one does not).
    const torch1 = await torchScale(trainable, quick ? 50 : 100, 1);
    console.error(`${tag}: torch (1 thread) ${torch1.ms.toFixed(2)} ms/step`);
    const direct = scaleEngine(input, "direct");
    const directMs = timeSteps(direct, input, B, 1, quick ? 1 : 2);
    console.error(`${tag}: direct ${directMs.toFixed(1)} ms/step`);
    const flops = (trainable ? 6 : 4) * B * L * D * F;
    out[`${tag}_ours_engine`] = ours.name;
    out[`${tag}_ours_ms_per_step`] = round(oursMs, 2);
    out[`${tag}_torch_ms_per_step`] = torch.ms;
    out[`${tag}_ratio_torch_over_ours`] = round(torch.ms / oursMs, 2);
    out[`${tag}_torch_1_thread_ms_per_step`] = torch1.ms;
    out[`${tag}_ratio_torch_1_thread_over_ours`] = round(torch1.ms / oursMs, 2);
    out[`${tag}_direct_ms_per_step`] = round(directMs, 1);
    out[`${tag}_ours_gflops`] = round(flops / oursMs / 1e6, 1);
    out[`${tag}_torch_gflops`] = round(flops / torch.ms / 1e6, 1);
    out.torch_engine = torch.engine;
  }
  const peak = wasmMatmulPeak();
  if (peak) {
    out.matmul_peak_gflops_wasm_1_thread = round(peak.oneThread, 1);
    out.matmul_peak_gflops_wasm_2_threads = round(peak.twoThreads, 1);
  }
  out.matmul_peak_gflops_torch_2_threads = round(await torchPeak(), 1);
  out.shape = `V ${SHAPE.vocab} x D ${D}, B ${B} x L ${L}, F ${F}, SGD`;
  return out;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
