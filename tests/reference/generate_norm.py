"""Writes fixtures/norm.json: BatchNorm, LayerNorm and GroupNorm computed by PyTorch.

"cases" are functional ops (values, input/weight/bias gradients) in the common format; "modules" are BatchNorm
layers trained a few steps (running statistics, num_batches_tracked, accumulated gradients), then their state dict
and an evaluation-mode output. fixtures/io/torch_batch_norm2d.safetensors is the first one's state dict as PyTorch
keeps it (num_batches_tracked an int64 scalar).

Run by hand (CI never needs Python):
    apt-get install -y python3-torch python3-numpy
    /usr/bin/python3 tests/reference/generate_norm.py
"""
import json
import os

import torch
import torch.nn.functional as F

from fixture_io import randn, run_case, tensor_json
from generate_io import save_safetensors

torch.manual_seed(2718)
HERE = os.path.dirname(os.path.abspath(__file__))
cases = []


def case(name, op, fn, inputs, attrs=None, requires_grad=None):
    cases.append(run_case(name, op, fn, inputs, requires_grad, attrs, seed=len(cases)))


# ---- batch_norm: training (batch statistics) and evaluation (running statistics)
for variant, shape, affine in [("1d", (6, 4), True), ("1d_length", (3, 4, 5), True), ("2d", (4, 3, 5, 6), True),
                               ("2d_no_affine", (2, 3, 4, 4), False)]:
    c = shape[1]
    inputs = [randn(*shape)] + ([randn(c), randn(c)] if affine else [])
    for training in (True, False):
        rm, rv = randn(c).mul(0.5), torch.rand(c) + 0.5
        attrs = {"training": training, "momentum": 0.1, "eps": 1e-5,
                 "running_mean": tensor_json(rm), "running_var": tensor_json(rv)}
        case(f"batch_norm/{variant}_{'train' if training else 'eval'}", "batch_norm",
             lambda x, *wb, rm=rm, rv=rv, t=training: F.batch_norm(x, rm.clone(), rv.clone(), wb[0] if wb else None, wb[1] if wb else None, t, 0.1, 1e-5),
             inputs, attrs)

# ---- layer_norm
for variant, shape, normalized, affine, eps in [("last", (4, 7), [7], True, 1e-5), ("two_dims", (2, 3, 4, 5), [4, 5], True, 1e-5),
                                                ("no_affine_eps", (3, 6), [6], False, 1e-3), ("wide", (2, 300), [300], True, 1e-5)]:
    inputs = [randn(*shape)] + ([randn(*normalized), randn(*normalized)] if affine else [])
    case(f"layer_norm/{variant}", "layer_norm", lambda x, *wb, n=normalized, e=eps: F.layer_norm(x, n, wb[0] if wb else None, wb[1] if wb else None, e),
         inputs, {"normalized_shape": normalized, "eps": eps})

# ---- group_norm
for variant, shape, groups, affine in [("2_groups", (2, 4, 5), 2, True), ("image", (2, 6, 3, 4), 3, True), ("instance_like", (3, 4, 2, 2), 4, True),
                                       ("one_group_no_affine", (2, 3, 5), 1, False)]:
    c = shape[1]
    inputs = [randn(*shape)] + ([randn(c), randn(c)] if affine else [])
    case(f"group_norm/{variant}", "group_norm", lambda x, *wb, g=groups: F.group_norm(x, g, wb[0] if wb else None, wb[1] if wb else None, 1e-5),
         inputs, {"num_groups": groups, "eps": 1e-5})

# ---- modules: a few training steps, then the state dict and an evaluation output
modules = []
for name, make, shape in [("batch_norm2d", lambda: torch.nn.BatchNorm2d(3), (4, 3, 5, 5)),
                          ("batch_norm2d_cumulative", lambda: torch.nn.BatchNorm2d(3, momentum=None), (4, 3, 5, 5)),
                          ("batch_norm1d", lambda: torch.nn.BatchNorm1d(5, momentum=0.3), (8, 5))]:
    layer = make()
    with torch.no_grad():
        layer.weight.copy_(randn(shape[1]))
        layer.bias.copy_(randn(shape[1]))
    initial = {k: tensor_json(v) for k, v in layer.state_dict().items()}
    steps = []
    for _ in range(3):
        x = randn(*shape) * 2 + 1
        g = randn(*shape)
        layer.train()
        y = layer(x)
        y.backward(g)
        steps.append({"input": tensor_json(x), "grad_output": tensor_json(g), "output": tensor_json(y)})
    layer.eval()
    if name == "batch_norm2d":
        save_safetensors(layer.state_dict(), os.path.join(HERE, "fixtures", "io", "torch_batch_norm2d.safetensors"), {"format": "pt"})
    x = randn(*shape)
    modules.append({
        "name": name,
        "momentum": layer.momentum,
        "initial": initial,
        "steps": steps,
        "weight_grad": tensor_json(layer.weight.grad),
        "bias_grad": tensor_json(layer.bias.grad),
        "state_dict": [{"key": k, **tensor_json(v)} for k, v in layer.state_dict().items()],
        "eval_input": tensor_json(x),
        "eval_output": tensor_json(layer(x)),
    })

path = os.path.join(HERE, "fixtures", "norm.json")
with open(path, "w") as f:
    json.dump({"generator": "generate_norm.py", "torch_version": torch.__version__, "cases": cases, "modules": modules}, f, separators=(",", ":"))
print(f"wrote {len(cases)} cases and {len(modules)} modules to {path}")
