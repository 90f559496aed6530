"""Writes fixtures/conv_higher_order.json: conv_transpose2d (values and first-order gradients) and Hessian-vector
products of conv2d, conv_transpose2d, max_pool2d and avg_pool2d, computed by PyTorch.

"cases" has fixture_io's format (read by ParityFixture). Each of "hvp_cases" holds the inputs, an output weight u and
one direction per input v_i: with L = sum(f(inputs) * u) and g = dL/d(inputs) (create_graph=True), "hvp" is
d/d(inputs) sum_i <g_i, v_i>, the Hessian of L times v (zero where an input's second derivative is).

Run by hand (CI never needs Python):
    apt-get install -y python3-torch python3-numpy
    /usr/bin/python3 tests/reference/generate_conv_higher_order.py
"""
import json
import os

import torch
import torch.nn.functional as F

from fixture_io import distinct, pair, randn, run_case, tensor_json, write

torch.manual_seed(1717)
HERE = os.path.dirname(os.path.abspath(__file__))
cases = []
hvp_cases = []


def hvp_case(name, op, fn, inputs, attrs):
    leaves = [x.detach().clone().to(torch.float32).requires_grad_(True) for x in inputs]
    out = fn(*leaves)
    u = torch.randn(out.shape)
    v = [torch.randn(x.shape) for x in leaves]
    grads = torch.autograd.grad(out, leaves, grad_outputs=u, create_graph=True)
    used = [(g, d) for g, d in zip(grads, v) if g.requires_grad]
    hvp = [None] * len(leaves)
    if used:
        second = torch.autograd.grad([g for g, _ in used], leaves, grad_outputs=[d for _, d in used], allow_unused=True)
        hvp = list(second)
    hvp_cases.append({
        "name": name,
        "op": op,
        "attrs": attrs,
        "inputs": [tensor_json(x) for x in leaves],
        "output": tensor_json(out),
        "u": tensor_json(u),
        "v": [tensor_json(d) for d in v],
        "hvp": [tensor_json(h if h is not None else torch.zeros_like(x)) for h, x in zip(hvp, leaves)],
    })


def conv_transpose(stride, padding, output_padding, groups, dilation):
    return lambda x, w, b=None: F.conv_transpose2d(x, w, b, stride, padding, output_padding, groups, dilation)


# ---- conv_transpose2d: values and first-order gradients (batch 10 spans two groups of samples)
TRANSPOSED = [
    ("basic", (2, 3, 4, 4), (3, 2, 3, 3), True, 1, 0, 0, 1, 1),
    ("stride2_pad1_out_pad1", (2, 4, 3, 5), (4, 3, 3, 3), True, 2, 1, 1, 1, 1),
    ("stride3_no_bias", (1, 2, 3, 3), (2, 2, 2, 2), False, 3, 0, 2, 1, 1),
    ("dilation2_pad2", (2, 2, 5, 4), (2, 3, 3, 2), True, 1, 2, 0, 1, 2),
    ("groups2", (2, 4, 3, 3), (4, 3, 3, 3), True, 2, 1, 0, 2, 1),
    ("asymmetric", (2, 3, 4, 5), (3, 2, 3, 2), True, (2, 1), (1, 0), (1, 0), 1, (1, 2)),
    ("batch10", (10, 3, 4, 4), (3, 4, 3, 3), True, 1, 1, 0, 1, 1),
    ("decoder_up2", (3, 8, 4, 4), (8, 4, 4, 4), True, 2, 1, 0, 1, 1),
]
def transposed_case(x_shape, w_shape, bias, stride, padding, output_padding, groups, dilation):
    """Inputs and attributes of a conv_transpose2d case."""
    inputs = [randn(*x_shape), randn(*w_shape)] + ([randn(w_shape[1] * groups)] if bias else [])
    attrs = {"stride": pair(stride), "padding": pair(padding), "output_padding": pair(output_padding), "groups": groups,
             "dilation": pair(dilation)}
    return inputs, attrs


for variant, x_shape, w_shape, bias, stride, padding, output_padding, groups, dilation in TRANSPOSED:
    inputs, attrs = transposed_case(x_shape, w_shape, bias, stride, padding, output_padding, groups, dilation)
    cases.append(run_case(f"conv_transpose2d/{variant}", "conv_transpose2d",
                          conv_transpose(stride, padding, output_padding, groups, dilation), inputs, attrs=attrs, seed=len(cases)))

# ---- Hessian-vector products
for variant, x_shape, w_shape, bias, stride, padding, dilation in [
    ("basic", (2, 2, 5, 5), (3, 2, 3, 3), True, 1, 0, 1),
    ("stride2_pad1", (2, 3, 6, 5), (2, 3, 3, 3), True, 2, 1, 1),
    ("dilation2_no_bias", (1, 2, 6, 6), (2, 2, 3, 2), False, (1, 1), (2, 1), 2),
    ("batch10", (10, 2, 5, 5), (3, 2, 3, 3), True, 1, 1, 1),
]:
    inputs = [randn(*x_shape), randn(*w_shape)] + ([randn(w_shape[0])] if bias else [])
    attrs = {"stride": pair(stride), "padding": pair(padding), "dilation": pair(dilation)}
    hvp_case(f"conv2d/{variant}", "conv2d", lambda x, w, b=None, s=stride, p=padding, d=dilation: F.conv2d(x, w, b, s, p, d), inputs, attrs)

# conv2d, ReLU and 2x2 max pooling (one fused node in AutoGrad where it applies), then tanh for a curved loss
hvp_case("conv2d/relu_max_pool2d_tanh", "conv2d_relu_max_pool2d_tanh",
         lambda x, w, b: torch.tanh(F.max_pool2d(F.relu(F.conv2d(x, w, b, 1, 1)), 2)),
         [randn(2, 2, 6, 6), randn(4, 2, 3, 3), randn(4)], {})

for variant, x_shape, w_shape, bias, stride, padding, output_padding, groups, dilation in TRANSPOSED[:6]:
    inputs, attrs = transposed_case(x_shape, w_shape, bias, stride, padding, output_padding, groups, dilation)
    hvp_case(f"conv_transpose2d/{variant}", "conv_transpose2d", conv_transpose(stride, padding, output_padding, groups, dilation), inputs, attrs)

for variant, shape, kernel, stride, padding in [
    ("2x2", (2, 3, 4, 6), 2, 2, 0),
    ("3x3_s2_p1", (2, 2, 5, 5), 3, 2, 1),
    ("non_square", (1, 2, 4, 7), (2, 3), (1, 2), (1, 1)),
]:
    attrs = {"kernel": pair(kernel), "stride": pair(stride), "padding": pair(padding)}
    # pooling is piecewise linear: its Hessian is zero alone, so each case also pools tanh(x) (routing the curvature)
    hvp_case(f"max_pool2d/{variant}", "max_pool2d", lambda x, k=kernel, s=stride, p=padding: F.max_pool2d(x, k, s, p), [distinct(*shape)], attrs)
    hvp_case(f"max_pool2d/{variant}_of_tanh", "max_pool2d_of_tanh",
             lambda x, k=kernel, s=stride, p=padding: F.max_pool2d(torch.tanh(x), k, s, p), [distinct(*shape)], attrs)
    hvp_case(f"avg_pool2d/{variant}", "avg_pool2d", lambda x, k=kernel, s=stride, p=padding: F.avg_pool2d(x, k, s, p), [randn(*shape)], attrs)
    hvp_case(f"avg_pool2d/{variant}_squared", "avg_pool2d_squared",
             lambda x, k=kernel, s=stride, p=padding: F.avg_pool2d(x, k, s, p) ** 2, [randn(*shape)], attrs)
# ReLU before max pooling (one node in a Sequential): the curvature comes from the square after it
hvp_case("max_pool2d/after_relu_2x2_squared", "max_pool2d_after_relu_squared",
         lambda x: F.max_pool2d(F.relu(x + 0.05), 2) ** 2, [distinct(2, 3, 4, 6)], {"kernel": [2, 2], "stride": [2, 2], "padding": [0, 0]})

path = os.path.join(HERE, "fixtures", "conv_higher_order.json")
write(path, "generate_conv_higher_order.py", cases)
with open(path) as f:
    document = json.load(f)
document["hvp_cases"] = hvp_cases
with open(path, "w") as f:
    json.dump(document, f, separators=(",", ":"))
print(f"added {len(hvp_cases)} Hessian-vector cases")
