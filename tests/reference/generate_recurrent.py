"""Writes fixtures/recurrent.json: PyTorch's RNN (tanh, relu), LSTM and GRU (one and two layers, batch_first, initial
states, no bias); the fixture holds the module's parameters as inputs and the gradients of the input, of the initial
states and of every weight (read from the module itself: functional_call does not reach an RNN's flattened weights). Output: the sequence plus the final
states folded in (sum of the outputs and each state times a fixed random tensor), so every returned tensor is checked.

Run by hand (CI never needs Python):
    apt-get install -y python3-torch python3-numpy
    /usr/bin/python3 tests/reference/generate_recurrent.py
"""
import os

import torch
from fixture_io import tensor_json, write

torch.manual_seed(8642)
HERE = os.path.dirname(os.path.abspath(__file__))
cases = []


def recurrent(kind, input_size, hidden, layers, bias, batch_first, nonlinearity="tanh"):
    if kind == "rnn":
        return torch.nn.RNN(input_size, hidden, layers, nonlinearity=nonlinearity, bias=bias, batch_first=batch_first)
    return {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind](input_size, hidden, layers, bias=bias, batch_first=batch_first)


def add(name, kind, input_size=3, hidden=4, layers=1, bias=True, batch_first=False, initial=False, nonlinearity="tanh", steps=5, batch=2):
    module = recurrent(kind, input_size, hidden, layers, bias, batch_first, nonlinearity)
    names = [n for n, _ in module.named_parameters()]
    x = torch.randn((batch, steps, input_size) if batch_first else (steps, batch, input_size))
    states = [torch.randn(layers, batch, hidden) for _ in range(2 if kind == "lstm" else 1)] if initial else []
    fold = [torch.randn(layers, batch, hidden) for _ in range(2 if kind == "lstm" else 1)]

    leaves = [x.clone().requires_grad_(True)] + [st.clone().requires_grad_(True) for st in states]
    init = None if not states else ((leaves[1], leaves[2]) if kind == "lstm" else leaves[1])
    out, final = module(leaves[0], init)
    final = final if isinstance(final, tuple) else (final,)
    result = out + sum((f * w).sum() for f, w in zip(final, fold)) / out.numel()
    grad_output = torch.randn(result.shape, generator=torch.Generator().manual_seed(len(cases) + 7919))
    result.backward(grad_output)
    params = [p for _, p in module.named_parameters()]
    cases.append({
        "name": name, "op": "recurrent",
        "attrs": {"kind": kind, "input_size": input_size, "hidden": hidden, "layers": layers, "bias": bias, "batch_first": batch_first,
                  "initial": initial, "nonlinearity": nonlinearity, "names": names, "fold": [[float(v) for v in w.reshape(-1)] for w in fold]},
        "inputs": [dict(tensor_json(t), requires_grad=True) for t in leaves + params],
        "output": tensor_json(result),
        "grad_output": tensor_json(grad_output),
        "grads": [tensor_json(t.grad) for t in leaves + params],
    })


for kind in ["rnn", "lstm", "gru"]:
    add(f"{kind}/one_layer", kind)
    add(f"{kind}/two_layers_initial", kind, layers=2, initial=True)
    add(f"{kind}/batch_first_no_bias", kind, bias=False, batch_first=True, hidden=3)
add("rnn/relu", "rnn", nonlinearity="relu", layers=2)

write(os.path.join(HERE, "fixtures", "recurrent.json"), "generate_recurrent.py", cases)
