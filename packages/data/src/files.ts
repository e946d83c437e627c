// Reading a data file from disk, un-gzipping it when it is gzipped (by its magic bytes).
import { readFile } from "node:fs/promises";
import { gunzipSync } from "node:zlib";
import { SamError } from "@sam/tensor";

/**
 * The bytes of `path`, decompressed when they start with the gzip magic (1f 8b).
 * @example
 * const bytes = await readMaybeGzipped("train-labels-idx1-ubyte.gz");
 */
export async function readMaybeGzipped(path: string): Promise<Uint8Array> {
  const raw = new Uint8Array(await readFile(path));
  if (raw[0] !== 0x1f || raw[1] !== 0x8b) return raw;
  try {
    return new Uint8Array(gunzipSync(raw));
  } catch (e) {
    throw new SamError("readMaybeGzipped", `${path}: corrupt gzip data (${(e as Error).message})`);
  }
}
