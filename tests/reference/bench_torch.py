"""PyTorch twins of AutoGrad's end-to-end benchmarks: one training epoch of
  mlp:   784-256-128-10 ReLU MLP, Adam lr 0.002, batch 128, 48,000 Fashion-MNIST images
  lenet: LeNet-5, SGD lr 0.01 momentum 0.9, batch 64, 60,000 Fashion-MNIST images
  convnet: the net of PyTorch's MNIST example as an nn.Module (conv 1-32, 32-64, max pool, dropout, 9216-128-10,
           log-softmax + NLL), SGD lr 0.01 momentum 0.9, batch 64, 8,000 images
and SGEMM throughput (numpy.matmul on float32, transposes as views) for the shapes of GemmBenchmarks.cs.
Data: Fashion-MNIST from data/fashion-mnist or /usr/share/datasets/fashion-mnist (bash data/get-fashion-mnist.sh).

    /usr/bin/python3 tests/reference/bench_torch.py epoch mlp|lenet --threads 1|2 --repeat 5
    OPENBLAS_NUM_THREADS=2 /usr/bin/python3 tests/reference/bench_torch.py gemm --threads 2 --repeat 5
For gemm, set OPENBLAS_NUM_THREADS to --threads (numpy's OpenBLAS reads its thread count from it at startup). On a
CPU with AVX-512 add OPENBLAS_CORETYPE=SKYLAKEX: Debian's OpenBLAS 0.3.21 mis-detects Zen 4/5 otherwise (about 6x
slower); never set it on a CPU without avx512f (SIGILL). tests/reference/compare_speed.sh does both.
Prints one JSON line per measurement (epochs: sorted seconds, median, peak resident memory in KiB).
"""
import argparse
import json
import os
import resource
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


class ConvNet(torch.nn.Module):
    """The net of PyTorch's MNIST example (the twin of ConvNet in tests/AutoGrad.Benchmarks/EpochTimer.cs)."""

    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 32, 3)
        self.conv2 = torch.nn.Conv2d(32, 64, 3)
        self.fc1 = torch.nn.Linear(9216, 128)
        self.fc2 = torch.nn.Linear(128, 10)

    def forward(self, x):
        f = torch.nn.functional
        x = f.relu(self.conv1(x))
        x = f.max_pool2d(f.relu(self.conv2(x)), 2)
        x = f.dropout(x, 0.25, self.training)
        x = f.relu(self.fc1(torch.flatten(x, 1)))
        x = f.dropout(x, 0.5, self.training)
        return f.log_softmax(self.fc2(x), dim=1)


def epoch(kind, x, y):
    torch.manual_seed(1)
    n = torch.nn
    if kind == "convnet":
        model = ConvNet()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        x, y = x[:8000], y[:8000]
        order = torch.randperm(8000)
        start = time.perf_counter()
        for i in range(0, 8000, 64):
            idx = order[i:i + 64]
            optimizer.zero_grad()
            loss = torch.nn.functional.nll_loss(model(x[idx]), y[idx])
            loss.backward()
            optimizer.step()
        return time.perf_counter() - start
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


# (m, n, k, A transposed, B transposed) as in GemmBenchmarks.cs: squares; the MLP's first layer (forward, input
# gradient, weight gradient); LeNet's second convolution at batch 64 (forward, weight gradient, column gradient), its first.
GEMM_SHAPES = [(256, 256, 256, False, False), (512, 512, 512, False, False), (1024, 1024, 1024, False, False),
               (2048, 2048, 2048, False, False), (128, 256, 784, False, True), (128, 784, 256, False, False),
               (256, 784, 128, True, False), (16, 6400, 150, False, False), (16, 150, 6400, False, True),
               (150, 6400, 16, True, False), (6, 50176, 25, False, False)]


def gemm(repeat, threads):
    for m, n, k, trans_a, trans_b in GEMM_SHAPES:
        a = np.random.rand(k, m).astype(np.float32).T if trans_a else np.random.rand(m, k).astype(np.float32)
        b = np.random.rand(n, k).astype(np.float32).T if trans_b else np.random.rand(k, n).astype(np.float32)
        a @ b
        times = []
        for _ in range(repeat):
            reps = max(1, int(2e10 / (2 * m * n * k)))
            start = time.perf_counter()
            for _ in range(reps):
                a @ b
            times.append((time.perf_counter() - start) / reps)
        best = sorted(times)[len(times) // 2]
        print(json.dumps({"bench": "gemm", "impl": "numpy-openblas", "threads": threads,
                          "coretype": os.environ.get("OPENBLAS_CORETYPE", "detected"), "m": m, "n": n, "k": k,
                          "trans_a": trans_a, "trans_b": trans_b, "seconds": best, "gflops": 2 * m * n * k / best / 1e9}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("what", choices=["epoch", "gemm"])
    p.add_argument("kind", nargs="?", choices=["mlp", "lenet", "convnet"], default="mlp")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    if args.what == "gemm":
        gemm(args.repeat, args.threads)
        return
    x, y = fashion_train()
    times = [epoch(args.kind, x, y) for _ in range(args.repeat)]
    print(json.dumps({"bench": f"epoch-{args.kind}", "impl": f"torch-{torch.__version__}", "threads": args.threads,
                      "seconds": sorted(times), "median": sorted(times)[len(times) // 2],
                      "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))


if __name__ == "__main__":
    main()
