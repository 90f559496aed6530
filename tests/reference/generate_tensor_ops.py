"""Writes fixtures/tensor_ops.json: the tensor ops of FTensorOps.cs computed by PyTorch (values and gradients).
Indices are stored as float32 (AutoGrad's tensors are float32); masks as 0/1.

Run by hand (CI never needs Python):
    apt-get install -y python3-torch python3-numpy
    /usr/bin/python3 tests/reference/generate_tensor_ops.py
"""
import os

import torch

from fixture_io import run_case, write

torch.manual_seed(4321)
HERE = os.path.dirname(os.path.abspath(__file__))
cases = []


def case(name, op, fn, inputs, attrs=None, requires_grad=None):
    cases.append(run_case(name, op, fn, inputs, requires_grad, attrs, seed=len(cases)))


def distinct(*shape):
    n = 1
    for s in shape:
        n *= s
    return (torch.randperm(n).float() - n // 2).mul(0.1).reshape(shape)


def f(t):
    return t.to(torch.float32)


# arg-extrema (no gradient)
x = distinct(3, 4, 5)
for dim in [0, 1, 2, -1]:
    for keep in [False, True]:
        case(f"argmax/dim{dim}_keep{int(keep)}", "argmax", lambda a, d=dim, k=keep: f(a.argmax(d, keepdim=k)), [x], {"dim": dim, "keepdim": keep}, [False])
        case(f"argmin/dim{dim}_keep{int(keep)}", "argmin", lambda a, d=dim, k=keep: f(a.argmin(d, keepdim=k)), [x], {"dim": dim, "keepdim": keep}, [False])
case("argmax/flat", "argmax", lambda a: f(a.argmax()), [x], {}, [False])
case("argmin/flat", "argmin", lambda a: f(a.argmin()), [x], {}, [False])
case("argmax/ties_first", "argmax", lambda a: f(a.argmax(1)), [torch.tensor([[1., 3., 3.], [2., 2., 0.]])], {"dim": 1}, [False])
case("argmax/nan", "argmax", lambda a: f(a.argmax(1)), [torch.tensor([[1., float("nan"), 3.], [2., 5., 0.]])], {"dim": 1}, [False])
case("argmin/nan", "argmin", lambda a: f(a.argmin(1)), [torch.tensor([[1., float("nan"), 3.], [2., 5., 0.]])], {"dim": 1}, [False])

# top-k: values (differentiable) and indices
for dim, k, largest in [(-1, 3, True), (1, 2, False), (0, 1, True), (2, 5, False)]:
    case(f"topk_values/dim{dim}_k{k}_l{int(largest)}", "topk_values", lambda a, d=dim, kk=k, l=largest: torch.topk(a, kk, d, l).values, [distinct(3, 4, 5)],
         {"dim": dim, "k": k, "largest": largest})
    case(f"topk_indices/dim{dim}_k{k}_l{int(largest)}", "topk_indices", lambda a, d=dim, kk=k, l=largest: f(torch.topk(a, kk, d, l).indices), [distinct(3, 4, 5)],
         {"dim": dim, "k": k, "largest": largest}, [False])

# comparisons (masks)
a = torch.tensor([[1., 2., float("nan")], [0., -1., 2.]])
b = torch.tensor([2., 2., float("nan")])
for op, fn in [("eq", torch.eq), ("ne", torch.ne), ("lt", torch.lt), ("le", torch.le), ("gt", torch.gt), ("ge", torch.ge)]:
    case(f"{op}/broadcast_nan", op, lambda p, q, g=fn: f(g(p, q)), [a, b], {}, [False, False])

# where, masked_fill
cond = (torch.rand(3, 4) > 0.5).float()
case("where/same", "where", lambda c, p, q: torch.where(c != 0, p, q), [cond, torch.randn(3, 4), torch.randn(3, 4)], {}, [False, True, True])
case("where/broadcast", "where", lambda c, p, q: torch.where(c != 0, p, q), [(torch.rand(3, 1) > 0.5).float(), torch.randn(1, 4), torch.randn(3, 4)], {},
     [False, True, True])
case("masked_fill/broadcast", "masked_fill", lambda p, m: p.masked_fill(m != 0, -2.5), [torch.randn(3, 4), (torch.rand(4) > 0.5).float()], {"value": -2.5},
     [True, False])
case("masked_fill/inf", "masked_fill", lambda p, m: p.masked_fill(m != 0, float("-inf")), [torch.randn(2, 3), torch.tensor([[0., 1., 1.], [0., 0., 1.]])],
     {"value": "-Infinity"}, [True, False])

# gather, scatter_add (repeats in the index add up)
for dim in [0, 1, 2]:
    x = torch.randn(3, 4, 5)
    shape = [3, 4, 5]
    shape[dim] = 6
    shape = [min(s, t) if i != dim else s for i, (s, t) in enumerate(zip(shape, [2, 3, 4]))]
    index = torch.randint(0, x.shape[dim], shape)
    case(f"gather/dim{dim}", "gather", lambda p, i, d=dim: p.gather(d, i.long()), [x, f(index)], {"dim": dim}, [True, False])
    src = torch.randn(shape)
    case(f"scatter_add/dim{dim}", "scatter_add", lambda p, i, s, d=dim: p.scatter_add(d, i.long(), s), [x, f(index), src], {"dim": dim}, [True, False, True])

# stack, split, chunk
case("stack/dim0", "stack", lambda p, q, r: torch.stack([p, q, r], 0), [torch.randn(2, 3), torch.randn(2, 3), torch.randn(2, 3)], {"dim": 0})
case("stack/dim_last", "stack", lambda p, q: torch.stack([p, q], -1), [torch.randn(2, 3), torch.randn(2, 3)], {"dim": -1})
for size in [2, 3, 5]:
    case(f"split/size{size}", "split_cat", lambda p, s=size: torch.cat([t * (j + 1) for j, t in enumerate(torch.split(p, s, 1))], 1), [torch.randn(2, 7)],
         {"size": size, "dim": 1})
for chunks in [2, 3, 4]:
    case(f"chunk/{chunks}", "chunk_cat", lambda p, n=chunks: torch.cat([t * (j + 1) for j, t in enumerate(torch.chunk(p, n, 0))], 0), [torch.randn(7, 2)],
         {"chunks": chunks, "dim": 0})

# expand, repeat
case("expand/stretch", "expand", lambda p: p.expand(2, 3, 4), [torch.randn(3, 1)], {"shape": [2, 3, 4]})
case("expand/minus_one", "expand", lambda p: p.expand(4, -1), [torch.randn(1, 3)], {"shape": [4, -1]})
case("repeat/2d", "repeat", lambda p: p.repeat(2, 3), [torch.randn(2, 3)], {"repeats": [2, 3]})
case("repeat/new_dims", "repeat", lambda p: p.repeat(2, 1, 2), [torch.randn(3, 2)], {"repeats": [2, 1, 2]})

# tril, triu, cumsum
for diag in [-1, 0, 2]:
    case(f"tril/{diag}", "tril", lambda p, d=diag: p.tril(d), [torch.randn(2, 4, 5)], {"diagonal": diag})
    case(f"triu/{diag}", "triu", lambda p, d=diag: p.triu(d), [torch.randn(4, 5)], {"diagonal": diag})
for dim in [0, 1, -1]:
    case(f"cumsum/dim{dim}", "cumsum", lambda p, d=dim: p.cumsum(d), [torch.randn(3, 4, 2)], {"dim": dim})

write(os.path.join(HERE, "fixtures", "tensor_ops.json"), "generate_tensor_ops.py", cases)
