"""Writes fixtures/higher_order.json: second derivatives of AutoGrad's ops computed by PyTorch.

For each case, with fixed random u (the output's shape) and v (one per input that requires grad):
    L   = sum(f(inputs) * u)
    g   = torch.autograd.grad(L, inputs, create_graph=True)       (stored as "grads")
    hvp = torch.autograd.grad(sum_i <g_i, v_i>, inputs)          (the Hessian-vector product of L, stored as "hvp")
Every case also comes "/squared", f(inputs)^2: then the gradient reaching f's backward depends on the inputs, which
checks that the backward is differentiable in that gradient too (for a linear op the only second derivative there is).
Inputs keep away from kinks and ties. Convolution and pooling are left to their own script.

Run by hand (CI never needs Python):
    apt-get install -y python3-torch python3-numpy
    /usr/bin/python3 tests/reference/generate_higher_order.py
"""
import os

import torch
import torch.nn.functional as F

from fixture_io import away, away_from, distinct, positive, randn, tensor_json, write

torch.manual_seed(2718)
HERE = os.path.dirname(os.path.abspath(__file__))
cases = []


def second_order(name, op, fn, inputs, requires_grad, attrs, seed):
    leaves = [x.detach().clone().to(torch.float32).requires_grad_(rg) for x, rg in zip(inputs, requires_grad)]
    out = fn(*leaves)
    g = torch.Generator().manual_seed(seed + 104729)
    u = torch.randn(out.shape, generator=g, dtype=torch.float32)
    vs = [torch.randn(x.shape, generator=g, dtype=torch.float32) if rg else None for x, rg in zip(leaves, requires_grad)]
    wrt = [x for x in leaves if x.requires_grad]
    firsts = torch.autograd.grad((out * u).sum(), wrt, create_graph=True, allow_unused=True)
    firsts = [f if f is not None and not f._is_zerotensor() else torch.zeros_like(x) for f, x in zip(firsts, wrt)]
    pairing = sum((f * v).sum() for f, v in zip(firsts, [v for v in vs if v is not None]))
    if pairing.requires_grad:
        hvps = torch.autograd.grad(pairing, wrt, allow_unused=True)
        # an op whose derivative is locally constant (relu, abs) answers with a storage-less ZeroTensor
        hvps = [h if h is not None and not h._is_zerotensor() else torch.zeros_like(x) for h, x in zip(hvps, wrt)]
    else:
        hvps = [torch.zeros_like(x) for x in wrt]  # the gradient does not depend on the inputs
    grads, second = iter(firsts), iter(hvps)
    return {
        "name": name,
        "op": op,
        "attrs": attrs,
        "inputs": [dict(tensor_json(x), requires_grad=rg) for x, rg in zip(leaves, requires_grad)],
        "output": tensor_json(out),
        "grad_output": tensor_json(u),
        "grads": [tensor_json(next(grads)) if rg else None for rg in requires_grad],
        "v": [tensor_json(v) if v is not None else None for v in vs],
        "hvp": [tensor_json(next(second)) if rg else None for rg in requires_grad],
    }


def case(name, op, fn, inputs, attrs=None, requires_grad=None):
    requires_grad = requires_grad if requires_grad is not None else [True] * len(inputs)
    attrs = attrs or {}
    cases.append(second_order(name, op, fn, inputs, requires_grad, dict(attrs, post="none"), len(cases)))
    squared = lambda *a: fn(*a) ** 2
    cases.append(second_order(name + "/squared", op, squared, inputs, requires_grad, dict(attrs, post="square"), len(cases)))


def unit(*shape, low=0.1, high=0.9):
    return torch.rand(shape) * (high - low) + low


# ---- elementwise arithmetic with broadcasting, and with a constant operand
for op, fn in {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div}.items():
    for variant, sa, sb in [("same", (2, 3), (2, 3)), ("row", (2, 3), (3,)), ("column_by_row", (4, 1), (1, 5)),
                            ("scalar_tensor", (), (2, 3)), ("rank3_with_rank2", (2, 1, 3), (4, 1))]:
        b = away(*sb, margin=0.5) if op == "div" else randn(*sb)
        case(f"{op}/{variant}", op, fn, [randn(*sa), b])
    b = away(3, margin=0.5) if op == "div" else randn(3)
    case(f"{op}/second_constant", op, fn, [randn(2, 3), b], requires_grad=[True, False])
    case(f"{op}/first_constant", op, fn, [randn(2, 3), b], requires_grad=[False, True])
case("mul_self/matrix", "mul_self", lambda x: x * x, [randn(3, 4)])

for s in (2.5, -0.75):
    case(f"add_scalar/{s}", "add_scalar", lambda x, s=s: x + s, [randn(2, 3)], {"scalar": s})
    case(f"sub_scalar/{s}", "sub_scalar", lambda x, s=s: x - s, [randn(2, 3)], {"scalar": s})
    case(f"mul_scalar/{s}", "mul_scalar", lambda x, s=s: x * s, [randn(2, 3)], {"scalar": s})
    case(f"div_scalar/{s}", "div_scalar", lambda x, s=s: x / s, [randn(2, 3)], {"scalar": s})
    case(f"rsub_scalar/{s}", "rsub_scalar", lambda x, s=s: s - x, [randn(2, 3)], {"scalar": s})
    case(f"rdiv_scalar/{s}", "rdiv_scalar", lambda x, s=s: s / x, [away(2, 3, margin=0.5)], {"scalar": s})

# ---- unary functions and activations
for op, (fn, make) in {
    "neg": (torch.neg, randn), "exp": (torch.exp, randn), "log": (torch.log, positive), "sqrt": (torch.sqrt, positive),
    "abs": (torch.abs, away), "relu": (torch.relu, away), "tanh": (torch.tanh, randn), "sigmoid": (torch.sigmoid, randn),
}.items():
    case(f"{op}/3x4", op, fn, [make(3, 4)])
for p in (2.0, 3.0, 0.5, -1.5, 1.0):
    base = positive(3, 4, low=0.3) if p != int(p) or p < 0 else randn(3, 4)
    case(f"pow/{p}", "pow", lambda x, p=p: torch.pow(x, p), [base], {"exponent": p})
for variant, lo, hi in [("both", -0.5, 0.5), ("min", 0.2, None), ("max", None, -0.1)]:
    x = away_from([v for v in (lo, hi) if v is not None], 4, 5, near=0.05, shift=0.1)
    case(f"clamp/{variant}", "clamp", lambda x, lo=lo, hi=hi: torch.clamp(x, lo, hi), [x], {"min": lo, "max": hi})
case("leaky_relu/0.2", "leaky_relu", lambda x: F.leaky_relu(x, 0.2), [away(3, 4)], {"slope": 0.2})
case("elu/0.5", "elu", lambda x: F.elu(x, 0.5), [away(3, 4)], {"alpha": 0.5})
case("softplus/default", "softplus", lambda x: F.softplus(x), [randn(3, 4)], {"beta": 1.0, "threshold": 20.0})
case("softplus/beta2_threshold1", "softplus", lambda x: F.softplus(x, 2.0, 1.0),
     [torch.tensor([-2.0, -0.3, 0.2, 0.45, 0.55, 2.0])], {"beta": 2.0, "threshold": 1.0})
case("gelu/none", "gelu", lambda x: F.gelu(x), [randn(3, 4)], {"approximate": "none"})
case("gelu/tanh", "gelu", lambda x: F.gelu(x, approximate="tanh"), [randn(3, 4)], {"approximate": "tanh"})

# ---- products
for variant, sa, sb in [("2d", (3, 4), (4, 5)), ("batch_times_matrix", (2, 3, 4), (4, 5)), ("matrix_times_batch", (3, 4), (2, 4, 5)),
                        ("broadcast_batch", (2, 3, 4), (1, 4, 5)), ("matrix_vector", (3, 4), (4,)), ("vector_matrix", (4,), (4, 5)),
                        ("dot", (4,), (4,))]:
    case(f"matmul/{variant}", "matmul", torch.matmul, [randn(*sa), randn(*sb)])
case("linear/bias", "linear", lambda x, w, b: F.linear(x, w, b), [randn(4, 3), randn(5, 3), randn(5)])
case("linear/no_bias", "linear", lambda x, w: F.linear(x, w), [randn(4, 3), randn(2, 3)])
case("linear/rank3", "linear", lambda x, w, b: F.linear(x, w, b), [randn(2, 3, 4), randn(5, 4), randn(5)])
case("linear/relu", "linear_relu", lambda x, w, b: torch.relu(F.linear(x, w, b)), [randn(4, 3), randn(5, 3), randn(5)])

# ---- reductions
for op, fn in {
    "sum": lambda x, d, k: torch.sum(x, dim=d, keepdim=k) if d is not None else torch.sum(x),
    "mean": lambda x, d, k: torch.mean(x, dim=d, keepdim=k) if d is not None else torch.mean(x),
    "amax": lambda x, d, k: torch.amax(x, dim=d if d is not None else tuple(range(x.dim())), keepdim=k),
    "amin": lambda x, d, k: torch.amin(x, dim=d if d is not None else tuple(range(x.dim())), keepdim=k),
}.items():
    make = distinct if op in ("amax", "amin") else randn
    for variant, dims, keep in [("all", None, False), ("dim1", [1], False), ("dims_0_2_keep", [0, 2], True)]:
        case(f"{op}/{variant}", op, lambda x, d=dims, k=keep, fn=fn: fn(x, d, k), [make(2, 3, 4)], {"dims": dims, "keepdim": keep})

# ---- shapes and indexing
case("reshape/infer", "reshape", lambda x: x.reshape(4, -1), [randn(2, 3, 2)], {"shape": [4, -1]})
case("transpose/3d", "transpose", lambda x: x.transpose(-1, 0), [randn(2, 3, 4)], {"dim0": -1, "dim1": 0})
case("permute/3d", "permute", lambda x: x.permute(2, 0, 1), [randn(2, 3, 4)], {"dims": [2, 0, 1]})
case("squeeze/all", "squeeze", lambda x: x.squeeze(), [randn(1, 3, 1, 2)], {"dim": None})
case("squeeze/one", "squeeze", lambda x: x.squeeze(2), [randn(1, 3, 1, 2)], {"dim": 2})
case("unsqueeze/middle", "unsqueeze", lambda x: x.unsqueeze(1), [randn(3, 2)], {"dim": 1})
case("flatten/from1", "flatten", lambda x: torch.flatten(x, 1), [randn(2, 3, 2, 2)], {"start_dim": 1})
case("cat/dim1_three", "cat", lambda a, b, c: torch.cat([a, b, c], 1), [randn(2, 1), randn(2, 3), randn(2, 2)], {"dim": 1})
case("cat/one_constant", "cat", lambda a, b: torch.cat([a, b], 0), [randn(2, 3), randn(1, 3)], {"dim": 0}, requires_grad=[True, False])
case("slice/step2", "slice", lambda x: x[:, 0::2], [randn(3, 7)], {"dim": 1, "start": 0, "end": None, "step": 2})
case("slice/negative_end", "slice", lambda x: x[:, 1:-1], [randn(2, 6)], {"dim": -1, "start": 1, "end": -1, "step": 1})
case("index_select/repeats", "index_select", lambda x: torch.index_select(x, 1, torch.tensor([3, 3, 0, 1, 3])), [randn(2, 4, 2)],
     {"dim": 1, "index": [3, 3, 0, 1, 3]})

# ---- softmax and the losses
case("softmax/last", "softmax", lambda x: F.softmax(x, -1), [randn(3, 5)], {"dim": -1})
case("softmax/middle", "softmax", lambda x: F.softmax(x, 1), [randn(2, 4, 3)], {"dim": 1})
case("log_softmax/last", "log_softmax", lambda x: F.log_softmax(x, -1), [randn(3, 5)], {"dim": -1})
case("log_softmax/first", "log_softmax", lambda x: F.log_softmax(x, 0), [randn(4, 3)], {"dim": 0})
for variant, target, reduction, smoothing, ignore in [
    ("mean", [2, 0, 4, 1], "mean", 0.0, -100), ("sum_smoothing", [2, 0, 4], "sum", 0.1, -100),
    ("none", [1, 3, 0], "none", 0.0, -100), ("mean_ignore", [2, -100, 1, 0], "mean", 0.0, -100),
    ("mean_ignore_smoothing", [2, 1, 3, 1], "mean", 0.2, 1), ("none_ignore", [2, -100, 1], "none", 0.0, -100),
]:
    case(f"cross_entropy/{variant}", "cross_entropy_index",
         lambda x, t=target, r=reduction, s=smoothing, i=ignore: F.cross_entropy(x, torch.tensor(t), reduction=r, label_smoothing=s, ignore_index=i),
         [randn(len(target), 5)], {"target": target, "reduction": reduction, "label_smoothing": smoothing, "ignore_index": ignore})
for variant, reduction, smoothing, rg in [("mean", "mean", 0.0, [True, False]), ("sum_smoothing", "sum", 0.2, [True, False]),
                                          ("target_grad", "mean", 0.1, [True, True])]:
    case(f"cross_entropy/probabilities_{variant}", "cross_entropy",
         lambda x, q, r=reduction, s=smoothing: F.cross_entropy(x, q, reduction=r, label_smoothing=s),
         [randn(3, 4), torch.softmax(randn(3, 4), 1)], {"reduction": reduction, "label_smoothing": smoothing}, requires_grad=rg)
for variant, target, reduction, ignore in [("mean", [1, 0, 2], "mean", -100), ("sum_ignore", [1, 0, 2, 0], "sum", 0),
                                           ("none", [2, 2, 0], "none", -100)]:
    case(f"nll_loss/{variant}", "nll_loss_index", lambda x, t=target, r=reduction, i=ignore: F.nll_loss(x, torch.tensor(t), reduction=r, ignore_index=i),
         [randn(len(target), 3)], {"target": target, "reduction": reduction, "ignore_index": ignore})
case("nll_loss/of_log_softmax", "nll_loss_of_log_softmax", lambda x: F.nll_loss(F.log_softmax(x, 1), torch.tensor([1, 0, 2])),
     [randn(3, 3)], {"target": [1, 0, 2], "reduction": "mean", "ignore_index": -100})
for reduction in ("mean", "sum", "none"):
    case(f"mse_loss/{reduction}", "mse_loss", lambda x, y, r=reduction: F.mse_loss(x, y, reduction=r), [randn(3, 4), randn(3, 4)], {"reduction": reduction})
    case(f"binary_cross_entropy/{reduction}", "binary_cross_entropy", lambda p, y, r=reduction: F.binary_cross_entropy(p, y, reduction=r),
         [unit(3, 4), unit(3, 4)], {"reduction": reduction})
    case(f"bce_with_logits/{reduction}", "bce_with_logits", lambda x, y, r=reduction: F.binary_cross_entropy_with_logits(x, y, reduction=r),
         [randn(3, 4), unit(3, 4)], {"reduction": reduction})
case("binary_cross_entropy/constant_target", "binary_cross_entropy", lambda p, y: F.binary_cross_entropy(p, y), [unit(6), unit(6)],
     {"reduction": "mean"}, requires_grad=[True, False])
case("binary_cross_entropy/of_sigmoid", "binary_cross_entropy_of_sigmoid", lambda x, y: F.binary_cross_entropy(torch.sigmoid(x), y),
     [randn(3, 4), unit(3, 4)], {"reduction": "mean"})

# ---- dropout, with the mask drawn here (an input that requires no grad)
p = 0.3
case("dropout/0.3", "dropout", lambda x, m: x * m, [randn(4, 5), (torch.rand(4, 5) >= p).float() / (1 - p)], {"p": p},
     requires_grad=[True, False])
case("dropout/then_tanh", "dropout_then_tanh", lambda x, m: torch.tanh(x * m), [randn(4, 5), (torch.rand(4, 5) >= p).float() / (1 - p)],
     {"p": p}, requires_grad=[True, False])

# ---- small networks
case("mlp/tanh_cross_entropy", "mlp_tanh_cross_entropy",
     lambda x, w1, b1, w2, b2: F.cross_entropy(F.linear(torch.tanh(F.linear(x, w1, b1)), w2, b2), torch.tensor([0, 2, 1, 2])),
     [randn(4, 3), randn(5, 3), randn(5), randn(3, 5), randn(3)], {"target": [0, 2, 1, 2]})
case("mlp/relu_mse", "mlp_relu_mse", lambda x, w1, b1, w2, b2, y: F.mse_loss(F.linear(torch.relu(F.linear(x, w1, b1)), w2, b2), y),
     [randn(4, 3), randn(6, 3), randn(6), randn(2, 6), randn(2), randn(4, 2)], requires_grad=[True] * 5 + [False])
case("mlp/gelu_sigmoid_bce", "mlp_gelu_sigmoid_bce",
     lambda x, w1, b1, w2, y: F.binary_cross_entropy(torch.sigmoid(F.linear(F.gelu(F.linear(x, w1, b1)), w2)), y),
     [randn(3, 4), randn(5, 4), randn(5), randn(2, 5), unit(3, 2)], requires_grad=[True, True, True, True, False])

write(os.path.join(HERE, "fixtures", "higher_order.json"), "tests/reference/generate_higher_order.py", cases)
