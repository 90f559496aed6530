"""Writes fixtures/onnx/*.onnx and fixtures/onnx/onnx_models.json: four PyTorch models exported by torch.onnx.export
(opset 17) for the ONNX importer's tests, with fixed inputs, PyTorch's outputs, state_dict names, and a 3-step SGD
fine-tuning trajectory on a fixed batch (losses, final parameters, final outputs).

Run by hand (CI never needs Python):
    /usr/bin/python3 tests/reference/generate_onnx_models.py

What torch 1.13 emits, and why the export options are what they are:
- training=PRESERVE with the model in eval mode keeps BatchNormalization nodes (training_mode=0) with their
  running statistics as initializers; the default (EVAL) folds each BatchNorm into the convolution before it, and
  the file then has neither the BatchNorm parameters nor PyTorch's names for the convolution weights.
- do_constant_folding=False keeps every weight an initializer under its state_dict name (folding would turn the
  transposed weight of a Linear on 3-D input, a MatMul, into an anonymous "onnx::MatMul_*" constant).
- torch deduplicates initializers with equal values (a fresh BatchNorm's running_var equals its weight, all ones)
  into Identity nodes; the statistics and affine parameters are made distinct below so that does not happen.
- the batch dim is dynamic ("N"), so reshapes go through Shape/Gather/Unsqueeze/Concat chains; exact GELU is
  written as Div/Erf/Add/Mul; nn.MultiheadAttention as Gemm/MatMul/Softmax with dynamic Reshape/Transpose; LayerNorm
  as LayerNormalization (opset 17).
"""
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from fixture_io import number, tensor_json

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "onnx")
STEPS, LR = 3, 0.05
FULL_STATE_LIMIT = 2048  # tensors up to this many elements are stored in full after fine-tuning, larger ones as a digest


class Mlp(nn.Sequential):
    def __init__(self):
        super().__init__(nn.Linear(12, 32), nn.ReLU(), nn.Linear(32, 16), nn.Tanh(), nn.Linear(16, 5))


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(400, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        y = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(y)) + identity)


class ResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.layer1 = nn.Sequential(BasicBlock(8, 8, 1))
        self.layer2 = nn.Sequential(BasicBlock(8, 16, 2))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer2(self.layer1(x))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class TransformerBlock(nn.Module):
    def __init__(self, d=16, heads=2, hidden=32):
        super().__init__()
        self.ln1 = nn.LayerNorm(d)
        self.attn = nn.MultiheadAttention(d, heads, batch_first=True)
        self.ln2 = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, hidden)
        self.fc2 = nn.Linear(hidden, d)

    def forward(self, x):
        h = self.ln1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


def distinct_normalization(model):
    """Random affine parameters and running statistics (see the docstring: equal initializers would be merged)."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm2d, nn.LayerNorm)):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)


def digest(t):
    t = t.detach().double()
    return {"sum": float(t.sum()), "abs_sum": float(t.abs().sum())}


def build(name, model, x, loss_fn, target):
    distinct_normalization(model)
    model.eval()
    path = os.path.join(OUT, name + ".onnx")
    torch.onnx.export(model, x, path, opset_version=17, do_constant_folding=False, training=torch.onnx.TrainingMode.PRESERVE,
                      input_names=["input"], output_names=["output"], dynamic_axes={"input": {0: "N"}, "output": {0: "N"}})
    with torch.no_grad():
        output = model(x)
    state_names = list(model.state_dict().keys())
    parameter_names = [n for n, _ in model.named_parameters()]
    # fine-tuning: training mode (BatchNorm on batch statistics, updating its running ones), plain SGD
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    losses = []
    for _ in range(STEPS):
        optimizer.zero_grad()
        loss = loss_fn(model(x), target)
        loss.backward()
        optimizer.step()
        losses.append(number(loss.item()))
    model.eval()
    with torch.no_grad():
        tuned_output = model(x)
    state = model.state_dict()
    return {
        "file": name + ".onnx",
        "input": tensor_json(x),
        "output": tensor_json(output),
        "state_dict_names": state_names,
        "parameter_names": parameter_names,
        "loss": "cross_entropy" if loss_fn is F.cross_entropy else "mse",
        "targets": target.tolist() if loss_fn is F.cross_entropy else tensor_json(target),
        "lr": LR,
        "losses": losses,
        "final_state": {n: tensor_json(t) for n, t in state.items() if t.dtype == torch.float32 and t.numel() <= FULL_STATE_LIMIT},
        "final_digest": {n: digest(t) for n, t in state.items() if t.dtype == torch.float32},
        "tuned_output": tensor_json(tuned_output),
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    models = {
        "mlp": build("mlp", Mlp(), torch.randn(4, 12), F.cross_entropy, torch.tensor([0, 3, 1, 4])),
        "lenet": build("lenet", LeNet(), torch.rand(3, 1, 28, 28), F.cross_entropy, torch.tensor([3, 7, 0])),
        "resnet": build("resnet", ResNet(), torch.randn(4, 3, 12, 12), F.cross_entropy, torch.tensor([1, 0, 9, 4])),
        "transformer": build("transformer", TransformerBlock(), torch.randn(2, 6, 16), F.mse_loss, torch.randn(2, 6, 16)),
    }
    fixture = {"generator": "tests/reference/generate_onnx_models.py", "torch_version": torch.__version__, "opset": 17, "models": models}
    path = os.path.join(OUT, "onnx_models.json")
    with open(path, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
    for name, m in models.items():
        print(f"{name}: losses {m['losses']}")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
