#!/usr/bin/env bash
# Runs AutoGrad's and PyTorch's end-to-end benchmarks back to back on this machine and prints the ratios.
# Needs Fashion-MNIST (bash data/get-fashion-mnist.sh), python3-torch, python3-numpy and libopenblas0-pthread.
# Usage: bash tests/reference/compare_speed.sh [repeats]   (from the repository root)
set -euo pipefail
cd "$(dirname "$0")/../.."
repeat="${1:-3}"
export OPENBLAS_CORETYPE=SKYLAKEX   # Debian's OpenBLAS 0.3.21 mis-detects this CPU without it (about 6x slower)
out=$(mktemp)
dotnet build tests/AutoGrad.Benchmarks -c Release -v quiet >/dev/null
ours() { dotnet run --project tests/AutoGrad.Benchmarks -c Release --no-build -- "$@"; }
for kind in mlp lenet; do
  for t in 1 2; do   # both sides in their best thread setting: on a shared machine a second thread can cost more than it brings
    ours epoch "$kind" --threads "$t" --repeat "$repeat" >> "$out"
    /usr/bin/python3 tests/reference/bench_torch.py epoch "$kind" --threads "$t" --repeat "$repeat" >> "$out"
  done
done
OPENBLAS_NUM_THREADS=2 /usr/bin/python3 tests/reference/bench_torch.py gemm --threads 2 --repeat "$repeat" >> "$out"
ours --filter "*GemmBenchmarks*" --job short --exporters json > /dev/null
/usr/bin/python3 - "$out" <<'PY'
import glob, json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
for kind in ("mlp", "lenet"):
    runs = lambda r: ', '.join(f'{s:.2f}' for s in r['seconds'])
    mine = [r for r in rows if r["bench"] == f"epoch-{kind}" and r["impl"] == "autograd"]
    torch = [r for r in rows if r["bench"] == f"epoch-{kind}" and r["impl"].startswith("torch")]
    for side, results in (("AutoGrad", mine), ("PyTorch", torch)):
        print(f"  {kind} {side}: " + "; ".join(f"{r['threads']} thread(s) {r['median']:.2f} s (runs {runs(r)})" for r in results))
    ours = min(mine, key=lambda r: r["median"])
    best = min(torch, key=lambda r: r["median"])
    print(f"epoch {kind}: AutoGrad {ours['median']:.2f} s with {ours['threads']} thread(s), "
          f"PyTorch {best['median']:.2f} s with {best['threads']} thread(s) -> AutoGrad is {best['median'] / ours['median']:.2f}x as fast")
reports = sorted(glob.glob("BenchmarkDotNet.Artifacts/results/*GemmBenchmarks*-report-full-compressed.json") +
                 glob.glob("tests/AutoGrad.Benchmarks/BenchmarkDotNet.Artifacts/results/*GemmBenchmarks*-report-full-compressed.json"))
if reports:
    report = json.load(open(reports[-1]))
    ours = {}
    for b in report["Benchmarks"]:
        shape = b["Parameters"].split("=", 1)[1]
        m, n, k = (int(x) for x in shape.split()[0].split("x"))
        ours[(m, n, k)] = 2 * m * n * k / (b["Statistics"]["Median"] / 1e9) / 1e9
    for r in rows:
        if r["bench"] == "gemm" and (r["m"], r["n"], r["k"]) in ours:
            g = ours[(r["m"], r["n"], r["k"])]
            print(f"sgemm {r['m']}x{r['n']}x{r['k']}: AutoGrad {g:.0f} GFLOP/s, OpenBLAS {r['gflops']:.0f} GFLOP/s -> {100 * g / r['gflops']:.0f}%")
PY
rm -f "$out"
