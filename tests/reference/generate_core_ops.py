"""Writes fixtures/core_ops.json: every core op of AutoGrad computed by PyTorch (values and gradients).

Run by hand (CI never needs Python):
    apt-get install -y python3-torch python3-numpy
    /usr/bin/python3 tests/reference/generate_core_ops.py
"""
import os

import torch

from fixture_io import away, away_from, distinct, positive, randn, run_case, write

torch.manual_seed(1234)
HERE = os.path.dirname(os.path.abspath(__file__))


cases = []


def case(name, op, fn, inputs, attrs=None, requires_grad=None):
    cases.append(run_case(name, op, fn, inputs, requires_grad, attrs, seed=len(cases)))


# ---- binary arithmetic with broadcasting
binary = {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div}
shapes = [
    ("same", (2, 3), (2, 3)),
    ("row", (2, 3), (3,)),
    ("column_by_row", (4, 1), (1, 5)),
    ("scalar_tensor", (), (2, 3)),
    ("rank3_with_rank2", (2, 1, 3), (4, 1)),
    ("rank4", (2, 1, 3, 1), (1, 4, 1, 5)),
    ("size1_both", (1, 3, 1), (2, 1, 4)),
]
for op, fn in binary.items():
    for variant, sa, sb in shapes:
        b = away(*sb, margin=0.5) if op == "div" else randn(*sb)
        case(f"{op}/{variant}", op, fn, [randn(*sa), b])
    b = away(3, margin=0.5) if op == "div" else randn(3)
    case(f"{op}/second_constant", op, fn, [randn(2, 3), b], requires_grad=[True, False])
    case(f"{op}/first_constant", op, fn, [randn(2, 3), b], requires_grad=[False, True])

case("mul_self/matrix", "mul_self", lambda x: x * x, [randn(3, 4)])
case("mul_self/scalar", "mul_self", lambda x: x * x, [randn()])

# ---- scalar arithmetic
for s in (2.5, -0.75):
    case(f"add_scalar/{s}", "add_scalar", lambda x, s=s: x + s, [randn(2, 3)], {"scalar": s})
    case(f"sub_scalar/{s}", "sub_scalar", lambda x, s=s: x - s, [randn(2, 3)], {"scalar": s})
    case(f"mul_scalar/{s}", "mul_scalar", lambda x, s=s: x * s, [randn(2, 3)], {"scalar": s})
    case(f"div_scalar/{s}", "div_scalar", lambda x, s=s: x / s, [randn(2, 3)], {"scalar": s})
    case(f"rsub_scalar/{s}", "rsub_scalar", lambda x, s=s: s - x, [randn(2, 3)], {"scalar": s})
    case(f"rdiv_scalar/{s}", "rdiv_scalar", lambda x, s=s: s / x, [away(2, 3, margin=0.5)], {"scalar": s})

# ---- unary functions
unary = {
    "neg": (torch.neg, randn),
    "exp": (torch.exp, randn),
    "log": (torch.log, positive),
    "sqrt": (torch.sqrt, positive),
    "abs": (torch.abs, away),
    "relu": (torch.relu, away),
    "tanh": (torch.tanh, randn),
    "sigmoid": (torch.sigmoid, randn),
}
for op, (fn, make) in unary.items():
    for shape in [(7,), (3, 4), (2, 3, 4), ()]:
        case(f"{op}/{'x'.join(map(str, shape)) or 'scalar'}", op, fn, [make(*shape)])
large = torch.tensor([-1000.0, -100.0, -30.0, -10.0, -0.5, 0.0, 0.5, 10.0, 30.0, 100.0, 1000.0])
case("sigmoid/large", "sigmoid", torch.sigmoid, [large])
case("tanh/large", "tanh", torch.tanh, [large])
case("exp/moderate_large", "exp", torch.exp, [torch.tensor([-50.0, -20.0, 20.0, 40.0, 80.0])])

for p in (2.0, 3.0, 0.5, -1.5, 0.0, 1.0):
    base = positive(3, 4, low=0.2) if p != int(p) or p < 0 else randn(3, 4)
    case(f"pow/{p}", "pow", lambda x, p=p: torch.pow(x, p), [base], {"exponent": p})

for variant, lo, hi in [("both", -0.5, 0.5), ("min", 0.2, None), ("max", None, -0.1)]:
    x = away_from([v for v in (lo, hi) if v is not None], 4, 5)
    case(f"clamp/{variant}", "clamp", lambda x, lo=lo, hi=hi: torch.clamp(x, lo, hi), [x], {"min": lo, "max": hi})

# ---- matrix products
for variant, sa, sb in [
    ("2d", (3, 4), (4, 5)),
    ("batch_times_matrix", (2, 3, 4), (4, 5)),
    ("matrix_times_batch", (3, 4), (2, 4, 5)),
    ("broadcast_batch", (2, 3, 4), (1, 4, 5)),
    ("rank4_broadcast", (2, 1, 3, 4), (3, 4, 2)),
    ("matrix_vector", (3, 4), (4,)),
    ("vector_matrix", (4,), (4, 5)),
    ("dot", (4,), (4,)),
    ("batch_vector", (2, 3, 4), (4,)),
    ("odd_17x33x19", (17, 33), (33, 19)),
    ("blocked_64x70x40", (64, 70), (70, 40)),
    ("batched_3x10x130x9", (3, 10, 130), (130, 9)),
]:
    case(f"matmul/{variant}", "matmul", torch.matmul, [randn(*sa), randn(*sb)])

# ---- reductions
reductions = {
    "sum": lambda x, dims, keep: torch.sum(x, dim=dims, keepdim=keep) if dims is not None else (torch.sum(x).reshape([1] * x.dim()) if keep else torch.sum(x)),
    "mean": lambda x, dims, keep: torch.mean(x, dim=dims, keepdim=keep) if dims is not None else (torch.mean(x).reshape([1] * x.dim()) if keep else torch.mean(x)),
    "amax": lambda x, dims, keep: torch.amax(x, dim=dims if dims is not None else tuple(range(x.dim())), keepdim=keep),
    "amin": lambda x, dims, keep: torch.amin(x, dim=dims if dims is not None else tuple(range(x.dim())), keepdim=keep),
}
for op, fn in reductions.items():
    make = distinct if op in ("amax", "amin") else randn
    for variant, shape, dims, keep in [
        ("all", (2, 3, 4), None, False),
        ("all_keep", (2, 3, 4), None, True),
        ("dim1", (2, 3, 4), [1], False),
        ("dim_neg_keep", (2, 3, 4), [-1], True),
        ("dims_0_2", (2, 3, 4), [0, 2], False),
        ("dims_1_3_keep", (2, 3, 4, 5), [1, 3], True),
        ("size1_dim", (3, 1, 4), [1], False),
        ("rank0", (), None, False),
        ("long_row", (3, 70), [1], False),
    ]:
        case(f"{op}/{variant}", op, lambda x, dims=dims, keep=keep, fn=fn: fn(x, dims, keep), [make(*shape)], {"dims": dims, "keepdim": keep})
ties = torch.tensor([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0], [-1.0, 5.0, -1.0, 5.0]])
for op in ("amax", "amin"):
    case(f"{op}/ties_dim1", op, lambda x, op=op: reductions[op](x, [1], False), [ties], {"dims": [1], "keepdim": False})
    case(f"{op}/ties_all", op, lambda x, op=op: reductions[op](x, None, False), [ties], {"dims": None, "keepdim": False})

# ---- shapes and indexing
case("reshape/infer", "reshape", lambda x: x.reshape(4, -1), [randn(2, 3, 2)], {"shape": [4, -1]})
case("reshape/to_rank0", "reshape", lambda x: x.reshape([]), [randn(1)], {"shape": []})
case("reshape/rank4", "reshape", lambda x: x.reshape(2, 1, 3, 2), [randn(12)], {"shape": [2, 1, 3, 2]})
case("transpose/2d", "transpose", lambda x: x.transpose(0, 1), [randn(3, 5)], {"dim0": 0, "dim1": 1})
case("transpose/3d_negative", "transpose", lambda x: x.transpose(-1, 0), [randn(2, 3, 4)], {"dim0": -1, "dim1": 0})
case("permute/3d", "permute", lambda x: x.permute(2, 0, 1), [randn(2, 3, 4)], {"dims": [2, 0, 1]})
case("permute/4d", "permute", lambda x: x.permute(1, 3, 0, 2), [randn(2, 3, 4, 5)], {"dims": [1, 3, 0, 2]})
case("squeeze/all", "squeeze", lambda x: x.squeeze(), [randn(1, 3, 1, 2)], {"dim": None})
case("squeeze/one", "squeeze", lambda x: x.squeeze(2), [randn(1, 3, 1, 2)], {"dim": 2})
case("squeeze/not_size1", "squeeze", lambda x: x.squeeze(1), [randn(1, 3, 1, 2)], {"dim": 1})
case("unsqueeze/front", "unsqueeze", lambda x: x.unsqueeze(0), [randn(3, 2)], {"dim": 0})
case("unsqueeze/end", "unsqueeze", lambda x: x.unsqueeze(2), [randn(3, 2)], {"dim": 2})
case("unsqueeze/negative", "unsqueeze", lambda x: x.unsqueeze(-2), [randn(3, 2)], {"dim": -2})
case("cat/dim0_two", "cat", lambda a, b: torch.cat([a, b], 0), [randn(2, 3), randn(4, 3)], {"dim": 0})
case("cat/dim1_three", "cat", lambda a, b, c: torch.cat([a, b, c], 1), [randn(2, 1), randn(2, 3), randn(2, 2)], {"dim": 1})
case("cat/last_rank3", "cat", lambda a, b: torch.cat([a, b], -1), [randn(2, 3, 1), randn(2, 3, 4)], {"dim": -1})
case("cat/one_constant", "cat", lambda a, b: torch.cat([a, b], 0), [randn(2, 3), randn(1, 3)], {"dim": 0}, requires_grad=[True, False])
for variant, dim, start, end, step, shape in [
    ("step1", 1, 1, 4, 1, (3, 6)),
    ("step2", 1, 0, None, 2, (3, 7)),
    ("step3_dim0", 0, 1, 8, 3, (9, 2)),
    ("negative_start", 0, -3, None, 1, (5, 2)),
    ("negative_end", -1, 1, -1, 1, (2, 6)),
    ("end_beyond", 1, 2, 100, 1, (2, 5)),
    ("empty", 1, 4, 2, 1, (2, 5)),
]:
    case(f"slice/{variant}", "slice", lambda x, d=dim, s=start, e=end, st=step: x[(slice(None),) * (d % x.dim()) + (slice(s, e, st),)],
         [randn(*shape)], {"dim": dim, "start": start, "end": end, "step": step})
case("index_select/dim0", "index_select", lambda x: torch.index_select(x, 0, torch.tensor([2, 0, 2])), [randn(4, 3)], {"dim": 0, "index": [2, 0, 2]})
case("index_select/dim1_repeats", "index_select", lambda x: torch.index_select(x, 1, torch.tensor([3, 3, 0, 1, 3])), [randn(2, 4, 2)], {"dim": 1, "index": [3, 3, 0, 1, 3]})

write(os.path.join(HERE, "fixtures", "core_ops.json"), "tests/reference/generate_core_ops.py", cases)
