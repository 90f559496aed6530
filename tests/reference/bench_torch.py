"""PyTorch twins of AutoGrad's end-to-end benchmarks: one training epoch of
  mlp:   784-256-128-10 ReLU MLP, Adam lr 0.002, batch 128, 48,000 Fashion-MNIST images
  lenet: LeNet-5, SGD lr 0.01 momentum 0.9, batch 64, 60,000 Fashion-MNIST images
and GEMM throughput (torch.mm / numpy.matmul on float32) for the shapes of the GEMM benchmark.
Data: Fashion-MNIST from data/fashion-mnist or /usr/share/datasets/fashion-mnist (bash data/get-fashion-mnist.sh).

Run with OPENBLAS_CORETYPE=SKYLAKEX (Debian's OpenBLAS mis-detects this CPU otherwise):
    OPENBLAS_CORETYPE=SKYLAKEX /usr/bin/python3 tests/reference/bench_torch.py epoch mlp --threads 2 --repeat 3
    OPENBLAS_CORETYPE=SKYLAKEX /usr/bin/python3 tests/reference/bench_torch.py gemm --threads 1
Prints one JSON line per measurement.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_io import read_idx  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def fashion_train():
    for folder in (os.path.join(ROOT, "data", "fashion-mnist"), "/usr/share/datasets/fashion-mnist"):
        images = os.path.join(folder, "train-images-idx3-ubyte.gz")
        if os.path.exists(images):
            x = torch.from_numpy(read_idx(images).astype(np.float32) / 255.0).unsqueeze(1)
            y = torch.from_numpy(read_idx(os.path.join(folder, "train-labels-idx1-ubyte.gz")).astype(np.int64))
            return x, y
    raise SystemExit("Fashion-MNIST not found: bash data/get-fashion-mnist.sh")


def epoch(kind, x, y):
    torch.manual_seed(1)
    n = torch.nn
    if kind == "mlp":
        model = n.Sequential(n.Flatten(), n.Linear(784, 256), n.ReLU(), n.Linear(256, 128), n.ReLU(), n.Linear(128, 10))
        optimizer = torch.optim.Adam(model.parameters(), lr=0.002)
        batch, count = 128, 48000
    else:
        model = n.Sequential(n.Conv2d(1, 6, 5, padding=2), n.ReLU(), n.MaxPool2d(2), n.Conv2d(6, 16, 5), n.ReLU(), n.MaxPool2d(2),
                             n.Flatten(), n.Linear(400, 120), n.ReLU(), n.Linear(120, 84), n.ReLU(), n.Linear(84, 10))
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        batch, count = 64, 60000
    x, y = x[:count], y[:count]
    order = torch.randperm(count)
    start = time.perf_counter()
    for i in range(0, count, batch):
        idx = order[i:i + batch]
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start


GEMM_SHAPES = [(256, 256, 256), (512, 512, 512), (1024, 1024, 1024), (2048, 2048, 2048),
               (128, 256, 784), (128, 784, 256), (256, 784, 128)]  # (m, n, k): the MLP first layer: forward, input grad, weight grad


def gemm(repeat):
    for m, n, k in GEMM_SHAPES:
        a = np.random.rand(m, k).astype(np.float32)
        b = np.random.rand(k, n).astype(np.float32)
        a @ b
        times = []
        for _ in range(repeat):
            reps = max(1, int(2e9 / (2 * m * n * k)))
            start = time.perf_counter()
            for _ in range(reps):
                a @ b
            times.append((time.perf_counter() - start) / reps)
        best = sorted(times)[len(times) // 2]
        print(json.dumps({"bench": "gemm", "impl": "numpy-openblas", "m": m, "n": n, "k": k, "seconds": best, "gflops": 2 * m * n * k / best / 1e9}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("what", choices=["epoch", "gemm"])
    p.add_argument("kind", nargs="?", choices=["mlp", "lenet"], default="mlp")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    if args.what == "gemm":
        gemm(args.repeat)
        return
    x, y = fashion_train()
    times = [epoch(args.kind, x, y) for _ in range(args.repeat)]
    print(json.dumps({"bench": f"epoch-{args.kind}", "impl": f"torch-{torch.__version__}", "threads": args.threads,
                      "seconds": sorted(times), "median": sorted(times)[len(times) // 2]}))


if __name__ == "__main__":
    main()
