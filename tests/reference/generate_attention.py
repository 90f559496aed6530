"""Writes fixtures/attention.json: scaled dot-product attention (torch 1.13 has no F.scaled_dot_product_attention, so
its definition softmax(q k^T / sqrt(E) + mask) v is written out, with a causal and an additive mask) and
multi-head attention through torch.nn.functional.multi_head_attention_forward (values and gradients of the inputs
and of every parameter).

Run by hand (CI never needs Python):
    apt-get install -y python3-torch python3-numpy
    /usr/bin/python3 tests/reference/generate_attention.py
"""
import math
import os

import torch
import torch.nn.functional as F

from fixture_io import run_case, write

torch.manual_seed(97531)
HERE = os.path.dirname(os.path.abspath(__file__))
cases = []


def case(name, op, fn, inputs, attrs=None, requires_grad=None):
    cases.append(run_case(name, op, fn, inputs, requires_grad, attrs, seed=len(cases)))


def sdpa(q, k, v, mask=None, causal=False):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if causal:
        scores = scores.masked_fill(torch.ones(q.shape[-2], k.shape[-2]).triu(1) != 0, float("-inf"))
    if mask is not None:
        scores = scores + mask
    return torch.softmax(scores, -1) @ v


case("sdpa/plain", "sdpa", lambda q, k, v: sdpa(q, k, v), [torch.randn(2, 3, 4, 8), torch.randn(2, 3, 5, 8), torch.randn(2, 3, 5, 6)])
case("sdpa/causal", "sdpa_causal", lambda q, k, v: sdpa(q, k, v, causal=True), [torch.randn(2, 5, 4), torch.randn(2, 5, 4), torch.randn(2, 5, 4)])
additive = torch.randn(4, 5)
additive[1, 2] = float("-inf")
case("sdpa/additive_mask", "sdpa_mask", lambda q, k, v, m: sdpa(q, k, v, m), [torch.randn(3, 4, 8), torch.randn(3, 5, 8), torch.randn(3, 5, 2), additive],
     {}, [True, True, True, False])


def mha(q, k, v, w_in, b_in, w_out, b_out, heads, padding=None, mask=None, weights=False):
    out, attn = F.multi_head_attention_forward(q, k, v, q.shape[-1], heads, w_in, b_in, None, None, False, 0.0, w_out, b_out,
                                               training=True, key_padding_mask=padding, need_weights=True, attn_mask=mask)
    return attn if weights else out


E, H = 8, 2
params = lambda: [torch.randn(3 * E, E) * 0.3, torch.randn(3 * E) * 0.1, torch.randn(E, E) * 0.3, torch.randn(E) * 0.1]
case("mha/self", "mha", lambda x, a, b, c, d: mha(x, x, x, a, b, c, d, H), [torch.randn(4, 3, E)] + params(), {"heads": H})
case("mha/cross", "mha_cross", lambda q, kv, a, b, c, d: mha(q, kv, kv, a, b, c, d, H), [torch.randn(4, 2, E), torch.randn(6, 2, E)] + params(), {"heads": H})
padding = torch.tensor([[0., 0., 1., 0., 1., 0.], [0., 0., 0., 0., 0., 1.]])
case("mha/key_padding", "mha_padding", lambda q, kv, m, a, b, c, d: mha(q, kv, kv, a, b, c, d, H, padding=m != 0),
     [torch.randn(4, 2, E), torch.randn(6, 2, E), padding] + params(), {"heads": H}, [True, True, False, True, True, True, True])
causal = torch.ones(4, 4).triu(1) * float("-inf")
causal = torch.nan_to_num(causal, nan=0.0)
case("mha/attn_mask_weights", "mha_mask_weights", lambda x, m, a, b, c, d: mha(x, x, x, a, b, c, d, 4, mask=m, weights=True),
     [torch.randn(4, 3, E), causal] + params(), {"heads": 4}, [True, False, True, True, True, True])

write(os.path.join(HERE, "fixtures", "attention.json"), "generate_attention.py", cases)
