"""The PyTorch twin of the resnet sample (samples/AutoGrad.Samples/ResNetSample.cs): the same network (3x3 stem, three
basic blocks of width, 2 width, 4 width channels with strides 1, 2, 2 and 1x1 projections, global average pooling,
linear head; PyTorch's default initialization), the same split (10% of the training images held out per class, by
AutoGrad's xoshiro256** generator), the same batch order and random shifts (a crop of the zero-padded image) drawn from
the same generators, and the same recipe: SGD with Nesterov momentum 0.9 and weight decay, OneCycleLR stepped per
batch, cross-entropy with label smoothing. Only the initial weights differ (torch's own generator).

    /usr/bin/python3 tests/reference/resnet_torch.py [--epochs 10] [--batch 128] [--lr 0.1] [--width 24] [--threads 1] [--limit N]
Prints one JSON line: test accuracy, validation accuracy per epoch, seconds of training (the batch loop with its data
copies and shifts; the index draws and evaluations outside it), ms per step, peak resident memory in KiB.
"""
import argparse
import json
import math
import os
import resource
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_io import read_idx  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MASK64 = (1 << 64) - 1


class Generator:
    """AutoGrad.Generator: xoshiro256** seeded by splitmix64, with its NextInt (rejection) and Shuffle (Fisher-Yates)."""

    def __init__(self, seed):
        x = seed & MASK64
        self.s = []
        for _ in range(4):
            x = (x + 0x9E3779B97F4A7C15) & MASK64
            z = x
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
            self.s.append(z ^ (z >> 31))

    def next_u64(self):
        s0, s1, s2, s3 = self.s
        r = (((s1 * 5) & MASK64) << 7 | ((s1 * 5) & MASK64) >> 57) & MASK64
        result = (r * 9) & MASK64
        t = (s1 << 17) & MASK64
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = ((s3 << 45) | (s3 >> 19)) & MASK64
        self.s = [s0, s1, s2, s3]
        return result

    def next_int(self, bound):
        threshold = (-bound) % bound
        while True:
            r = self.next_u64()
            if r >= threshold:
                return r % bound

    def shuffle(self, values):
        for i in range(len(values) - 1, 0, -1):
            j = self.next_int(i + 1)
            values[i], values[j] = values[j], values[i]


def fashion(limit):
    for folder in (os.path.join(ROOT, "data", "fashion-mnist"), "/usr/share/datasets/fashion-mnist"):
        if os.path.exists(os.path.join(folder, "train-images-idx3-ubyte.gz")):
            def load(kind):
                x = read_idx(os.path.join(folder, f"{kind}-images-idx3-ubyte.gz"))[:limit]
                y = read_idx(os.path.join(folder, f"{kind}-labels-idx1-ubyte.gz"))[:limit]
                return torch.from_numpy(x.astype(np.float32) / 255.0).unsqueeze(1), torch.from_numpy(y.astype(np.int64))
            return load("train"), load("t10k")
    raise SystemExit("Fashion-MNIST not found: bash data/get-fashion-mnist.sh")


def split(labels, fraction, seed):
    """Split.TrainValidation(stratified: true): each class's indices shuffled in turn by one generator, the first
    round(n * fraction) held out; both parts in ascending order."""
    generator = Generator(seed)
    held = set()
    for c in sorted(set(labels)):
        stratum = [i for i, label in enumerate(labels) if label == c]
        generator.shuffle(stratum)
        held.update(stratum[:math.floor(len(stratum) * fraction + 0.5)])
    return [i for i in range(len(labels)) if i not in held], sorted(held)


class BasicBlock(nn.Module):
    def __init__(self, inputs, outputs, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inputs, outputs, 3, stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(outputs)
        self.conv2 = nn.Conv2d(outputs, outputs, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(outputs)
        self.downsample = None
        if stride != 1 or inputs != outputs:
            self.downsample = nn.Sequential(nn.Conv2d(inputs, outputs, 1, stride, bias=False), nn.BatchNorm2d(outputs))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.downsample is None else self.downsample(x)))


class SmallResNet(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.conv1 = nn.Conv2d(1, width, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.layers = nn.Sequential(BasicBlock(width, width, 1), BasicBlock(width, 2 * width, 2), BasicBlock(2 * width, 4 * width, 2))
        self.fc = nn.Linear(4 * width, 10)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(self.layers(x), 1), 1))


def shifted(images, dy, dx, padding):
    """out[y, x] = in[y + dy, x + dx], zero outside: the sample's Augmenter (a crop of the zero-padded image)."""
    n, _, h, w = images.shape
    padded = F.pad(images, (padding, padding, padding, padding))
    rows = (torch.arange(h)[None, :] + padding + dy[:, None])[:, :, None]
    cols = (torch.arange(w)[None, :] + padding + dx[:, None])[:, None, :]
    return padded[torch.arange(n)[:, None, None], 0, rows, cols].unsqueeze(1)


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        correct = sum((model(x[i:i + 500]).argmax(1) == y[i:i + 500]).sum().item() for i in range(0, len(y), 500))
    model.train()
    return correct / len(y)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.1, help="OneCycleLR's max_lr")
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--label-smoothing", type=float, default=0.1)
    parser.add_argument("--padding", type=int, default=2, help="random shifts of up to this many pixels (0: none)")
    parser.add_argument("--width", type=int, default=24)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--limit", type=int, default=None, help="only the first N training and test images (quick runs)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    (train_x, train_y), (test_x, test_y) = fashion(args.limit)
    train_indices, validation_indices = split(train_y.tolist(), 0.1, args.seed)
    x, y = train_x[train_indices], train_y[train_indices]
    validation_x, validation_y = train_x[validation_indices], train_y[validation_indices]
    model = SmallResNet(args.width)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, nesterov=True, weight_decay=args.weight_decay)
    steps_per_epoch = (len(y) + args.batch - 1) // args.batch
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, args.lr, epochs=args.epochs, steps_per_epoch=steps_per_epoch)
    order_generator, shift_generator = Generator(args.seed), Generator(args.seed + 1)
    seconds, validation = 0.0, []
    for _ in range(args.epochs):
        order = list(range(len(y)))
        order_generator.shuffle(order)
        order = torch.tensor(order)
        span = 2 * args.padding + 1
        shifts = torch.tensor([shift_generator.next_int(span) - args.padding for _ in range(2 * len(y))]).reshape(-1, 2) \
            if args.padding > 0 else None
        start = time.perf_counter()
        for b in range(0, len(y), args.batch):
            index = order[b:b + args.batch]
            images = x[index]
            if shifts is not None:
                images = shifted(images, shifts[b:b + args.batch, 0], shifts[b:b + args.batch, 1], args.padding)
            loss = F.cross_entropy(model(images), y[index], label_smoothing=args.label_smoothing)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
        seconds += time.perf_counter() - start
        validation.append(round(accuracy(model, validation_x, validation_y), 4))
        print(f"epoch {len(validation)}: validation accuracy {validation[-1]:.4f}, {seconds:.0f} s", file=sys.stderr)
    print(json.dumps({"impl": "torch-" + torch.__version__, "threads": args.threads, "epochs": args.epochs, "batch": args.batch,
                      "test_accuracy": accuracy(model, test_x, test_y), "validation_accuracy": validation,
                      "train_seconds": round(seconds, 1), "ms_per_step": round(1000 * seconds / (args.epochs * steps_per_epoch), 2),
                      "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))


if __name__ == "__main__":
    main()
