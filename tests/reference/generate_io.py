"""Files written by PyTorch and NumPy for the IO tests (fixtures/io/).

- torch_mlp.safetensors + torch_mlp.json: a torch.nn MLP (4-8-3, ReLU) with seeded weights, its state_dict in the
  safetensors format, an input batch and the model's outputs. The official `safetensors` package is neither in
  Debian nor reachable here, so save_safetensors below writes the published format (8-byte little-endian header
  length, JSON header with dtype/shape/data_offsets and __metadata__, 8-byte aligned, then the raw bytes) from the
  torch tensors, exactly as safetensors.torch.save_file lays it out.
- numpy_*.npy: arrays written by numpy.save / numpy.lib.format (float32, float64, int64, uint8, Fortran order,
  big-endian, format version 2.0) and numpy_expected.json with their values.
Run: /usr/bin/python3 generate_io.py
"""
import json
import os
import struct

import numpy as np
import torch

from fixture_io import tensor_json

HERE = os.path.dirname(os.path.abspath(__file__))

OUT = os.path.join(HERE, "fixtures", "io") + os.sep
DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.float16: "F16", torch.bfloat16: "BF16", torch.int64: "I64",
          torch.int32: "I32"}


def save_safetensors(tensors, path, metadata=None):
    header = {}
    if metadata:
        header["__metadata__"] = metadata
    offset = 0
    blobs = []
    for name, t in tensors.items():
        t = t.detach().contiguous()
        data = t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.view(torch.int16).numpy().tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def load_safetensors(path):
    """The reader used to check files AutoGrad writes (see the README's interop section)."""
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    header.pop("__metadata__", None)
    data = raw[8 + n:]
    names = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64, "I32": torch.int32, "F16": torch.float16}
    return {k: torch.frombuffer(bytearray(data[v["data_offsets"][0]:v["data_offsets"][1]]), dtype=names[v["dtype"]]).reshape(v["shape"])
            for k, v in header.items()}


def main():
    torch.manual_seed(7)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    x = torch.randn(5, 4)
    with torch.no_grad():
        y = model(x)
    save_safetensors(model.state_dict(), OUT + "torch_mlp.safetensors", {"format": "pt"})
    # Mixed dtypes, a scalar and an empty tensor: what a reader must convert.
    save_safetensors({
        "f64": torch.tensor([[1.5, -2.25], [3.0, 4.125]], dtype=torch.float64),
        "f16": torch.tensor([0.5, -1.0, 65504.0], dtype=torch.float16),
        "bf16": torch.tensor([1.0, -3.5], dtype=torch.bfloat16),
        "i64": torch.tensor([[-3, 7, 1 << 20]], dtype=torch.int64),
        "scalar": torch.tensor(2.5),
        "empty": torch.zeros(0, 3),
    }, OUT + "torch_dtypes.safetensors")
    with open(OUT + "torch_mlp.json", "w") as f:
        json.dump({"torch_version": torch.__version__, "input": tensor_json(x), "output": tensor_json(y)}, f)

    arrays = {
        "numpy_f4": np.arange(12, dtype=np.float32).reshape(3, 4) / 7,
        "numpy_f8": np.array([[1.25, -2.5, 1e-3]], dtype=np.float64),
        "numpy_i8": np.array([5, -1, 0, 9, 123456789], dtype=np.int64),
        "numpy_u1": np.array([[0, 255], [17, 3]], dtype=np.uint8),
        "numpy_fortran": np.asfortranarray(np.arange(24, dtype=np.float32).reshape(2, 3, 4)),
        "numpy_big_endian": np.arange(6, dtype=">f4").reshape(2, 3),
        "numpy_scalar": np.array(3.5, dtype=np.float32),
    }
    expected = {}
    for name, a in arrays.items():
        np.save(OUT + name + ".npy", a)
        expected[name] = {"shape": list(a.shape), "data": [float(v) for v in np.ascontiguousarray(a).reshape(-1)]}
    v2 = np.arange(5, dtype=np.float32) * 1.5
    with open(OUT + "numpy_v2.npy", "wb") as f:
        np.lib.format.write_array(f, v2, version=(2, 0))
    expected["numpy_v2"] = {"shape": [5], "data": [float(v) for v in v2]}
    with open(OUT + "numpy_expected.json", "w") as f:
        json.dump({"numpy_version": np.__version__, "arrays": expected}, f)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
