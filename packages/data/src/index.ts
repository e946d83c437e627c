// @sam/data: data sets in their official formats, a seeded DataLoader, augmentation and label noise.
export { type ImageDataset, size, subset } from "./dataset.js";
export { readTar, readTarFile, TarReader } from "./tar.js";
export { readMaybeGzipped } from "./files.js";
export { loadCifar, type CifarOptions } from "./cifar.js";
export { decodeIdx, loadIdxDataset, type IdxArray, type IdxDatasetOptions, FASHION_MNIST_CLASSES, MNIST_CLASSES } from "./idx.js";
export { type Transform, randomCrop, horizontalFlip, cutout, normalize, compose } from "./transforms.js";
export { channelStats, type ChannelStats } from "./statistics.js";
export { withLabelNoise } from "./labelNoise.js";
export { mixup, sampleBeta, type MixedBatch } from "./mixup.js";
export { DataLoader, type LoaderOptions, type Batch, type LoaderState } from "./loader.js";
export { type RemoteFile, type EnsureOptions, defaultCacheDir, md5, download, ensureFile, CIFAR10_ARCHIVE, CIFAR100_ARCHIVE } from "./download.js";
