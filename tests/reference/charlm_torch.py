"""The PyTorch twin of the charlm sample (samples/AutoGrad.Samples/CharLmSample.cs): the same text, split, batch
offsets (splitmix64 of step and row), model (4 layers, 4 heads, width 128, context 64, pre-norm blocks, GELU MLP),
AdamW(lr, weight_decay=0.01) and evaluation (8 fixed validation batches, bits per character).

    /usr/bin/python3 tests/reference/charlm_torch.py [--steps 2000] [--batch 32] [--threads 1] [--lr 1e-3] [--seed 1]
Prints one JSON line: validation bits/char, ms per training step, steps.
"""
import argparse
import gzip
import json
import math
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

LAYERS, HEADS, WIDTH, CONTEXT = 4, 4, 128, 64
EVAL_BATCHES = 8
MASK64 = (1 << 64) - 1


def splitmix(x):
    x = (x + 0x9E3779B97F4A7C15) & MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK64
    return x ^ (x >> 31)


def take(data, step, batch):
    span = len(data) - CONTEXT - 1
    starts = [splitmix(((step & 0xFFFFFFFF) * 1_000_003 + row) & MASK64) % span for row in range(batch)]
    x = torch.stack([data[s:s + CONTEXT] for s in starts])
    y = torch.stack([data[s + 1:s + CONTEXT + 1] for s in starts])
    return x, y


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(WIDTH), nn.LayerNorm(WIDTH)
        self.qkv, self.proj = nn.Linear(WIDTH, 3 * WIDTH), nn.Linear(WIDTH, WIDTH)
        self.fc1, self.fc2 = nn.Linear(WIDTH, 4 * WIDTH), nn.Linear(4 * WIDTH, WIDTH)
        self.register_buffer("mask", torch.ones(CONTEXT, CONTEXT).triu(1).bool())

    def forward(self, x):
        b, t, w = x.shape
        qkv = self.qkv(self.ln1(x)).reshape(b, t, 3, HEADS, w // HEADS).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        scores = (q @ k.transpose(-2, -1) / math.sqrt(w // HEADS)).masked_fill(self.mask[:t, :t], float("-inf"))
        attended = (torch.softmax(scores, -1) @ v).permute(0, 2, 1, 3).reshape(b, t, w)
        x = x + self.proj(attended)
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x)), approximate="tanh"))


class CharTransformer(nn.Module):
    def __init__(self, vocabulary):
        super().__init__()
        self.tok_emb, self.pos_emb = nn.Embedding(vocabulary, WIDTH), nn.Embedding(CONTEXT, WIDTH)
        self.blocks = nn.Sequential(*[Block() for _ in range(LAYERS)])
        self.ln_f, self.head = nn.LayerNorm(WIDTH), nn.Linear(WIDTH, vocabulary)

    def forward(self, x):
        h = self.tok_emb(x) + self.pos_emb(torch.arange(x.shape[1]))
        return self.head(self.ln_f(self.blocks(h)))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    here = os.path.dirname(os.path.abspath(__file__))
    text = gzip.open(os.path.join(here, "..", "..", "data", "sotu", "sotu-1790-1860.txt.gz"), "rb").read().decode("ascii")
    vocabulary = sorted(set(text))
    index = {c: i for i, c in enumerate(vocabulary)}
    data = torch.tensor([index[c] for c in text], dtype=torch.long)
    cut = int(len(data) * 0.9)
    train, validation = data[:cut], data[cut:]
    model = CharTransformer(len(vocabulary))
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    seconds = 0.0
    for step in range(1, args.steps + 1):
        x, y = take(train, step, args.batch)
        start = time.perf_counter()
        loss = F.cross_entropy(model(x).reshape(-1, len(vocabulary)), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        seconds += time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        total = sum(F.cross_entropy(model(x).reshape(-1, len(vocabulary)), y.reshape(-1)).item()
                    for x, y in (take(validation, -(b + 1), 32) for b in range(EVAL_BATCHES)))
    print(json.dumps({"impl": "torch-" + torch.__version__, "threads": args.threads, "steps": args.steps,
                      "validation_bits_per_char": total / EVAL_BATCHES / math.log(2), "ms_per_step": 1000 * seconds / args.steps}))


if __name__ == "__main__":
    main()
