"""Writes fixtures/functional.json: torch.autograd.functional (jacobian, hessian, vjp, jvp, hvp, vhp) on small
functions, and the first step of a WGAN-GP critic (the gradient penalty trained through create_graph=True).

Run by hand (CI never needs Python):
    apt-get install -y python3-torch python3-numpy
    /usr/bin/python3 tests/reference/generate_functional.py

Every function here has a twin of the same name in tests/AutoGrad.Tests/Autograd/FunctionalTests.cs. A case holds
the inputs, the constants the function closes over, random vectors v (shaped as the outputs for vjp, as the inputs
for jvp/hvp/vhp) and torch's results. Jacobian blocks are [output][input]; Hessian blocks [input][input].
"""
import os

import torch
import torch.nn.functional as F
from torch.autograd import functional as AF

from fixture_io import tensor_json

torch.manual_seed(1717)
HERE = os.path.dirname(os.path.abspath(__file__))


def randn(*shape):
    return torch.randn(shape, dtype=torch.float32)


# name -> (function of (inputs, constants) returning a tuple of outputs, or one single-element tensor for "scalar")
FUNCTIONS = {
    "elementwise": lambda x, c: (x[0].exp() * x[0] + x[0].pow(3),),
    "matmul": lambda x, c: (x[0] @ x[1],),
    "tanh_mlp": lambda x, c: (torch.tanh(x[0] @ c[0].T + c[1]) @ c[2].T + c[3],),
    "two_outputs": lambda x, c: (x[0].sum(0) * x[1], (x[0] * x[0]).sum()),
    "elementwise_sum": lambda x, c: (x[0].exp() * x[0] + x[0].pow(3)).sum(),
    "tanh_mlp_loss": lambda x, c: (torch.tanh(x[0] @ x[1].T + c[0]) @ c[1].T).pow(2).sum(),
    "softplus": lambda x, c: F.softplus(x[0] @ x[1]).sum(),
    "unused_input": lambda x, c: (x[0].exp() * x[0]).sum(),
}

# name -> (kind, input shapes, constant shapes)
CASES = {
    "elementwise": ("vector", [(3,)], []),
    "matmul": ("vector", [(2, 3), (3, 2)], []),
    "tanh_mlp": ("vector", [(2, 3)], [(4, 3), (4,), (2, 4), (2,)]),
    "two_outputs": ("vector", [(3, 2), (2,)], []),
    "elementwise_sum": ("scalar", [(3,)], []),
    "tanh_mlp_loss": ("scalar", [(2, 3), (4, 3)], [(4,), (2, 4)]),
    "softplus": ("scalar", [(2, 3), (3, 2)], []),
    "unused_input": ("scalar", [(2,), (3,)], []),
}


def functional_case(name):
    kind, input_shapes, constant_shapes = CASES[name]
    inputs = tuple(randn(*s) for s in input_shapes)
    constants = [randn(*s) for s in constant_shapes]
    f = FUNCTIONS[name]
    as_tuple = (lambda *x: (f(x, constants),)) if kind == "scalar" else (lambda *x: f(x, constants))
    outputs = as_tuple(*inputs)
    v_out = tuple(randn(*o.shape) for o in outputs)
    v_in = tuple(randn(*x.shape) for x in inputs)
    case = {
        "name": name,
        "kind": kind,
        "inputs": [tensor_json(x) for x in inputs],
        "constants": [tensor_json(c) for c in constants],
        "outputs": [tensor_json(o) for o in outputs],
        "v_out": [tensor_json(v) for v in v_out],
        "v_in": [tensor_json(v) for v in v_in],
        "jacobian": [[tensor_json(b) for b in row] for row in AF.jacobian(as_tuple, inputs)],
        "vjp": [tensor_json(t) for t in AF.vjp(as_tuple, inputs, v_out)[1]],
        "jvp": [tensor_json(t) for t in AF.jvp(as_tuple, inputs, v_in)[1]],
    }
    if kind == "scalar":
        scalar = lambda *x: f(x, constants)
        case["hessian"] = [[tensor_json(b) for b in row] for row in AF.hessian(scalar, inputs)]
        case["hvp"] = [tensor_json(t) for t in AF.hvp(scalar, inputs, v_in)[1]]
        case["vhp"] = [tensor_json(t) for t in AF.vhp(scalar, inputs, v_in)[1]]
    return case


def critic(x, w1, b1, w2, b2):
    return torch.tanh(x @ w1.T + b1) @ w2.T + b2


def gradient_penalty_case():
    """One WGAN-GP critic step: loss = mean(D(fake)) - mean(D(real)) + lambda * mean((|dD/dx_hat| - 1)^2)."""
    real = randn(8, 2) * 0.5 + torch.tensor([2.0, 0.0])
    fake = randn(8, 2) * 0.5
    alpha = torch.rand(8, 1)
    params = [randn(16, 2) * 0.5, randn(16) * 0.1, randn(1, 16) * 0.25, randn(1) * 0.1]
    leaves = [p.clone().requires_grad_(True) for p in params]
    lam = 10.0
    x_hat = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    d_hat = critic(x_hat, *leaves)
    (grad_x,) = torch.autograd.grad(d_hat.sum(), x_hat, create_graph=True)
    penalty = ((grad_x.pow(2).sum(1).sqrt() - 1) ** 2).mean()
    loss = critic(fake, *leaves).mean() - critic(real, *leaves).mean() + lam * penalty
    loss.backward()
    return {
        "name": "wgan_gp_critic_step",
        "lambda": lam,
        "real": tensor_json(real),
        "fake": tensor_json(fake),
        "alpha": tensor_json(alpha),
        "params": [tensor_json(p) for p in params],
        "penalty": penalty.item(),
        "loss": loss.item(),
        "grads": [tensor_json(p.grad) for p in leaves],
    }


if __name__ == "__main__":
    import json

    cases = [functional_case(name) for name in CASES]
    path = os.path.join(HERE, "fixtures", "functional.json")
    with open(path, "w") as f:
        json.dump({"generator": "generate_functional.py", "torch_version": torch.__version__, "cases": cases,
                   "gradient_penalty": gradient_penalty_case()}, f, separators=(",", ":"))
    print(f"wrote {len(cases)} cases and the gradient-penalty step to {path}")
