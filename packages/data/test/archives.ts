// Test helpers: small data files in the official formats, written here from the format descriptions.
import { gzipSync } from "node:zlib";

/** A ustar archive of the given files. */
export function tar(files: Record<string, Uint8Array>): Uint8Array {
  const blocks: Uint8Array[] = [];
  for (const [name, body] of Object.entries(files)) {
    const h = new Uint8Array(512);
    const put = (s: string, at: number) => h.set(new TextEncoder().encode(s), at);
    put(name, 0);
    put("0000644\0", 100);
    put("0000000\0", 108);
    put("0000000\0", 116);
    put(body.length.toString(8).padStart(11, "0") + "\0", 124);
    put("00000000000\0", 136);
    put("        ", 148);
    put("0", 156);
    put("ustar\0", 257);
    put("00", 263);
    const sum = h.reduce((s, b) => s + b, 0);
    put(sum.toString(8).padStart(6, "0") + "\0 ", 148);
    blocks.push(h, body, new Uint8Array((512 - (body.length % 512)) % 512));
  }
  blocks.push(new Uint8Array(1024));
  const out = new Uint8Array(blocks.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of blocks) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

/** CIFAR-10 records: label byte then 3072 pixels, pixel values derived from the index. */
export function cifarRecords(labels: number[]): Uint8Array {
  const out = new Uint8Array(labels.length * 3073);
  labels.forEach((l, i) => {
    out[i * 3073] = l;
    for (let p = 0; p < 3072; p++) out[i * 3073 + 1 + p] = (i * 31 + p) % 256;
  });
  return out;
}

/** A gzipped CIFAR-10 archive with `perBatch` records in each of the six batch files. */
export function cifarArchive(perBatch: number, edit?: (files: Record<string, Uint8Array>) => void): Uint8Array {
  const names = "airplane automobile bird cat deer dog frog horse ship truck".split(" ").join("\n") + "\n";
  const files: Record<string, Uint8Array> = { "cifar-10-batches-bin/batches.meta.txt": new TextEncoder().encode(names) };
  for (const f of ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"]) {
    files[`cifar-10-batches-bin/${f}.bin`] = cifarRecords(Array.from({ length: perBatch }, (_, i) => (i + f.length) % 10));
  }
  edit?.(files);
  return new Uint8Array(gzipSync(tar(files)));
}

/** An IDX file of unsigned bytes. */
export function idx(dims: number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  out.set([0, 0, 8, dims.length]);
  const view = new DataView(out.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}
