import { InputError } from "../util/errors.js";

/**
 * NumPy .npy (format 1.0-3.0) reader and writer for 2-D float arrays. Small and self-contained
 * because no maintained npm package reads .npy without pulling in a whole tensor library.
 */
export interface NpyArray {
  shape: number[];
  data: Float32Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export function parseNpy(buf: Uint8Array, file: string): NpyArray {
  for (let i = 0; i < MAGIC.length; i++) {
    if (buf[i] !== MAGIC[i]) throw new InputError("not a .npy file (bad magic bytes)", { file });
  }
  const major = buf[6];
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    headerLen = view.getUint32(8, true);
    start = 12;
  } else {
    throw new InputError(`unsupported .npy version ${major}`, { file });
  }
  const header = new TextDecoder("latin1").decode(buf.subarray(start, start + headerLen));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined)
    throw new InputError(`unreadable .npy header: ${header}`, { file });
  if (fortran === "True")
    throw new InputError("Fortran-ordered .npy arrays are not supported; save with C order", { file });
  const shape = shapeText
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const offset = start + headerLen;
  const bytes = buf.subarray(offset);
  const data = new Float32Array(count);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const little = descr[0] === "<" || descr[0] === "|" || descr[0] === "=";
  const kind = descr.slice(1);
  const size = kind === "f4" ? 4 : kind === "f8" ? 8 : kind === "f2" ? 2 : 0;
  if (size === 0)
    throw new InputError(`.npy dtype ${descr} is not a float type (need float16/32/64)`, { file });
  if (bytes.byteLength < count * size) {
    throw new InputError(`.npy data is truncated: ${bytes.byteLength} bytes for ${count} x ${size}`, {
      file,
    });
  }
  for (let i = 0; i < count; i++) {
    data[i] =
      size === 4
        ? dv.getFloat32(i * 4, little)
        : size === 8
          ? dv.getFloat64(i * 8, little)
          : halfToFloat(dv.getUint16(i * 2, little));
  }
  return { shape, data };
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** Encode a float32 array as .npy version 1.0 (little-endian, C order). */
export function encodeNpy(shape: readonly number[], data: Float32Array): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const total = 10 + header.length + 1;
  header += " ".repeat((64 - (total % 64)) % 64);
  header += "\n";
  const out = new Uint8Array(10 + header.length + data.length * 4);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  const view = new DataView(out.buffer);
  view.setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const base = 10 + header.length;
  for (let i = 0; i < data.length; i++) view.setFloat32(base + i * 4, data[i], true);
  return out;
}
