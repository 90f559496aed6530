"""Times the resnet sample's convolutions and batch norms one layer at a time in PyTorch, forward + backward at batch
128 and the forward under no_grad, as the AutoGrad benchmark "conv-layers" does (median of 20 timed steps). Run by hand:
    /usr/bin/python3 tests/reference/conv_layers_torch.py --threads 2"""
import argparse, time
import torch

LAYERS = [("stem 1-24 28", 1, 24, 28, 3, 1), ("conv 24-24 28", 24, 24, 28, 3, 1), ("conv 24-48 s2 28", 24, 48, 28, 3, 2),
          ("conv 48-48 14", 48, 48, 14, 3, 1), ("1x1 24-48 s2 28", 24, 48, 28, 1, 2), ("conv 48-96 s2 14", 48, 96, 14, 3, 2),
          ("conv 96-96 7", 96, 96, 7, 3, 1), ("1x1 48-96 s2 14", 48, 96, 14, 1, 2)]


def report(name, forward):
    fs, bs = [], []
    for r in range(25):
        t = time.perf_counter()
        out = forward()
        f = time.perf_counter() - t
        out.sum().backward()
        b = time.perf_counter() - t - f
        if r >= 5:
            fs.append(f * 1e3)
            bs.append(b * 1e3)
    ns = []
    with torch.no_grad():
        for r in range(25):
            t = time.perf_counter()
            forward()
            if r >= 5:
                ns.append((time.perf_counter() - t) * 1e3)
    fs.sort()
    bs.sort()
    ns.sort()
    print(f"{name:20s} forward {fs[10]:7.2f} ms  backward {bs[10]:7.2f} ms  no-grad forward {ns[10]:7.2f} ms")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=128)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    for name, cin, cout, size, k, s in LAYERS:
        conv = torch.nn.Conv2d(cin, cout, k, s, padding=k // 2, bias=False)
        x = torch.randn(args.batch, cin, size, size, requires_grad=cin > 1)
        report(name, lambda: conv(x))
    for c, size in [(24, 28), (48, 14), (96, 7)]:
        norm = torch.nn.BatchNorm2d(c)
        x = torch.randn(args.batch, c, size, size, requires_grad=True)
        report(f"bn+relu {c} {size}", lambda: torch.relu(norm(x)))


if __name__ == "__main__":
    main()
