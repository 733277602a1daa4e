import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import type { ResvgRenderOptions } from "@resvg/resvg-js";

/*
 * SVG to PNG with resvg (native, no browser). resvg keeps each image's pixels in Rust memory that V8
 * does not see, so it frees them only when a garbage collection happens to collect the wrappers: a
 * report's ten figures at 2x held about 150 MB that way, and on top of the report's own data that was
 * most of `npm start`'s peak. `pngsInWorkers` therefore rasterises each figure in a short-lived worker
 * thread: when the worker ends, Node runs its pending finalizers, so one figure's memory is held at a
 * time. The addon allocates through its own mimalloc, which keeps freed pages for a while and keeps
 * an ended thread's pages longer still: MIMALLOC_PURGE_DELAY=0 (unless the user set it) makes it
 * return them at once. mimalloc reads it when the addon loads, so resvg is loaded only through
 * `resvgModule`. Measured on the demo's report: its ten figures added 148 MB that stayed when
 * rasterised in this thread; this way they add one figure's transient 50-60 MB and the process is
 * back at its size after each. Ten 3,000 x 2,000 renders in workers leave the process at 53 MB,
 * against 123 MB without the option. The PNG bytes are the same either way (same resvg, same options; tested).
 */

const requireHere = createRequire(import.meta.url);

/** Before resvg's addon loads in any thread: its mimalloc returns freed pages at once. */
function purgeAtOnce(): void {
  process.env.MIMALLOC_PURGE_DELAY ??= "0";
}

function resvgModule(): typeof import("@resvg/resvg-js") {
  purgeAtOnce();
  return requireHere("@resvg/resvg-js") as typeof import("@resvg/resvg-js");
}

/** The PNGs' font (installed on Debian by fonts-dejavu-core; resvg has no fonts of its own). */
const PNG_FONT = "DejaVu Sans";

function resvgOptions(scale: number): ResvgRenderOptions {
  return {
    font: { loadSystemFonts: true, defaultFontFamily: PNG_FONT, sansSerifFamily: PNG_FONT },
    fitTo: { mode: "zoom", value: scale },
    background: "white",
  };
}

/**
 * Rasterise an SVG at `scale`x in this thread. `pixels` copies the whole RGBA buffer out of resvg, so
 * it is read only when asked for.
 */
export function rasterizeSvg(
  svg: string,
  scale = 2,
): { png: Uint8Array; width: number; height: number; readonly pixels: Uint8Array } {
  const { Resvg } = resvgModule();
  const image = new Resvg(svg, resvgOptions(scale)).render();
  return {
    png: image.asPng(),
    width: image.width,
    height: image.height,
    get pixels() {
      return image.pixels;
    },
  };
}

export function svgToPng(svg: string, scale = 2): Uint8Array {
  return rasterizeSvg(svg, scale).png;
}

// Plain CommonJS (no TypeScript loader needed, from source or from dist/): render, post, end.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { Resvg } = require(workerData.resvg);
const png = new Resvg(workerData.svg, workerData.options).render().asPng();
const bytes = new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
parentPort.postMessage(bytes, [bytes.buffer]);
`;

let resvgPath: string | undefined;

/** One SVG rasterised in a worker thread of its own (its resvg memory is freed when it ends). */
export function pngInWorker(svg: string, scale = 2): Promise<Uint8Array> {
  resvgPath ??= requireHere.resolve("@resvg/resvg-js");
  purgeAtOnce();
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { resvg: resvgPath, svg, options: resvgOptions(scale) },
    });
    let png: Uint8Array | null = null;
    worker.once("message", (m: Uint8Array) => {
      png = m;
    });
    worker.once("error", reject);
    worker.once("exit", (code) => {
      if (png) resolve(png);
      else reject(new Error(`the PNG worker exited with code ${code} and no image`));
    });
  });
}

/** SVGs to PNGs one at a time, each in its own worker; `onEach` after each (progress). */
export async function pngsInWorkers(
  svgs: readonly string[],
  scale = 2,
  onEach?: (index: number) => void,
): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (let i = 0; i < svgs.length; i++) {
    out.push(await pngInWorker(svgs[i], scale));
    onEach?.(i);
  }
  return out;
}
