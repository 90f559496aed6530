"""Writes fixtures/layers.json: embedding (with padding_idx), adaptive average pooling and nearest upsampling computed
by PyTorch (values and gradients). Indices are stored as float32.

Run by hand (CI never needs Python):
    apt-get install -y python3-torch python3-numpy
    /usr/bin/python3 tests/reference/generate_layers.py
"""
import os

import torch
import torch.nn.functional as F

from fixture_io import run_case, write

torch.manual_seed(2468)
HERE = os.path.dirname(os.path.abspath(__file__))
cases = []


def case(name, op, fn, inputs, attrs=None, requires_grad=None):
    cases.append(run_case(name, op, fn, inputs, requires_grad, attrs, seed=len(cases)))


index = torch.tensor([[1., 3., 0.], [3., 3., 2.]])
case("embedding/2d_indices", "embedding", lambda i, w: F.embedding(i.long(), w), [index, torch.randn(5, 4)], {}, [False, True])
case("embedding/padding", "embedding", lambda i, w: F.embedding(i.long(), w, padding_idx=3), [index, torch.randn(5, 4)], {"padding_idx": 3}, [False, True])
case("embedding/1d", "embedding", lambda i, w: F.embedding(i.long(), w), [torch.tensor([4., 0., 4., 1.]), torch.randn(6, 3)], {}, [False, True])
for (h, w), (oh, ow) in [((6, 6), (3, 3)), ((7, 5), (3, 2)), ((5, 7), (1, 1)), ((4, 4), (5, 3))]:
    case(f"adaptive_avg_pool2d/{h}x{w}_to_{oh}x{ow}", "adaptive_avg_pool2d", lambda x, o=(oh, ow): F.adaptive_avg_pool2d(x, o), [torch.randn(2, 3, h, w)],
         {"output_size": [oh, ow]})
case("adaptive_avg_pool2d/unbatched", "adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, (2, 3)), [torch.randn(3, 5, 7)], {"output_size": [2, 3]})
for scale in [2, 3]:
    case(f"upsample_nearest/scale{scale}", "upsample_scale", lambda x, s=scale: F.interpolate(x, scale_factor=s, mode="nearest"), [torch.randn(2, 2, 3, 4)],
         {"scale": scale})
for size in [(5, 7), (2, 3), (6, 4)]:
    case(f"upsample_nearest/size{size[0]}x{size[1]}", "upsample_size", lambda x, s=size: F.interpolate(x, size=s, mode="nearest"), [torch.randn(1, 2, 3, 4)],
         {"size": list(size)})

write(os.path.join(HERE, "fixtures", "layers.json"), "generate_layers.py", cases)
