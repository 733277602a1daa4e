import { join } from "node:path";
import { PROJECT_ROOT } from "../../../util/paths.js";

/** Where `npm run build` puts the compiled kernels (never committed: built from cnn-kernels.as). */
export const KERNELS_WASM = join(PROJECT_ROOT, "dist", "wasm", "cnn-kernels.wasm");
