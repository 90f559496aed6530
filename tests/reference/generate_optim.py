"""PyTorch reference for the optimizers, gradient clipping and LR schedules.

Optimizers: a fixed least-squares problem, loss = mean((x W^T + b - y)^2), starting from fixed W [3, 4] and b [3];
each case records W and b after each of 10 steps (some with a OneCycleLR stepped after each step, which also cycles
the momentum or beta1). Schedules: the lr of each of 20 epochs (lr before the first step() and after each later one;
30 steps for OneCycleLR, with the momentum too; ReduceLROnPlateau driven by a fixed metric sequence, one lr before
and one after each step(metric)). Writes fixtures/optim.json. Run: /usr/bin/python3 generate_optim.py
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
    ("adagrad_default", "adagrad", dict(lr=0.1)),
    ("adagrad_lr_decay", "adagrad", dict(lr=0.1, lr_decay=0.05)),
    ("adagrad_initial_accumulator_eps", "adagrad", dict(lr=0.1, initial_accumulator_value=0.5, eps=1e-3)),
    ("adagrad_weight_decay", "adagrad", dict(lr=0.1, weight_decay=0.1)),
    ("adagrad_maximize", "adagrad", dict(lr=0.01, maximize=True)),
    ("adagrad_all", "adagrad", dict(lr=0.1, lr_decay=0.1, weight_decay=0.05, initial_accumulator_value=0.2, eps=1e-6)),
    ("adadelta_default", "adadelta", dict()),
    ("adadelta_rho_eps", "adadelta", dict(lr=0.5, rho=0.5, eps=1e-4)),
    ("adadelta_weight_decay", "adadelta", dict(lr=2.0, weight_decay=0.1)),
    ("adadelta_maximize", "adadelta", dict(lr=1.0, maximize=True)),
    ("nadam_default", "nadam", dict(lr=0.05)),
    ("nadam_betas_eps", "nadam", dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6)),
    ("nadam_weight_decay", "nadam", dict(lr=0.05, weight_decay=0.1)),
    ("nadam_momentum_decay", "nadam", dict(lr=0.05, momentum_decay=0.05)),
]

CLASSES = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "rmsprop": torch.optim.RMSprop,
           "adagrad": torch.optim.Adagrad, "adadelta": torch.optim.Adadelta, "nadam": torch.optim.NAdam}
# Defaults where ours differ from PyTorch's or PyTorch has none (SGD's lr), so the JSON options are complete.
DEFAULT_LR = {"adadelta": 1.0}


def trajectory(kind, options, groups=False, clip=None, onecycle=None):
    w = W0.clone().requires_grad_(True)
    b = B0.clone().requires_grad_(True)
    if groups:
        params = [{"params": [w]}, {"params": [b], "lr": options["lr"] * 0.1, "weight_decay": 0.2}]
    else:
        params = [w, b]
    opt = CLASSES[kind](params, **options)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, total_steps=STEPS, **onecycle) if onecycle is not None else None
    steps = []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = ((X @ w.t() + b - Y) ** 2).mean()
        loss.backward()
        norm = None
        if clip is not None:
            norm = float(torch.nn.utils.clip_grad_norm_([w, b], clip))
        opt.step()
        if sched is not None:
            sched.step()
        steps.append({"weight": tensor_json(w), "bias": tensor_json(b), "loss": float(loss), "norm": norm})
    return steps


def json_options(options):
    out = dict(options)
    if "anneal_strategy" in out:
        out["linear"] = out.pop("anneal_strategy") == "linear"
    if "betas" in out:
        out["beta1"], out["beta2"] = out.pop("betas")
    return out


optimizers = [
    {"name": name, "kind": kind, "options": json_options({"lr": DEFAULT_LR.get(kind), **opts}), "groups": False, "clip": None,
     "steps": trajectory(kind, opts)}
    for name, kind, opts in OPTIMIZERS
]
for kind, opts in [("adagrad", dict(lr=0.1, lr_decay=0.05)), ("adadelta", dict(lr=1.0, rho=0.8)), ("nadam", dict(lr=0.05))]:
    optimizers.append({"name": f"{kind}_two_groups", "kind": kind, "options": opts, "groups": True, "clip": None,
                       "steps": trajectory(kind, opts, groups=True)})
# OneCycleLR over the 10 steps, cycling SGD's momentum, Adam's and NAdam's beta1, RMSprop's momentum.
ONECYCLE_TRAJECTORIES = [
    ("sgd_onecycle", "sgd", dict(lr=0.1, momentum=0.9), dict(max_lr=0.2)),
    ("sgd_onecycle_no_momentum", "sgd", dict(lr=0.1), dict(max_lr=0.2, anneal_strategy="linear")),
    ("adam_onecycle", "adam", dict(lr=0.05), dict(max_lr=0.1, three_phase=True)),
    ("nadam_onecycle", "nadam", dict(lr=0.05), dict(max_lr=0.1, base_momentum=0.8, max_momentum=0.9)),
    ("rmsprop_onecycle", "rmsprop", dict(lr=0.01, momentum=0.5), dict(max_lr=0.02, pct_start=0.5)),
    ("adagrad_onecycle", "adagrad", dict(lr=0.1), dict(max_lr=0.2, cycle_momentum=False)),
]
for name, kind, opts, cycle in ONECYCLE_TRAJECTORIES:
    optimizers.append({"name": name, "kind": kind, "options": json_options(opts), "groups": False, "clip": None,
                       "onecycle": json_options(cycle), "steps": trajectory(kind, opts, onecycle=cycle)})
# OneCycleLR with a max_lr and momentum limits of each group's own (PyTorch's lists)
GROUP_CYCLE = dict(max_lr=[0.2, 0.05], base_momentum=[0.8, 0.85], max_momentum=[0.9, 0.99])
optimizers.append({"name": "sgd_onecycle_two_groups", "kind": "sgd", "options": {"lr": 0.1, "momentum": 0.9}, "groups": True, "clip": None,
                   "onecycle": GROUP_CYCLE, "steps": trajectory("sgd", dict(lr=0.1, momentum=0.9), groups=True, onecycle=GROUP_CYCLE)})
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
    # LambdaLR's lambdas are code: the C# test maps each "lambda" name to the same function.
    ("lambda_power", "lambda", {"lambda": "power"}, lambda o: S.LambdaLR(o, lambda e: 0.9 ** e)),
    ("lambda_warmup", "lambda", {"lambda": "warmup"}, lambda o: S.LambdaLR(o, lambda e: min(1.0, (e + 1) / 6))),
    ("linear_default", "linear", {}, lambda o: S.LinearLR(o)),
    ("linear_warmup_10", "linear", {"start_factor": 0.1, "total_iters": 10}, lambda o: S.LinearLR(o, start_factor=0.1, total_iters=10)),
    ("linear_cooldown", "linear", {"start_factor": 1.0, "end_factor": 0.2, "total_iters": 8},
     lambda o: S.LinearLR(o, start_factor=1.0, end_factor=0.2, total_iters=8)),
]
ONECYCLE_STEPS = 30
ONECYCLE = [
    ("onecycle_default", "sgd", dict(max_lr=1.0, total_steps=30)),
    ("onecycle_linear", "sgd", dict(max_lr=1.0, total_steps=30, anneal_strategy="linear")),
    ("onecycle_three_phase", "sgd", dict(max_lr=0.5, total_steps=30, three_phase=True)),
    ("onecycle_three_phase_linear", "sgd", dict(max_lr=0.5, total_steps=30, three_phase=True, anneal_strategy="linear")),
    ("onecycle_epochs", "sgd", dict(max_lr=0.3, epochs=3, steps_per_epoch=10, pct_start=0.25)),
    ("onecycle_factors", "sgd", dict(max_lr=0.2, total_steps=30, div_factor=10.0, final_div_factor=100.0)),
    ("onecycle_momenta", "sgd", dict(max_lr=0.2, total_steps=30, base_momentum=0.7, max_momentum=0.9)),
    ("onecycle_no_momentum", "sgd", dict(max_lr=0.2, total_steps=30, cycle_momentum=False)),
    ("onecycle_adam_beta1", "adam", dict(max_lr=0.01, total_steps=30, pct_start=0.4)),
]
PLATEAU_METRICS = [1.0, 0.9, 0.85, 0.85, 0.86, 0.84, 0.84, 0.84, 0.84, 0.83,
                   0.8, 0.8, 0.81, 0.82, 0.79, 0.79, 0.79, 0.79, 0.78, 0.78]
PLATEAU_RISING = [0.5, 0.6, 0.6, 0.61, 0.6, 0.59, 0.62, 0.62, 0.62, 0.62,
                  0.625, 0.63, 0.63, 0.64, 0.64, 0.64, 0.64, 0.64, 0.65, 0.65]
PLATEAU = [
    ("plateau_default_patience_2", PLATEAU_METRICS, dict(patience=2)),
    ("plateau_patience_0_factor_half", PLATEAU_METRICS, dict(patience=0, factor=0.5)),
    ("plateau_max", PLATEAU_RISING, dict(mode="max", patience=1)),
    ("plateau_max_abs", PLATEAU_RISING, dict(mode="max", patience=1, threshold=0.015, threshold_mode="abs")),
    ("plateau_abs", PLATEAU_METRICS, dict(patience=1, threshold=0.02, threshold_mode="abs")),
    ("plateau_rel_threshold", PLATEAU_METRICS, dict(patience=1, threshold=0.03)),
    ("plateau_cooldown", PLATEAU_METRICS, dict(patience=0, cooldown=2, factor=0.5)),
    ("plateau_min_lr", PLATEAU_METRICS, dict(patience=0, factor=0.5, min_lr=0.02)),
    ("plateau_eps", PLATEAU_METRICS, dict(patience=0, factor=0.9, min_lr=0.05, eps=0.006)),
    ("plateau_default", PLATEAU_METRICS, dict()),
]


def momentum_of(group):
    return group["betas"][0] if "betas" in group else group["momentum"]


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
for name, optimizer, options in ONECYCLE:
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1, momentum=0.9) if optimizer == "sgd" else torch.optim.Adam([p], lr=0.1)
    sched = S.OneCycleLR(opt, **options)
    lrs, momenta = [], []
    # Every step the cycle uses, then the one step past it that PyTorch still allows (its value is not recorded).
    for step in range(ONECYCLE_STEPS):
        lrs.append(sched.get_last_lr()[0])
        momenta.append(momentum_of(opt.param_groups[0]))
        opt.step()
        sched.step()
    schedules.append({"name": name, "kind": "onecycle", "optimizer": optimizer, "options": json_options(options), "base_lr": 0.1,
                      "lrs": lrs, "momenta": momenta})
for name, metrics, options in PLATEAU:
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1)
    sched = S.ReduceLROnPlateau(opt, **options)
    lrs = [opt.param_groups[0]["lr"]]
    for metric in metrics:
        opt.step()
        sched.step(metric)
        lrs.append(opt.param_groups[0]["lr"])
    schedules.append({"name": name, "kind": "plateau", "options": options, "base_lr": 0.1, "metrics": metrics, "lrs": lrs})

with open(os.path.join(HERE, "fixtures", "optim.json"), "w") as f:
    json.dump({"generator": "generate_optim.py", "torch_version": torch.__version__,
               "problem": {"x": tensor_json(X), "y": tensor_json(Y), "weight": tensor_json(W0), "bias": tensor_json(B0)},
               "optimizers": optimizers, "schedules": schedules}, f, separators=(",", ":"))
print(f"wrote {len(optimizers)} optimizer cases and {len(schedules)} schedules to fixtures/optim.json")
