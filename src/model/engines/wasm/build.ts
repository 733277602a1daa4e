import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import asc from "assemblyscript/asc";
import { writeFileAtomic } from "../../../util/atomic-write.js";
import { KERNELS_WASM } from "./kernels-path.js";

/*
 * Build the CNN engines' WebAssembly kernels: cnn-kernels.as (AssemblyScript) -> dist/wasm/cnn-kernels.wasm,
 * with the pinned `assemblyscript` compiler (a devDependency), as `tsx src/model/engines/wasm/build.ts`
 * (part of `npm run build`). The source keeps an `.as` name so tsc and biome, which check every .ts
 * under src/, leave AssemblyScript alone; asc asks for `<name>.ts`, which the readFile hook maps back.
 * Options: SIMD and shared memory (a helper thread runs the same module on the same memory),
 * imported memory laid out by arena.ts, no runtime, no data segments.
 */
const here = dirname(fileURLToPath(import.meta.url));
const SOURCE = "cnn-kernels.as";

export async function buildKernels(): Promise<string> {
  mkdirSync(dirname(KERNELS_WASM), { recursive: true });
  let binary: Uint8Array | null = null;
  const { error, stderr } = await asc.main(
    [
      `${SOURCE}.ts`,
      "--outFile",
      "cnn-kernels.wasm",
      "-O3",
      "--runtime",
      "stub",
      "--noAssert",
      "--importMemory",
      "--sharedMemory",
      "--initialMemory",
      "1",
      "--maximumMemory",
      "65536",
      "--enable",
      "simd,threads",
      "--use",
      "abort=",
    ],
    {
      readFile: (name, baseDir) => {
        const file = join(here, baseDir, name === `${SOURCE}.ts` ? SOURCE : name);
        try {
          return readFileSync(file, "utf8");
        } catch {
          return null;
        }
      },
      writeFile: (name, contents) => {
        if (name.endsWith(".wasm")) binary = contents as Uint8Array;
      },
      listFiles: () => [],
    },
  );
  if (error) throw new Error(`asc failed: ${error.message}\n${stderr.toString()}`);
  if (!binary) throw new Error("asc wrote no wasm");
  // Atomic: a running process never reads half a module.
  await writeFileAtomic(KERNELS_WASM, binary);
  return KERNELS_WASM;
}

if (process.argv[1] && relative(process.argv[1], fileURLToPath(import.meta.url)) === "") {
  const out = await buildKernels();
  console.error(`wrote ${out}`);
}
