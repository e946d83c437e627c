// The safetensors format: an 8-byte little-endian header length, a JSON header, then raw data.
// Weights saved here load in PyTorch (safetensors.torch.load_file) and the other way round.
import { check, fromValues, SamError, type DType, type Tensor, type TypedArray } from "@sam/tensor";

const CODES: Record<DType, string> = { float32: "F32", float64: "F64", int32: "I32", bool: "BOOL" };
const WIDTH: Record<string, number> = { F32: 4, F64: 8, I32: 4, BOOL: 1, I64: 8 };

/** One header entry. */
interface Entry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/**
 * Serialises named tensors (a state dict) to safetensors bytes, with optional string metadata.
 * @example
 * const bytes = await encodeSafetensors(model.stateDict());
 */
export async function encodeSafetensors(tensors: Record<string, Tensor>, metadata?: Record<string, string>): Promise<Uint8Array> {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const data = await t.data();
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    header[name] = { dtype: CODES[t.dtype], shape: [...t.shape], data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (json.length % 8)) % 8); // the format pads the header to 8-byte alignment
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function fail(source: string, offset: number, what: string): never {
  throw new SamError("decodeSafetensors", `${source}: ${what} (at byte ${offset})`);
}

/**
 * Reads safetensors bytes into tensors on the current backend. I64 values (PyTorch's integer
 * buffers) become int32 and must fit. A truncated or corrupt file is an error naming `source` and
 * the byte offset.
 * @example
 * model.loadStateDict(decodeSafetensors(bytes, "model.safetensors"));
 */
export function decodeSafetensors(bytes: Uint8Array, source = "<bytes>"): Record<string, Tensor> {
  if (bytes.length < 8) fail(source, 0, `file is ${bytes.length} bytes, shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (8 + headerLength > bytes.length) fail(source, 0, `header length ${headerLength} runs past the end of the ${bytes.length}-byte file`);
  let header: Record<string, Entry | Record<string, string>>;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)));
  } catch (e) {
    fail(source, 8, `header is not valid JSON (${(e as Error).message})`);
  }
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const out: Record<string, Tensor> = {};
  for (const [name, raw] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const e = raw as Entry;
    const width = WIDTH[e.dtype];
    if (width === undefined) fail(source, 8, `tensor ${name} has unsupported dtype ${JSON.stringify(e.dtype)}`);
    check(Array.isArray(e.shape) && e.shape.every((d) => Number.isInteger(d) && d >= 0), "decodeSafetensors", () => `${source}: tensor ${name} has a bad shape`);
    const [begin, end] = e.data_offsets ?? [];
    const size = e.shape.reduce((p, d) => p * d, 1);
    if (!(Number.isInteger(begin) && Number.isInteger(end) && begin >= 0 && end >= begin)) fail(source, 8, `tensor ${name} has bad data_offsets`);
    if (end > dataLength) fail(source, dataStart + begin, `tensor ${name} ends at ${dataStart + end}, past the end of the ${bytes.length}-byte file (truncated?)`);
    if (end - begin !== size * width) fail(source, dataStart + begin, `tensor ${name} holds ${end - begin} bytes, its shape needs ${size * width}`);
    const copy = bytes.slice(dataStart + begin, dataStart + end).buffer;
    out[name] = read(e.dtype, copy, e.shape, name, source, dataStart + begin);
  }
  return out;
}

function read(code: string, buffer: ArrayBuffer, shape: number[], name: string, source: string, at: number): Tensor {
  let values: TypedArray | number[];
  let dtype: DType;
  switch (code) {
    case "F32": [values, dtype] = [new Float32Array(buffer), "float32"]; break;
    case "F64": [values, dtype] = [new Float64Array(buffer), "float64"]; break;
    case "I32": [values, dtype] = [new Int32Array(buffer), "int32"]; break;
    case "BOOL": [values, dtype] = [new Uint8Array(buffer), "bool"]; break;
    default: {
      const wide = new BigInt64Array(buffer);
      values = Array.from(wide, (v, i) => {
        if (v > 2147483647n || v < -2147483648n) fail(source, at + i * 8, `tensor ${name}: I64 value ${v} does not fit in int32`);
        return Number(v);
      });
      dtype = "int32";
    }
  }
  return fromValues(values, shape, dtype);
}
