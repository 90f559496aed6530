"""PyTorch reference for the optimizers, gradient clipping and LR schedules.

Optimizers: a fixed least-squares problem, loss = mean((x W^T + b - y)^2), starting from fixed W [3, 4] and b [3];
each case records W and b after each of 10 steps. Schedules: the lr of each of 20 epochs (lr before the first
step() and after each later one). Writes fixtures/optim.json. Run: /usr/bin/python3 generate_optim.py
"""
import json
import os

import torch

from fixture_io import tensor_json

HERE = os.path.dirname(os.path.abspath(__file__))

STEPS = 10
EPOCHS = 20

g = torch.Generator().manual_seed(1234)
X = torch.randn(8, 4, generator=g)
Y = torch.randn(8, 3, generator=g)
W0 = torch.randn(3, 4, generator=g) * 0.5
B0 = torch.randn(3, generator=g) * 0.5

OPTIMIZERS = [
    ("sgd_plain", "sgd", dict(lr=0.1)),
    ("sgd_momentum", "sgd", dict(lr=0.1, momentum=0.9)),
    ("sgd_dampening", "sgd", dict(lr=0.1, momentum=0.9, dampening=0.3)),
    ("sgd_nesterov", "sgd", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("sgd_weight_decay", "sgd", dict(lr=0.1, momentum=0.5, weight_decay=0.05)),
    ("adam_default", "adam", dict(lr=0.05)),
    ("adam_betas_eps", "adam", dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6)),
    ("adam_weight_decay", "adam", dict(lr=0.05, weight_decay=0.1)),
    ("adam_amsgrad", "adam", dict(lr=0.05, amsgrad=True)),
    ("adam_amsgrad_weight_decay", "adam", dict(lr=0.05, amsgrad=True, weight_decay=0.1)),
    ("adamw_default", "adamw", dict(lr=0.05)),
    ("adamw_weight_decay", "adamw", dict(lr=0.05, weight_decay=0.3)),
    ("adamw_amsgrad", "adamw", dict(lr=0.05, weight_decay=0.1, amsgrad=True)),
    ("rmsprop_default", "rmsprop", dict(lr=0.01)),
    ("rmsprop_momentum", "rmsprop", dict(lr=0.01, momentum=0.9)),
    ("rmsprop_centered", "rmsprop", dict(lr=0.01, centered=True, alpha=0.9)),
    ("rmsprop_all", "rmsprop", dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.1, eps=1e-6)),
]

CLASSES = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "rmsprop": torch.optim.RMSprop}


def trajectory(kind, options, groups=False, clip=None):
    w = W0.clone().requires_grad_(True)
    b = B0.clone().requires_grad_(True)
    if groups:
        params = [{"params": [w]}, {"params": [b], "lr": options["lr"] * 0.1, "weight_decay": 0.2}]
    else:
        params = [w, b]
    opt = CLASSES[kind](params, **options)
    steps = []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = ((X @ w.t() + b - Y) ** 2).mean()
        loss.backward()
        norm = None
        if clip is not None:
            norm = float(torch.nn.utils.clip_grad_norm_([w, b], clip))
        opt.step()
        steps.append({"weight": tensor_json(w), "bias": tensor_json(b), "loss": float(loss), "norm": norm})
    return steps


def json_options(options):
    out = dict(options)
    if "betas" in out:
        out["beta1"], out["beta2"] = out.pop("betas")
    return out


optimizers = [
    {"name": name, "kind": kind, "options": json_options(opts), "groups": False, "clip": None, "steps": trajectory(kind, opts)}
    for name, kind, opts in OPTIMIZERS
]
optimizers.append({"name": "sgd_two_groups", "kind": "sgd", "options": {"lr": 0.1, "momentum": 0.9}, "groups": True, "clip": None,
                   "steps": trajectory("sgd", dict(lr=0.1, momentum=0.9), groups=True)})
optimizers.append({"name": "adam_two_groups", "kind": "adam", "options": {"lr": 0.05}, "groups": True, "clip": None,
                   "steps": trajectory("adam", dict(lr=0.05), groups=True)})
optimizers.append({"name": "sgd_clip_grad_norm", "kind": "sgd", "options": {"lr": 0.1}, "groups": False, "clip": 0.5,
                   "steps": trajectory("sgd", dict(lr=0.1), clip=0.5)})

S = torch.optim.lr_scheduler
SCHEDULES = [
    ("constant_default", "constant", {}, lambda o: S.ConstantLR(o)),
    ("constant_half_8", "constant", {"factor": 0.5, "total_iters": 8}, lambda o: S.ConstantLR(o, factor=0.5, total_iters=8)),
    ("exponential_0_9", "exponential", {"gamma": 0.9}, lambda o: S.ExponentialLR(o, gamma=0.9)),
    ("step_5_0_5", "step", {"step_size": 5, "gamma": 0.5}, lambda o: S.StepLR(o, step_size=5, gamma=0.5)),
    ("step_3_default", "step", {"step_size": 3}, lambda o: S.StepLR(o, step_size=3)),
    ("cosine_20", "cosine", {"t_max": 20}, lambda o: S.CosineAnnealingLR(o, T_max=20)),
    ("cosine_10_eta", "cosine", {"t_max": 10, "eta_min": 0.001}, lambda o: S.CosineAnnealingLR(o, T_max=10, eta_min=0.001)),
]
schedules = []
for name, kind, options, make in SCHEDULES:
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1)
    sched = make(opt)
    lrs = []
    for epoch in range(EPOCHS):
        lrs.append(sched.get_last_lr()[0])
        opt.step()
        sched.step()
    schedules.append({"name": name, "kind": kind, "options": options, "base_lr": 0.1, "lrs": lrs})

with open(os.path.join(HERE, "fixtures", "optim.json"), "w") as f:
    json.dump({"generator": "generate_optim.py", "torch_version": torch.__version__,
               "problem": {"x": tensor_json(X), "y": tensor_json(Y), "weight": tensor_json(W0), "bias": tensor_json(B0)},
               "optimizers": optimizers, "schedules": schedules}, f, separators=(",", ":"))
print(f"wrote {len(optimizers)} optimizer cases and {len(schedules)} schedules to fixtures/optim.json")
