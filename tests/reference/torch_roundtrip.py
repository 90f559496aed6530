"""PyTorch round trip of a checkpoint written by the LeNet sample.

Loads runs/lenet/model.safetensors into the identical torch.nn LeNet-5, runs it on the shipped MNIST test digits
(data/mnist/test-*.gz) and compares with what AutoGrad predicted (runs/lenet/logits.npy, predictions.npy).
The safetensors file is read with the format reader in generate_io.py (the `safetensors` package is not
available here; with it, safetensors.torch.load_file(path) gives the same dict).

Run after `dotnet run --project samples/AutoGrad.Samples -c Release -- lenet`:
    /usr/bin/python3 tests/reference/torch_roundtrip.py [runs/lenet]
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_io import read_idx  # noqa: E402
from generate_io import load_safetensors  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def lenet():
    n = torch.nn
    return n.Sequential(
        n.Conv2d(1, 6, 5, padding=2), n.ReLU(), n.MaxPool2d(2),
        n.Conv2d(6, 16, 5), n.ReLU(), n.MaxPool2d(2), n.Flatten(),
        n.Linear(400, 120), n.ReLU(), n.Linear(120, 84), n.ReLU(), n.Linear(84, 10))


def main():
    run = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "runs", "lenet")
    model = lenet()
    model.load_state_dict(load_safetensors(os.path.join(run, "model.safetensors")), strict=True)
    model.eval()
    images = torch.from_numpy(read_idx(os.path.join(ROOT, "data", "mnist", "test-images-idx3-ubyte.gz")).astype(np.float32) / 255.0)
    labels = read_idx(os.path.join(ROOT, "data", "mnist", "test-labels-idx1-ubyte.gz")).astype(np.int64)
    with torch.no_grad():
        logits = model(images.unsqueeze(1)).numpy()
    ours_logits = np.load(os.path.join(run, "logits.npy"))
    ours = np.load(os.path.join(run, "predictions.npy"))
    torch_predictions = logits.argmax(1)
    print(f"torch {torch.__version__}: {len(labels)} test digits")
    print(f"  test accuracy, PyTorch with AutoGrad's weights: {(torch_predictions == labels).mean():.4f}")
    print(f"  test accuracy, AutoGrad:                         {(ours == labels).mean():.4f}")
    print(f"  predictions that differ: {(torch_predictions != ours).sum()}")
    print(f"  largest |logit difference|: {np.abs(logits - ours_logits).max():.3g}")


if __name__ == "__main__":
    main()
