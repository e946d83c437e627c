// Finding and loading the data set a run asks for: --data, else the cache, else a download.
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  CIFAR10_ARCHIVE, CIFAR100_ARCHIVE, defaultCacheDir, ensureFile, FASHION_MNIST_CLASSES, loadCifar, loadIdxDataset, subset, withLabelNoise,
  type EnsureOptions, type ImageDataset, type RemoteFile,
} from "@sam/data";
import type { Config } from "./config.js";

/** The training and test splits of a run, with label noise and subsets applied. */
export interface RunData {
  train: ImageDataset;
  test: ImageDataset;
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
  return ensureFile(remote, copy && !existsSync(cached) ? { ...o, local: copy } : o);
}

/** Loads the splits of `config.dataset`, then applies label noise and the subsets. */
export async function loadRunData(config: Config, o: EnsureOptions = {}): Promise<RunData> {
  let train: ImageDataset;
  let test: ImageDataset;
  if (config.dataset === "fashion-mnist") {
    const f = async (name: string) => locate(FASHION[name], config.data, o);
    const load = async (split: "train" | "t10k") => loadIdxDataset({
      images: await f(`${split}-images-idx3-ubyte.gz`), labels: await f(`${split}-labels-idx1-ubyte.gz`), classes: FASHION_MNIST_CLASSES,
    });
    [train, test] = [await load("train"), await load("t10k")];
  } else {
    const remote = config.dataset === "cifar10" ? CIFAR10_ARCHIVE : CIFAR100_ARCHIVE;
    // a folder without the archive in it is the extracted archive: loadCifar reads it as it is
    const extracted = config.data !== undefined && statSync(config.data, { throwIfNoEntry: false })?.isDirectory() && !existsSync(join(config.data, remote.file));
    const source = extracted ? config.data! : await locate(remote, config.data, o);
    const variant = config.dataset === "cifar10" ? 10 : 100;
    [train, test] = [await loadCifar({ source, variant, split: "train" }), await loadCifar({ source, variant, split: "test" })];
  }
  if (config.labelNoise > 0) train = withLabelNoise(train, config.labelNoise, config.seed);
  return { train: subset(train, config.trainSubset), test: subset(test, config.testSubset) };
}
