// CIFAR-10 and CIFAR-100 in the official binary format, from the archive or its extracted folder.
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { SamError } from "@sam/tensor";
import type { ImageDataset } from "./dataset.js";
import { readMaybeGzipped } from "./files.js";
import { readTarFile } from "./tar.js";

/** Options of {@link loadCifar}. */
export interface CifarOptions {
  /** `cifar-10-binary.tar.gz` / `cifar-100-binary.tar.gz` (or `.tar`), or the folder they extract to. */
  source: string;
  /** 10 or 100 classes (default 10). */
  variant?: 10 | 100;
  /** Training (50,000 images) or test (10,000) split. */
  split: "train" | "test";
  /** CIFAR-100's fine (100) or coarse (20) labels (default fine). */
  labels?: "fine" | "coarse";
}

const PIXELS = 3 * 32 * 32;

interface Layout {
  folder: string;
  files: string[];
  meta: string;
  labelBytes: number;
  labelAt: number;
  classes: number;
}

function layout(o: CifarOptions): Layout {
  if ((o.variant ?? 10) === 10) {
    const files = o.split === "train" ? [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`) : ["test_batch.bin"];
    return { folder: "cifar-10-batches-bin", files, meta: "batches.meta.txt", labelBytes: 1, labelAt: 0, classes: 10 };
  }
  const coarse = o.labels === "coarse";
  return {
    folder: "cifar-100-binary", files: [o.split === "train" ? "train.bin" : "test.bin"],
    meta: coarse ? "coarse_label_names.txt" : "fine_label_names.txt", labelBytes: 2, labelAt: coarse ? 0 : 1, classes: coarse ? 20 : 100,
  };
}

/** The named files, from inside an archive or from a folder. */
async function fetchFiles(source: string, l: Layout): Promise<(name: string) => Promise<Uint8Array>> {
  let info;
  try {
    info = await stat(source);
  } catch {
    throw new SamError("loadCifar", `${source}: no such file or folder`);
  }
  if (info.isDirectory()) {
    const base = (await stat(join(source, l.folder)).then(() => true, () => false)) ? join(source, l.folder) : source;
    return async (name) => {
      try {
        return await readMaybeGzipped(join(base, name));
      } catch (e) {
        if (e instanceof SamError) throw e;
        throw new SamError("loadCifar", `${join(base, name)}: cannot be read (${(e as Error).message})`);
      }
    };
  }
  const wanted = new Set([...l.files, l.meta].map((name) => `${l.folder}/${name}`));
  const files = await readTarFile(source, (name) => wanted.has(name));
  return async (name) => {
    const body = files.get(`${l.folder}/${name}`);
    if (!body) throw new SamError("loadCifar", `${source}: ${l.folder}/${name} is not in the archive`);
    return body;
  };
}

/**
 * Reads a CIFAR split. Every record is checked: a file that is not a whole number of records, or
 * a label out of range, is an error naming the file and the byte offset.
 * @example
 * const test = await loadCifar({ source: "../shared/data/cifar-10-binary.tar.gz", split: "test" });
 */
export async function loadCifar(o: CifarOptions): Promise<ImageDataset> {
  const l = layout(o);
  const read = await fetchFiles(o.source, l);
  const record = l.labelBytes + PIXELS;
  const parts = await Promise.all(l.files.map(read));
  const count = parts.reduce((n, p, i) => {
    if (p.length % record !== 0) {
      throw new SamError("loadCifar", `${o.source}: ${l.files[i]} is ${p.length} bytes, not a whole number of ${record}-byte records; the last record is truncated (at byte ${p.length - (p.length % record)})`);
    }
    return n + p.length / record;
  }, 0);
  const images = new Uint8Array(count * PIXELS);
  const labels = new Int32Array(count);
  let n = 0;
  parts.forEach((p, f) => {
    for (let at = 0; at < p.length; at += record, n++) {
      const label = p[at + l.labelAt];
      if (label >= l.classes) {
        throw new SamError("loadCifar", `${o.source}: ${l.files[f]}: label ${label} is out of range 0–${l.classes - 1} in record ${at / record} (at byte ${at + l.labelAt})`);
      }
      labels[n] = label;
      images.set(p.subarray(at + l.labelBytes, at + record), n * PIXELS);
    }
  });
  const names = new TextDecoder().decode(await read(l.meta)).split(/\r?\n/).map((s) => s.trim()).filter((s) => s.length > 0);
  if (names.length !== l.classes) throw new SamError("loadCifar", `${o.source}: ${l.meta} names ${names.length} classes, expected ${l.classes}`);
  return { images, labels, shape: [3, 32, 32], classes: names };
}
