"""Writes fixtures/lenet.json: LeNet-5's forward and backward on a batch of 4 in PyTorch, with its weights.

Run by hand (CI never needs Python):
    /usr/bin/python3 tests/reference/generate_lenet.py
"""
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from fixture_io import number, tensor_json

HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(0)

model = nn.Sequential(
    nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(),
    nn.Linear(400, 120), nn.ReLU(),
    nn.Linear(120, 84), nn.ReLU(),
    nn.Linear(84, 10),
)
x = torch.rand(4, 1, 28, 28, requires_grad=True)
targets = [3, 7, 0, 9]
logits = model(x)
loss = F.cross_entropy(logits, torch.tensor(targets))
loss.backward()

fixture = {
    "generator": "tests/reference/generate_lenet.py",
    "torch_version": torch.__version__,
    "parameters": {name: tensor_json(p) for name, p in model.state_dict().items()},
    "input": tensor_json(x),
    "targets": targets,
    "logits": tensor_json(logits),
    "loss": number(loss.item()),
    "grads": {name: tensor_json(p.grad) for name, p in model.named_parameters()},
    "input_grad": tensor_json(x.grad),
}
path = os.path.join(HERE, "fixtures", "lenet.json")
with open(path, "w") as f:
    json.dump(fixture, f, separators=(",", ":"))
print(f"wrote {path}: loss {loss.item():.6f}")
