// The IDX format of MNIST and Fashion-MNIST: a magic number, big-endian dimensions, then bytes.
import { SamError } from "@sam/tensor";
import type { ImageDataset } from "./dataset.js";
import { readMaybeGzipped } from "./files.js";

/** A decoded IDX file of unsigned bytes. */
export interface IdxArray {
  /** The dimensions, outermost first. */
  dims: number[];
  /** The values, row-major. */
  data: Uint8Array;
}

/**
 * Decodes IDX bytes (unsigned-byte data only, as MNIST uses). A wrong magic number or a length
 * that does not match the dimensions is an error naming `source` and the byte offset.
 * @example
 * const { dims, data } = decodeIdx(bytes, "t10k-labels-idx1-ubyte");
 */
export function decodeIdx(bytes: Uint8Array, source = "<idx>"): IdxArray {
  const fail = (what: string, at: number): never => {
    throw new SamError("decodeIdx", `${source}: ${what} (at byte ${at})`);
  };
  if (bytes.length < 4) fail(`file is ${bytes.length} bytes, too short for the magic number`, 0);
  if (bytes[0] !== 0 || bytes[1] !== 0) fail(`wrong magic number ${Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, "0")).join(" ")}: not an IDX file`, 0);
  if (bytes[2] !== 0x08) fail(`data type 0x${bytes[2].toString(16)} is not unsigned bytes (0x08)`, 2);
  const rank = bytes[3];
  const start = 4 + 4 * rank;
  if (bytes.length < start) fail(`file ends inside the ${rank} dimensions`, bytes.length);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const size = dims.reduce((p, d) => p * d, 1);
  if (bytes.length !== start + size) {
    fail(`dimensions [${dims}] need ${size} bytes of data, the file has ${bytes.length - start}${bytes.length < start + size ? " (truncated)" : ""}`, Math.min(bytes.length, start + size));
  }
  return { dims, data: bytes.subarray(start) };
}

/** Options of {@link loadIdxDataset}. */
export interface IdxDatasetOptions {
  /** The images file (gzipped or not), [N, H, W]. */
  images: string;
  /** The labels file (gzipped or not), [N]. */
  labels: string;
  /** Class names; their count bounds the labels. */
  classes: string[];
}

/** Fashion-MNIST's class names. */
export const FASHION_MNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];
/** MNIST's class names. */
export const MNIST_CLASSES = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

/**
 * An image data set from an IDX pair (MNIST, Fashion-MNIST): one channel, labels checked.
 * @example
 * const test = await loadIdxDataset({ images: dir + "/t10k-images-idx3-ubyte.gz", labels: dir + "/t10k-labels-idx1-ubyte.gz", classes: FASHION_MNIST_CLASSES });
 */
export async function loadIdxDataset(o: IdxDatasetOptions): Promise<ImageDataset> {
  const images = decodeIdx(await readMaybeGzipped(o.images), o.images);
  const labels = decodeIdx(await readMaybeGzipped(o.labels), o.labels);
  if (images.dims.length !== 3) throw new SamError("loadIdxDataset", `${o.images}: expected [N, H, W] images, got [${images.dims}]`);
  if (labels.dims.length !== 1 || labels.dims[0] !== images.dims[0]) {
    throw new SamError("loadIdxDataset", `${o.labels}: ${labels.dims[0]} labels for ${images.dims[0]} images`);
  }
  const bad = labels.data.findIndex((v) => v >= o.classes.length);
  if (bad >= 0) throw new SamError("loadIdxDataset", `${o.labels}: label ${labels.data[bad]} is out of range 0–${o.classes.length - 1} in record ${bad} (at byte ${8 + bad})`);
  return { images: images.data, labels: Int32Array.from(labels.data), shape: [1, images.dims[1], images.dims[2]], classes: o.classes };
}
