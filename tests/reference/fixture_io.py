"""Shared helpers for the PyTorch fixture generators: float32 tensors to the JSON format the C# tests read.

Format of a case: {"name", "op", "attrs", "inputs": [{"shape", "data", "requires_grad"}], "output",
"grad_output", "grads": [tensor or null]}. Floats are written exactly (Python float of the float32 value);
non-finite values as the strings "NaN", "Infinity", "-Infinity".
"""
import gzip
import json
import math
import struct

import numpy as np

import torch


def number(v):
    v = float(v)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return v


def tensor_json(t):
    t = t.detach().to(torch.float32).contiguous()
    return {"shape": list(t.shape), "data": [number(v) for v in t.reshape(-1).tolist()]}


def pair(v):
    return list(v) if isinstance(v, (tuple, list)) else [v, v]


def run_case(name, op, fn, inputs, requires_grad=None, attrs=None, seed=0):
    """Runs fn(*inputs) in float32, backpropagates a seeded random upstream gradient and records everything."""
    requires_grad = requires_grad if requires_grad is not None else [True] * len(inputs)
    leaves = [x.detach().clone().to(torch.float32).requires_grad_(rg) for x, rg in zip(inputs, requires_grad)]
    out = fn(*leaves)
    g = torch.Generator().manual_seed(seed + 7919)
    grad_output = torch.randn(out.shape, generator=g, dtype=torch.float32)
    grads = [None] * len(leaves)
    if out.requires_grad:
        out.backward(grad_output)
        grads = [tensor_json(x.grad) if x.grad is not None else None for x in leaves]
    return {
        "name": name,
        "op": op,
        "attrs": attrs or {},
        "inputs": [dict(tensor_json(x), requires_grad=rg) for x, rg in zip(leaves, requires_grad)],
        "output": tensor_json(out),
        "grad_output": tensor_json(grad_output),
        "grads": grads,
    }


# ---- inputs (drawn from torch's global generator, so each script's seed fixes them)

def randn(*shape):
    return torch.randn(shape)


def away(*shape, margin=0.05):
    """Normal values at least `margin` away from 0 (the kinks of abs, relu, leaky_relu, elu)."""
    x = torch.randn(shape)
    return x + margin * torch.sign(x) + (x == 0) * margin


def positive(*shape, low=0.1, high=3.0):
    return torch.rand(shape) * (high - low) + low


def away_from(points, *shape, near=0.02, shift=0.05):
    """Uniform values in [-1.5, 1.5) moved by `shift` where they come within `near` of one of `points` (a clamp's bounds)."""
    x = torch.rand(shape) * 3 - 1.5
    for p in points:
        x = torch.where((x - p).abs() < near, x + shift, x)
    return x


def distinct(*shape):
    """Distinct values 0.1 apart in random order (no ties for max, min and max pooling)."""
    n = 1
    for s in shape:
        n *= s
    return (torch.randperm(n).float() - n // 2).mul(0.1).reshape(shape)


def write(path, generator, cases):
    names = [c["name"] for c in cases]
    assert len(names) == len(set(names)), "case names must be unique"
    with open(path, "w") as f:
        json.dump({"generator": generator, "torch_version": torch.__version__, "cases": cases}, f, separators=(",", ":"))
    print(f"wrote {len(cases)} cases to {path}")


def read_idx(path):
    """An IDX file (.gz) as a numpy uint8 array of its declared shape."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    rank = raw[3]
    dims = struct.unpack(">" + "i" * rank, raw[4:4 + 4 * rank])
    return np.frombuffer(raw[4 + 4 * rank:], dtype=np.uint8).reshape(dims)
