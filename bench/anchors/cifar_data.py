"""Reading the CIFAR-10 binary archive and preparing batches as `pnpm cifar` does; shared by the anchors."""
import tarfile

import numpy as np
import torch
import torch.nn.functional as F

RECORD = 3073


def split(archive, names):
    """Labels and images (uint8, N×3×32×32) of the named members of the archive, in order."""
    parts = []
    with tarfile.open(archive) as tar:
        for name in names:
            parts.append(np.frombuffer(tar.extractfile(f"cifar-10-batches-bin/{name}").read(), dtype=np.uint8).reshape(-1, RECORD))
    records = np.concatenate(parts)
    return torch.from_numpy(records[:, 0].astype(np.int64)), torch.from_numpy(records[:, 1:].reshape(-1, 3, 32, 32).copy())


def train_split(archive):
    return split(archive, [f"data_batch_{i}.bin" for i in range(1, 6)])


def test_split(archive):
    return split(archive, ["test_batch.bin"])


def channel_stats(images):
    """Per-channel mean and (population) standard deviation of uint8 images scaled to [0, 1]."""
    scaled = images.double() / 255
    return scaled.mean((0, 2, 3)).float().reshape(1, 3, 1, 1), scaled.std((0, 2, 3), unbiased=False).float().reshape(1, 3, 1, 1)


def prepared(images, mean, std, augment):
    """Normalised float32 images; with `augment`, each randomly cropped and flipped first.

    The crop pads the image in [0, 1] by 4 black pixels a side, before normalisation, as @sam/data's
    randomCrop does (and torchvision's RandomCrop(32, padding=4) ahead of Normalize): padding the
    normalised image with zeros would fill the border with the mean colour instead.
    """
    x = images.float() / 255
    if augment:
        padded = F.pad(x, (4, 4, 4, 4))
        out = torch.empty_like(x)
        for i in range(x.shape[0]):
            dy, dx = torch.randint(0, 9, (2,)).tolist()
            crop = padded[i, :, dy:dy + 32, dx:dx + 32]
            out[i] = crop.flip(2) if torch.rand(()) < 0.5 else crop
        x = out
    return (x - mean) / std
