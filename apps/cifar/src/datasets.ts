// Finding and loading the data set a run asks for: --data, else the cache, else a download.
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  CIFAR10_ARCHIVE, CIFAR100_ARCHIVE, defaultCacheDir, ensureFile, FASHION_MNIST_CLASSES, loadCifar, loadIdxDataset, subset, withLabelNoise,
  type EnsureOptions, type ImageDataset, type RemoteFile,
} from "@sam/data";
import { SamError } from "@sam/tensor";
import type { Config } from "./config.js";

/** The training and test splits of a run, with label noise and subsets applied. */
export interface RunData {
  train: ImageDataset;
  test: ImageDataset;
  /** Where the data came from and whether its checksum is the official one, in words. */
  provenance: string;
}

// where development machines keep copies without a network, tried after the cache
const LOCAL_COPIES = ["../shared/data", "/usr/share/datasets/fashion-mnist"];

const FASHION_BASE = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/";
const FASHION: Record<string, RemoteFile> = Object.fromEntries(([
  ["train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"], ["train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"],
  ["t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"], ["t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"],
] as const).map(([file, md5]) => [file, { file, md5, url: FASHION_BASE + file }]));

/** A file from --data (a file, or a file inside a folder), a local copy, the cache or the network. */
async function locate(remote: RemoteFile, data: string | undefined, o: EnsureOptions): Promise<string> {
  if (data !== undefined) {
    const inside = join(data, remote.file);
    return ensureFile(remote, { ...o, local: existsSync(inside) ? inside : data });
  }
  const cached = join(o.cacheDir ?? defaultCacheDir(), remote.file);
  const copy = LOCAL_COPIES.map((dir) => join(dir, remote.file)).find((p) => existsSync(p));
  try {
    return await ensureFile(remote, copy && !existsSync(cached) ? { ...o, local: copy } : o);
  } catch (e) {
    if (e instanceof SamError && e.fn === "download") throw new SamError("download", `${e.message.slice("download: ".length)}, or give one with --data PATH`);
    throw e;
  }
}

/** Reads with `load`; a file of the cache that fails its checks is named, with how to replace it. */
async function fromCache<T>(paths: string[], o: EnsureOptions, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (e) {
    const cached = paths.find((p) => p.startsWith(o.cacheDir ?? defaultCacheDir()));
    if (!(e instanceof SamError) || cached === undefined) throw e;
    throw new SamError(e.fn, `${e.message.slice(e.fn.length + 2)}; the cached copy is damaged: delete ${cached} to download it again`);
  }
}

/** Loads the splits of `config.dataset`, then applies label noise and the subsets. */
export async function loadRunData(config: Config, options: EnsureOptions = {}): Promise<RunData> {
  const checked: string[] = [];
  const o: EnsureOptions = { ...options, onChecksum: (path, official) => checked.push(`${path} (${official ? "official MD5" : "MD5 not the official one"})`) };
  let train: ImageDataset;
  let test: ImageDataset;
  if (config.dataset === "fashion-mnist") {
    const names = ["train-images", "train-labels", "t10k-images", "t10k-labels"].map((n) => `${n}-idx${n.endsWith("images") ? 3 : 1}-ubyte.gz`);
    const files: string[] = [];
    for (const n of names) files.push(await locate(FASHION[n], config.data, o)); // one at a time: the provenance keeps this order
    const [trainImages, trainLabels, testImages, testLabels] = files;
    [train, test] = await fromCache(files, o, async () => [
      await loadIdxDataset({ images: trainImages, labels: trainLabels, classes: FASHION_MNIST_CLASSES }),
      await loadIdxDataset({ images: testImages, labels: testLabels, classes: FASHION_MNIST_CLASSES }),
    ]);
  } else {
    const remote = config.dataset === "cifar10" ? CIFAR10_ARCHIVE : CIFAR100_ARCHIVE;
    // a folder without the archive in it is the extracted archive: loadCifar reads it as it is
    const extracted = config.data !== undefined && statSync(config.data, { throwIfNoEntry: false })?.isDirectory() && !existsSync(join(config.data, remote.file));
    const source = extracted ? config.data! : await locate(remote, config.data, o);
    if (extracted) checked.push(`${source} (an extracted folder: no checksum)`);
    const variant = config.dataset === "cifar10" ? 10 : 100;
    [train, test] = await fromCache([source], o, async () => [await loadCifar({ source, variant, split: "train" }), await loadCifar({ source, variant, split: "test" })]);
  }
  if (config.labelNoise > 0) train = withLabelNoise(train, config.labelNoise, config.seed);
  return { train: subset(train, config.trainSubset), test: subset(test, config.testSubset), provenance: checked.join("; ") };
}
