"""Writes fixtures/nn_ops.json: AutoGrad's neural-network ops computed by PyTorch (values and gradients).

Run by hand (CI never needs Python):
    apt-get install -y python3-torch python3-numpy
    /usr/bin/python3 tests/reference/generate_nn_ops.py
"""
import os

import torch
import torch.nn.functional as F

from fixture_io import away, distinct, pair, randn, run_case, write

torch.manual_seed(4321)
HERE = os.path.dirname(os.path.abspath(__file__))
cases = []


def case(name, op, fn, inputs, attrs=None, requires_grad=None):
    cases.append(run_case(name, op, fn, inputs, requires_grad, attrs, seed=len(cases)))




# ---- conv2d
for variant, x_shape, w_shape, bias, stride, padding, dilation in [
    ("basic", (2, 3, 6, 6), (4, 3, 3, 3), True, 1, 0, 1),
    ("stride2", (2, 3, 7, 6), (4, 3, 3, 3), True, 2, 0, 1),
    ("pad1", (1, 1, 5, 5), (1, 1, 3, 3), True, 1, 1, 1),
    ("pad2_no_bias", (3, 1, 4, 5), (4, 1, 3, 3), False, 1, 2, 1),
    ("stride2_pad1", (2, 3, 7, 7), (4, 3, 3, 3), True, 2, 1, 1),
    ("non_square_3x2", (2, 3, 7, 6), (4, 3, 3, 2), True, 1, 0, 1),
    ("kernel_1x3_asym", (2, 2, 5, 6), (3, 2, 1, 3), True, (1, 2), (0, 1), 1),
    ("dilation2", (1, 3, 7, 7), (2, 3, 3, 3), True, 1, 1, 2),
    ("asym_stride_pad", (2, 1, 6, 7), (4, 1, 3, 2), True, (2, 1), (1, 2), 1),
    ("kernel_1x1", (3, 3, 4, 5), (4, 3, 1, 1), True, 1, 0, 1),
    ("kernel_equals_padded", (2, 1, 3, 3), (2, 1, 5, 5), True, 1, 1, 1),
    ("lenet_conv1", (2, 1, 12, 12), (6, 1, 5, 5), True, 1, 2, 1),
]:
    inputs = [randn(*x_shape), randn(*w_shape)] + ([randn(w_shape[0])] if bias else [])
    attrs = {"stride": pair(stride), "padding": pair(padding), "dilation": pair(dilation)}
    case(f"conv2d/{variant}", "conv2d",
         lambda *a, s=stride, p=padding, d=dilation: F.conv2d(a[0], a[1], a[2] if len(a) > 2 else None, s, p, d),
         inputs, attrs)
case("conv2d/input_constant", "conv2d", lambda x, w, b: F.conv2d(x, w, b, 1, 1), [randn(2, 2, 5, 5), randn(3, 2, 3, 3), randn(3)],
     {"stride": [1, 1], "padding": [1, 1], "dilation": [1, 1]}, requires_grad=[False, True, True])

# ---- pooling
for variant, shape, kernel, stride, padding in [
    ("2x2", (2, 3, 6, 6), 2, 2, 0),
    ("3x3_s2_p1", (2, 2, 7, 7), 3, 2, 1),
    ("3x3_s1", (1, 2, 5, 6), 3, 1, 0),
    ("2x3_s1x2_p1", (2, 1, 5, 7), (2, 3), (1, 2), (1, 1)),
    ("odd_input", (2, 2, 7, 5), 2, 2, 0),
]:
    attrs = {"kernel": pair(kernel), "stride": pair(stride), "padding": pair(padding)}
    case(f"max_pool2d/{variant}", "max_pool2d", lambda x, k=kernel, s=stride, p=padding: F.max_pool2d(x, k, s, p), [distinct(*shape)], attrs)
    case(f"avg_pool2d/{variant}", "avg_pool2d", lambda x, k=kernel, s=stride, p=padding: F.avg_pool2d(x, k, s, p), [randn(*shape)], attrs)
ties = torch.tensor([[1.0, 5.0, 5.0, 2.0], [5.0, 0.0, 3.0, 5.0], [7.0, 7.0, 7.0, 7.0], [7.0, 7.0, 7.0, 7.0]]).reshape(1, 1, 4, 4)
case("max_pool2d/ties", "max_pool2d", lambda x: F.max_pool2d(x, 2, 2, 0), [ties], {"kernel": [2, 2], "stride": [2, 2], "padding": [0, 0]})
case("max_pool2d/ties_overlapping", "max_pool2d", lambda x: F.max_pool2d(x, 3, 1, 1), [ties],
     {"kernel": [3, 3], "stride": [1, 1], "padding": [1, 1]})

# ---- flatten
case("flatten/from1", "flatten", lambda x: torch.flatten(x, 1), [randn(2, 3, 2, 2)], {"start_dim": 1})
case("flatten/from0", "flatten", lambda x: torch.flatten(x, 0), [randn(2, 3, 2)], {"start_dim": 0})
case("flatten/from2", "flatten", lambda x: torch.flatten(x, 2), [randn(2, 3, 2, 2)], {"start_dim": 2})

# ---- softmax family
extreme = torch.tensor([[1000.0, -1000.0, 0.5, 999.0], [-88.0, 100.0, 95.0, 0.0], [0.1, -0.2, 0.3, 1.0]])
for op, fn in (("softmax", F.softmax), ("log_softmax", F.log_softmax)):
    for variant, shape, dim in [("1d", (6,), 0), ("2d_last", (3, 5), -1), ("2d_first", (4, 3), 0), ("3d_middle", (2, 4, 3), 1), ("4d_last", (2, 2, 3, 4), 3)]:
        case(f"{op}/{variant}", op, lambda x, d=dim, fn=fn: fn(x, dim=d), [randn(*shape)], {"dim": dim})
    case(f"{op}/extreme", op, lambda x, fn=fn: fn(x, dim=1), [extreme], {"dim": 1})
    case(f"{op}/extreme_dim0", op, lambda x, fn=fn: fn(x, dim=0), [extreme], {"dim": 0})

# ---- cross-entropy
for reduction in ("mean", "sum", "none"):
    for smoothing in (0.0, 0.1):
        t = [2, 0, 4, 1]
        case(f"cross_entropy/indices_{reduction}_{smoothing}", "cross_entropy",
             lambda x, r=reduction, s=smoothing, t=t: F.cross_entropy(x, torch.tensor(t), reduction=r, label_smoothing=s),
             [randn(4, 5)], {"target": t, "reduction": reduction, "label_smoothing": smoothing})
        q = torch.softmax(randn(4, 5) * 2, dim=1)
        case(f"cross_entropy/probs_{reduction}_{smoothing}", "cross_entropy",
             lambda x, q, r=reduction, s=smoothing: F.cross_entropy(x, q, reduction=r, label_smoothing=s),
             [randn(4, 5), q], {"target": None, "reduction": reduction, "label_smoothing": smoothing}, requires_grad=[True, False])
case("cross_entropy/single_row", "cross_entropy", lambda x: F.cross_entropy(x, torch.tensor([1])), [randn(1, 3)],
     {"target": [1], "reduction": "mean", "label_smoothing": 0.0})
case("cross_entropy/two_classes", "cross_entropy", lambda x: F.cross_entropy(x, torch.tensor([1, 0, 1])), [randn(3, 2)],
     {"target": [1, 0, 1], "reduction": "mean", "label_smoothing": 0.0})
t10 = [3, 9, 0, 7, 7, 1]
case("cross_entropy/ten_classes", "cross_entropy", lambda x: F.cross_entropy(x, torch.tensor(t10)), [randn(6, 10)],
     {"target": t10, "reduction": "mean", "label_smoothing": 0.0})
big = randn(3, 4) * 500
case("cross_entropy/large_logits", "cross_entropy", lambda x: F.cross_entropy(x, torch.tensor([0, 3, 2])), [big],
     {"target": [0, 3, 2], "reduction": "mean", "label_smoothing": 0.0})

# ---- nll
for reduction in ("mean", "sum", "none"):
    logp = F.log_softmax(randn(4, 3), dim=1)
    case(f"nll_loss/{reduction}", "nll_loss", lambda x, r=reduction: F.nll_loss(x, torch.tensor([2, 0, 1, 1]), reduction=r), [logp],
         {"target": [2, 0, 1, 1], "reduction": reduction})

# ---- mse
for reduction in ("mean", "sum", "none"):
    case(f"mse_loss/{reduction}", "mse_loss", lambda x, y, r=reduction: F.mse_loss(x, y, reduction=r), [randn(3, 4), randn(3, 4)], {"reduction": reduction})
case("mse_loss/target_constant_1d", "mse_loss", lambda x, y: F.mse_loss(x, y), [randn(7), randn(7)], {"reduction": "mean"}, requires_grad=[True, False])

# ---- binary cross-entropy
for reduction in ("mean", "sum", "none"):
    p = torch.rand(3, 4) * 0.98 + 0.01
    y = torch.rand(3, 4)
    y[0] = torch.tensor([0.0, 1.0, 1.0, 0.0])
    case(f"binary_cross_entropy/{reduction}", "binary_cross_entropy", lambda p, y, r=reduction: F.binary_cross_entropy(p, y, reduction=r),
         [p, y], {"reduction": reduction}, requires_grad=[True, False])
    x = randn(3, 4) * 3
    case(f"bce_with_logits/{reduction}", "bce_with_logits", lambda x, y, r=reduction: F.binary_cross_entropy_with_logits(x, y, reduction=r),
         [x, y], {"reduction": reduction}, requires_grad=[True, False])
edges = torch.tensor([0.0, 1.0, 0.0, 1.0, 0.5, 1e-30])
case("binary_cross_entropy/exact_0_and_1", "binary_cross_entropy", lambda p, y: F.binary_cross_entropy(p, y, reduction="none"),
     [edges, torch.tensor([0.0, 1.0, 1.0, 0.0, 0.3, 1.0])], {"reduction": "none"}, requires_grad=[True, False])
huge = torch.tensor([-1000.0, -100.0, -20.0, 0.0, 20.0, 100.0, 1000.0])
case("bce_with_logits/huge", "bce_with_logits", lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction="none"),
     [huge, torch.tensor([1.0, 0.0, 1.0, 0.5, 0.0, 1.0, 0.0])], {"reduction": "none"}, requires_grad=[True, False])
case("bce_with_logits/target_grad", "bce_with_logits", lambda x, y: F.binary_cross_entropy_with_logits(x, y),
     [randn(5), torch.rand(5)], {"reduction": "mean"})

# ---- activations
for slope in (0.01, 0.2):
    case(f"leaky_relu/{slope}", "leaky_relu", lambda x, s=slope: F.leaky_relu(x, s), [away(3, 5)], {"slope": slope})
wide = torch.linspace(-10, 10, 41)
for approximate in ("none", "tanh"):
    case(f"gelu/{approximate}", "gelu", lambda x, a=approximate: F.gelu(x, approximate=a), [randn(3, 5)], {"approximate": approximate})
    case(f"gelu/{approximate}_wide", "gelu", lambda x, a=approximate: F.gelu(x, approximate=a), [wide], {"approximate": approximate})
for beta, threshold in ((1.0, 20.0), (2.0, 20.0), (0.5, 5.0)):
    x = torch.cat([randn(8) * 3, torch.tensor([threshold / beta - 0.5, threshold / beta + 0.5, 30.0, -30.0])])
    case(f"softplus/{beta}_{threshold}", "softplus", lambda x, b=beta, t=threshold: F.softplus(x, b, t), [x], {"beta": beta, "threshold": threshold})
for alpha in (1.0, 0.5):
    case(f"elu/{alpha}", "elu", lambda x, a=alpha: F.elu(x, a), [away(3, 5)], {"alpha": alpha})
case("identity/basic", "identity", lambda x: x * 1, [randn(2, 3)])

write(os.path.join(HERE, "fixtures", "nn_ops.json"), "tests/reference/generate_nn_ops.py", cases)
