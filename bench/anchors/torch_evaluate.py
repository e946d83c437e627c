"""@sam's final models of a sweep, evaluated by PyTorch: the same weights give the same test figures.

Usage: /usr/bin/python3 torch_evaluate.py SWEEP_DIR ARCHIVE [--threads T]

For each run of SWEEP_DIR/sweep.json that @sam finished: its final model (swa-model.safetensors for
weight averaging, else checkpoint/model.safetensors) loaded into the PyTorch model of the same
architecture, evaluated on the run's test images (normalised by its training subset's statistics,
batch norm in evaluation mode); for an averaged model, batch norm's statistics are also recomputed by
torch.optim.swa_utils.update_bn over the training images in order (as the run did) and the model
evaluated again. Writes SWEEP_DIR/pytorch/<run>/sam-model-evaluation.json with the model file's
SHA-256, so that `pnpm cifar summary --sweep SWEEP_DIR` sets the figures beside @sam's own only while
the file is the one evaluated. This separates what the two systems compute from how they trained:
where these agree, a difference between @sam's and PyTorch's runs lies in the training trajectories.
"""
import argparse
import hashlib
import json
import os
import re
import struct

import torch
from torch.optim.swa_utils import update_bn

from cifar_data import channel_stats, prepared, test_split, train_split
from resnet import ResNet20
from torch_cifar import SmallCNN, evaluate, save_atomic
from torch_sweep import finished_epochs, sweep_runs

DTYPES = {"F32": torch.float32, "F64": torch.float64, "I32": torch.int32, "I64": torch.int64}


def read_safetensors(path):
    """The tensors of a safetensors file, by name."""
    raw = open(path, "rb").read()
    size = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + size])
    body = raw[8 + size:]
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        start, end = entry["data_offsets"]
        tensors[name] = torch.frombuffer(bytearray(body[start:end]), dtype=DTYPES[entry["dtype"]]).reshape(entry["shape"]).clone()
    return tensors


def pytorch_model(config, tensors):
    """The PyTorch model of the run's architecture holding @sam's weights and batch-norm statistics."""
    if config["model"] == "cnn":
        model = SmallCNN()
        state = tensors
    elif config["model"] == "resnet20":
        model = ResNet20()
        # @sam's stages are layer1…layer3, the anchor's layers.0…layers.2
        state = {re.sub(r"^layer(\d)\.", lambda m: f"layers.{int(m.group(1)) - 1}.", k): v for k, v in tensors.items()}
    else:
        raise SystemExit(f"torch_evaluate: model {config['model']} has no PyTorch twin here (cnn and resnet20 have)")
    # PyTorch counts batches in int64, @sam in int32; evaluation does not read the count
    state = {k: (v.long() if k.endswith("num_batches_tracked") else v) for k, v in state.items()}
    model.load_state_dict(state)
    return model.eval()


def sam_final(run_dir):
    """@sam's own final test figures: the averaged model's where it averaged."""
    last = json.loads(open(os.path.join(run_dir, "metrics.jsonl")).read().splitlines()[-1])
    if "swaTestAcc" in last:
        return last["swaTestLoss"], last["swaTestAcc"]
    return last["testLoss"], last["testAcc"]


def sam_model_file(config, run_dir):
    """@sam's final model of a run: the averaged one where it averaged."""
    averaged = config.get("swaStart") is not None
    return os.path.join(run_dir, "swa-model.safetensors" if averaged else os.path.join("checkpoint", "model.safetensors"))


def measure(config, run_dir, splits):
    averaged = config.get("swaStart") is not None
    path = sam_model_file(config, run_dir)
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
    model = pytorch_model(config, read_safetensors(path))
    (train_labels, train_images), (test_labels, test_images) = splits
    n = config.get("trainSubset") or len(train_labels)
    train_images = train_images[:n]
    if config.get("testSubset"):
        test_labels, test_images = test_labels[:config["testSubset"]], test_images[:config["testSubset"]]
    mean, std = channel_stats(train_images)
    prepare = lambda images, augment: prepared(images, mean, std, augment)
    loss, acc = evaluate(model, test_images, test_labels, prepare)
    sam_loss, sam_acc = sam_final(run_dir)
    result = {"model": os.path.relpath(path, run_dir), "sha256": digest, "testLoss": loss, "testAcc": acc,
              "samTestLoss": sam_loss, "samTestAcc": sam_acc}
    if averaged:
        saved = {k: v.clone() for k, v in model.state_dict().items() if "running" in k}
        size = config["batchSize"]
        update_bn([prepare(train_images[at:at + size], False) for at in range(0, n, size)], model)
        recomputed = model.state_dict()
        bn_loss, bn_acc = evaluate(model, test_images, test_labels, prepare)
        result["batchNorm"] = {"maxDifference": max((saved[k] - recomputed[k]).abs().max().item() for k in saved),
                               "testLoss": bn_loss, "testAcc": bn_acc}
    return result


def main():
    p = argparse.ArgumentParser()
    p.add_argument("sweep")
    p.add_argument("archive")
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    splits = train_split(a.archive), test_split(a.archive)
    runs = sweep_runs(a.sweep, "torch_evaluate")
    for run in runs:
        name, config = run["name"], run["config"]
        run_dir = os.path.join(a.sweep, name)
        if finished_epochs(run_dir) < config["epochs"]:
            print(f"{name}: not finished on @sam, left for later")
            continue
        result = measure(config, run_dir, splits)
        out = os.path.join(a.sweep, "pytorch", name)
        os.makedirs(out, exist_ok=True)
        save_atomic(lambda f: open(f, "w").write(json.dumps(result, indent=2) + "\n"), os.path.join(out, "sam-model-evaluation.json"))
        bn = result.get("batchNorm")
        extra = f"; batch norm recomputed by PyTorch: {bn['testAcc']:.2%} (statistics {bn['maxDifference']:.1e} apart)" if bn else ""
        print(f"{name}: test accuracy {result['testAcc']:.2%} (@sam {result['samTestAcc']:.2%}), "
              f"loss {result['testLoss']:.4f} (@sam {result['samTestLoss']:.4f}){extra}", flush=True)


if __name__ == "__main__":
    main()
