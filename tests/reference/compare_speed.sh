#!/usr/bin/env bash
# Runs AutoGrad's benchmarks at every SIMD tier this CPU has, with PyTorch, ONNX Runtime and numpy beside them, back
# to back, and prints one table of medians and ratios, then the SGEMM comparison.
#   Tiers: default (the widest vectors the CPU has); avx2 (DOTNET_EnableAVX512=0, only on a CPU with avx512f: elsewhere
#   default already is AVX2); 128 (DOTNET_PreferredVectorBitWidth=128: 128-bit vectors, the stand-in for ARM64 NEON).
#   Each tier: MLP and LeNet training epochs with 1 and 2 threads, the best against PyTorch's best of 1 and 2 (peak
#   resident memory of each process beside it); eval-mode inference (batch 1, 64, 256; 1 and 2 threads) against ONNX
#   Runtime on the same weights, outputs checked equal. The last column is the tier's speed over the 256-bit tier's.
#   On an AVX-512 CPU the avx2 tier's epochs are also compared with PyTorch as an AVX2 CPU runs it
#   (OPENBLAS_CORETYPE=HASWELL; Debian's torch has AVX2 ATen kernels only, ATEN_CPU_CAPABILITY=avx2 makes that
#   explicit); ONNX Runtime is native and always uses the widest vectors.
#   SGEMM: BenchmarkDotNet's GemmBenchmarks (1 and 2 threads) at the default and avx2 tiers against numpy + OpenBLAS;
#   on an AVX-512 CPU the avx2 tier is compared with OpenBLAS's AVX2 kernels (OPENBLAS_CORETYPE=HASWELL).
# OPENBLAS_CORETYPE=SKYLAKEX is set for python only when the CPU lists avx512f (Debian's OpenBLAS 0.3.21 mis-detects
# Zen 4/5 without it; on a CPU without AVX-512 it would die with SIGILL).
#   Samples: the charlm and resnet samples (default tier) against their PyTorch twins (tests/reference/charlm_torch.py,
#   resnet_torch.py), each with 1 and 2 threads (DOTNET_PROCESSOR_COUNT for AutoGrad), one run each, back to back:
#   ms per training step, the result (bits/char, test accuracy) and peak resident memory (/usr/bin/time). SAMPLES=short
#   (the default) runs charlm for 200 steps and resnet for 1 epoch on the first 12,800 training images (90 steps),
#   about 10 min in all on a shared 2-core machine; SAMPLES=full the README's runs (charlm 1000 steps, resnet's default recipe: hours in all on 2
#   cores); SAMPLES=none leaves them out.
# Needs Fashion-MNIST (bash data/get-fashion-mnist.sh), python3-torch, python3-numpy and libopenblas0-pthread.
# Usage: bash tests/reference/compare_speed.sh [repeats, default 5]
#   TIERS="default avx2" picks tiers (TIERS=none: only the samples); SKIP_GEMM=1 leaves SGEMM out (about 2.5 min per
#   tier); SKIP_CUSTOM=1 the custom-Module models (LeNet and the two-conv net of PyTorch's MNIST example, against their
#   Sequential twins). All three tiers with 3 repeats take about 15 min on 2 cores of an AMD EPYC (Zen 5).
set -euo pipefail
cd "$(dirname "$0")/../.."
repeat="${1:-5}"
avx512=$(grep -qw avx512f /proc/cpuinfo && echo 1 || true)
tiers="${TIERS:-default ${avx512:+avx2} 128}"
[ "$tiers" != none ] || tiers=
samples="${SAMPLES:-short}"
tier_env() { case $1 in default) ;; avx2) echo DOTNET_EnableAVX512=0 ;; 128) echo DOTNET_PreferredVectorBitWidth=128 ;; esac; }
for tier in $tiers; do
  case $tier in default | avx2 | 128) ;; *) echo "unknown tier '$tier' (default, avx2, 128)" >&2; exit 2 ;; esac
done
case $samples in short | full | none) ;; *) echo "unknown SAMPLES '$samples' (short, full, none)" >&2; exit 2 ;; esac
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

cpu=$(grep -m1 -E '^model name' /proc/cpuinfo | cut -d: -f2- | xargs || uname -m)
family=$(grep -m1 -E '^cpu family' /proc/cpuinfo | cut -d: -f2 | xargs || true)
isa=$(grep -m1 -E '^(flags|Features)' /proc/cpuinfo | tr ' ' '\n' | grep -xE 'avx512f|avx512bw|avx512vl|avx2|fma|sse4_2|asimd|sve' | xargs || true)
echo "CPU: $cpu${family:+ (family $family)}, $(nproc) cores; ISA: $isa; .NET $(dotnet --version); tiers: ${tiers:-none}; repeats: $repeat; samples: $samples"
echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"

dotnet build tests/AutoGrad.Benchmarks -c Release -v quiet >/dev/null
app=tests/AutoGrad.Benchmarks/bin/Release/net10.0/AutoGrad.Benchmarks.dll
ours() { local tier=$1; shift; env $(tier_env "$tier") dotnet "$app" "$@" | sed "s/^{/{\"tier\": \"$tier\", /"; }
py() {   # CORETYPE=HASWELL py ... runs OpenBLAS's AVX2 kernels
  local threads=$1 coretype=${CORETYPE:-${avx512:+SKYLAKEX}}; shift
  env ${coretype:+OPENBLAS_CORETYPE=$coretype} OPENBLAS_NUM_THREADS="$threads" \
    /usr/bin/python3 tests/reference/bench_torch.py "$@" --threads "$threads" --repeat "$repeat"
}

first=1
for tier in $tiers; do
  # the custom-Module models (and the two-conv net's Sequential twin) at the two x86 tiers; PyTorch runs their twins
  models="mlp lenet"
  [ "$tier" = 128 ] || [ -n "${SKIP_CUSTOM:-}" ] || models="$models lenet-custom lenet-custom-fused convnet convnet-custom"
  for kind in $models; do
    twin=${kind%%-*}   # PyTorch's twin: lenet-custom -> lenet, convnet-custom -> convnet
    for t in 1 2; do
      echo "  $tier: epoch $kind, $t thread(s)" >&2
      ours "$tier" epoch "$kind" --threads "$t" --repeat "$repeat" >> "$out/rows"
      [ "$twin" = "$kind" ] || continue
      if [ -n "$first" ]; then py "$t" epoch "$kind" >> "$out/rows"; fi   # PyTorch once, next to the first tier
      if [ "$tier" = avx2 ]; then   # and as it runs on an AVX2 CPU: ATen's AVX2 kernels, OpenBLAS's Haswell ones
        CORETYPE=HASWELL ATEN_CPU_CAPABILITY=avx2 py "$t" epoch "$kind" | sed 's/^{/{"tier": "avx2", /' >> "$out/rows"
      fi
    done
  done
  first=
  for kind in mlp lenet; do
    for batch in 1 64 256; do
      for t in 1 2; do
        echo "  $tier: infer $kind, batch $batch, $t thread(s)" >&2
        ours "$tier" infer "$kind" --batch "$batch" --threads "$t" --repeat "$repeat" >> "$out/rows"
      done
    done
  done
  if [ -z "${SKIP_GEMM:-}" ] && [ "$tier" != 128 ]; then
    echo "  $tier: sgemm (BenchmarkDotNet)" >&2
    ours "$tier" --filter "*GemmBenchmarks*" --job short --inProcess --exporters json --artifacts "$out/gemm-$tier" > "$out/gemm-$tier.log"
  fi
done
if [ "$samples" != none ]; then
  dotnet build samples/AutoGrad.Samples -c Release -v quiet >/dev/null
  sample_app=samples/AutoGrad.Samples/bin/Release/net10.0/autograd-samples.dll
  # sample <name> <threads> <args...>: the AutoGrad sample (its metrics.json and /usr/bin/time's peak RSS) as one row
  sample() {
    local name=$1 threads=$2; shift 2
    rm -rf "$out/$name"
    DOTNET_PROCESSOR_COUNT=$threads /usr/bin/time -f %M -o "$out/rss" dotnet "$sample_app" "$name" --out "$out/$name" "$@" >/dev/null
    /usr/bin/python3 -c 'import json, sys
m = json.load(open(sys.argv[1]))
print(json.dumps({"bench": "sample-" + m["command"], "impl": "autograd", "threads": int(sys.argv[2]), "ms_per_step": m["ms_per_step"],
    "train_seconds": m["train_seconds"], "result": m.get("test_accuracy") or m.get("validation_bits_per_char"),
    "peak_rss_kb": int(open(sys.argv[3]).read().split()[-1])}))' "$out/$name/metrics.json" "$threads" "$out/rss"
  }
  # twin <script> <threads> <args...>: the PyTorch twin's JSON line, its result and peak RSS in the sample's names
  twin() {
    local script=$1 threads=$2 coretype=${avx512:+SKYLAKEX}; shift 2
    env ${coretype:+OPENBLAS_CORETYPE=$coretype} OPENBLAS_NUM_THREADS="$threads" /usr/bin/time -f %M -o "$out/rss" \
      /usr/bin/python3 "tests/reference/$script" --threads "$threads" "$@" 2>/dev/null | /usr/bin/python3 -c 'import json, sys
r = json.loads(sys.stdin.readlines()[-1])
print(json.dumps({"bench": "sample-" + sys.argv[1], "impl": r["impl"], "threads": r["threads"], "ms_per_step": r["ms_per_step"],
    "train_seconds": r.get("train_seconds", r["ms_per_step"] * r.get("steps", 0) / 1000),
    "result": r.get("test_accuracy", r.get("validation_bits_per_char")), "peak_rss_kb": int(open(sys.argv[2]).read().split()[-1])}))' \
      "${script%_torch.py}" "$out/rss"
  }
  if [ "$samples" = short ]; then charlm_steps=200 resnet=(--epochs 1 --limit 12800); else charlm_steps=1000 resnet=(); fi
  for t in 1 2; do
    echo "  sample charlm ($charlm_steps steps), $t thread(s)" >&2
    sample charlm "$t" --epochs "$charlm_steps" >> "$out/rows"
    twin charlm_torch.py "$t" --steps "$charlm_steps" >> "$out/rows"
    echo "  sample resnet (${resnet[*]:-the default recipe}), $t thread(s)" >&2
    sample resnet "$t" "${resnet[@]}" >> "$out/rows"
    twin resnet_torch.py "$t" "${resnet[@]}" >> "$out/rows"
  done
fi
if [ -z "${SKIP_GEMM:-}" ] && [ -n "$tiers" ]; then
  for t in 1 2; do py "$t" gemm >> "$out/rows"; done
  case " $tiers " in *" avx2 "*) for t in 1 2; do CORETYPE=HASWELL py "$t" gemm >> "$out/rows"; done ;; esac
fi

/usr/bin/python3 - "$out" <<'PY'
import glob, json, os, sys
out = sys.argv[1]
rows = [json.loads(l) for l in open(os.path.join(out, "rows")) if l.startswith("{")]
tiers = list(dict.fromkeys(r["tier"] for r in rows if "tier" in r))
bits = {r["tier"]: r["vector_bits"] for r in rows if "vector_bits" in r}
wide = {256: "256-bit", 512: "512-bit", 128: "128-bit", 0: "scalar"}
name = {"mlp": "MLP", "lenet": "LeNet"}
models = {**name, "lenet-custom": "LeNet as a custom Module (F.Relu)", "lenet-custom-fused": "LeNet as a custom Module (Activation.Relu)",
          "convnet": "two-conv net, Sequential", "convnet-custom": "two-conv net as a custom Module"}
mib = lambda r: f"{r['peak_rss_kb'] / 1024:.0f} MiB"
torch = [r for r in rows if r["impl"].startswith("torch")]
ort = next((r["ort_version"] for r in rows if "ort_version" in r), "?")
if tiers:
    print(f"\nAutoGrad vs {torch[0]['impl'] if torch else 'PyTorch'} (training) and ONNX Runtime {ort} (inference); medians; "
          "ratio = their time / AutoGrad's (above 1: AutoGrad faster); last column: AutoGrad's speed over its 256-bit tier\n")
    print("| Tier | Workload | AutoGrad | Peak RSS | Reference | Peak RSS | Ratio | vs 256-bit |")
    print("|---|---|---|---|---|---|---|---|")

def epoch(tier, kind):
    ours = min((r for r in rows if r.get("tier") == tier and r["bench"] == f"epoch-{kind}"), key=lambda r: r["median"], default=None)
    # PyTorch's twin (custom models are compared with the same net in PyTorch), at this tier where it was run there
    # (avx2: OpenBLAS's Haswell kernels), else at its own best
    twin = kind.split("-")[0]
    same = [r for r in torch if r["bench"] == f"epoch-{twin}" and r.get("tier") == tier]
    theirs = min(same or (r for r in torch if r["bench"] == f"epoch-{twin}" and "tier" not in r), key=lambda r: r["median"], default=None)
    label = f"PyTorch ({tier})" if same else "PyTorch"
    return ours and dict(time=ours["median"], text=f"{ours['median']:.2f} s ({ours['threads']}t)", peak=mib(ours),
                         ref=theirs and f"{label} {theirs['median']:.2f} s ({theirs['threads']}t)",
                         ref_peak=theirs and mib(theirs), ref_time=theirs and theirs["median"])

def infer(tier, kind, batch, threads):
    r = next((r for r in rows if r.get("tier") == tier and r["bench"] == f"infer-{kind}"
              and r["batch"] == batch and r["threads"] == threads), None)
    return r and dict(time=r["autograd_median_ms"], text=f"{r['autograd_median_ms']:.3f} ms", peak="",
                      ref=f"ORT {r['ort_median_ms']:.3f} ms", ref_peak="", ref_time=r["ort_median_ms"])

workloads = [(f"{models[k]} epoch", lambda t, k=k: epoch(t, k)) for k in models] + \
    [(f"{name[k]} infer, batch {b}, {n}t", lambda t, k=k, b=b, n=n: infer(t, k, b, n)) for k in name for b in (1, 64, 256) for n in (1, 2)]
for workload, get in workloads:
    found = {t: x for t in tiers if (x := get(t))}
    base = next((x for t, x in found.items() if bits[t] == 256), None)
    for tier, x in found.items():
        ratio = f"{x['ref_time'] / x['time']:.2f}x" if x["ref_time"] else "-"
        vs = f"{base['time'] / x['time']:.2f}x" if base else "-"
        print(f"| {tier} ({wide[bits[tier]]}) | {workload} | {x['text']} | {x['peak']} | {x['ref'] or '-'} | {x['ref_peak'] or ''} | {ratio} | {vs} |")

pairs = [("lenet-custom", "lenet"), ("lenet-custom-fused", "lenet"), ("convnet-custom", "convnet")]
best = lambda tier, kind: min((r for r in rows if r.get("tier") == tier and r["bench"] == f"epoch-{kind}"), key=lambda r: r["median"], default=None)
lines = []
for tier in tiers:
    for custom, twin in pairs:
        c, q = best(tier, custom), best(tier, twin)
        if c and q:
            per = lambda r: r["allocated_bytes_last_epoch"] / r["steps_per_epoch"] / 1024
            lines.append(f"| {tier} | {models[custom]} vs its Sequential twin | {c['median']:.2f} s vs {q['median']:.2f} s: {c['median'] / q['median']:.2f}x "
                         f"| {per(c):.1f} KB vs {per(q):.1f} KB per step (last epoch, one-time state included): {per(c) / per(q):.2f}x | {mib(c)} vs {mib(q)} |")
if lines:
    print("\nCustom Modules against their Sequential twins (time, managed allocation, peak RSS)\n")
    print("| Tier | Pair | Epoch time | Allocation | Peak RSS |")
    print("|---|---|---|---|---|")
    print("\n".join(lines))

runs = [r for r in rows if r["bench"].startswith("sample-")]
if runs:
    print("\nSamples against their PyTorch twins (one run each, default tier; result: test accuracy or validation bits/char); "
          "ratio = the twin's ms per step / AutoGrad's\n")
    print("| Sample | Threads | AutoGrad ms/step | Result | Peak RSS | PyTorch ms/step | Result | Peak RSS | Ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    for bench in dict.fromkeys(r["bench"] for r in runs):
        for threads in (1, 2):
            a = next((r for r in runs if r["bench"] == bench and r["impl"] == "autograd" and r["threads"] == threads), None)
            t = next((r for r in runs if r["bench"] == bench and r["impl"] != "autograd" and r["threads"] == threads), None)
            if a and t:
                print(f"| {bench[7:]} | {threads} | {a['ms_per_step']:.1f} ({a['train_seconds']:.0f} s) | {a['result']:.4f} | {mib(a)} "
                      f"| {t['ms_per_step']:.1f} ({t['train_seconds']:.0f} s) | {t['result']:.4f} | {mib(t)} | {t['ms_per_step'] / a['ms_per_step']:.2f}x |")

print("\nEpoch runs (seconds, sorted):" if any(r["bench"].startswith("epoch") for r in rows) else "")
for r in rows:
    if r["bench"].startswith("epoch"):
        who = f"AutoGrad {r['tier']}" if r["impl"] == "autograd" else r["impl"] + (f" {r['tier']}" if "tier" in r else "")
        print(f"  {r['bench']} {who}, {r['threads']}t: " + ", ".join(f"{s:.2f}" for s in r["seconds"]) + f"; peak {mib(r)}")

blas = {}   # OpenBLAS's kernels -> (m, n, k, A^T, B^T, threads) -> GFLOP/s
for r in rows:
    if r["bench"] == "gemm":
        blas.setdefault(r["coretype"], {})[(r["m"], r["n"], r["k"], r["trans_a"], r["trans_b"], r["threads"])] = r["gflops"]
gemm = {}
for tier in tiers:
    for report in glob.glob(os.path.join(out, f"gemm-{tier}", "results", "*GemmBenchmarks*-report-full-compressed.json")):
        for b in json.load(open(report))["Benchmarks"]:
            p = dict(kv.split("=", 1) for kv in b["Parameters"].split("&"))
            dims, *flags = p["Shape"].split()
            m, n, k = (int(x) for x in dims.split("x"))
            key = (m, n, k, "A^T" in flags, "B^T" in flags, int(p["Threads"]))
            gemm.setdefault(tier, {})[key] = 2 * m * n * k / (b["Statistics"]["Median"] / 1e9) / 1e9
if gemm and blas:
    default = next(c for c in blas if c != "HASWELL")
    against = {t: "HASWELL" if t == "avx2" and "HASWELL" in blas else default for t in gemm}
    print("\nSGEMM, GFLOP/s (BenchmarkDotNet --job short medians; numpy + OpenBLAS medians), AutoGrad as % of OpenBLAS\n")
    print("| Shape | Threads | " + " | ".join(f"OpenBLAS {against[t]} | AutoGrad {t} ({wide[bits[t]]})" for t in gemm) + " |")
    print("|---|---|" + "---|---|" * len(gemm))
    for key in blas[default]:   # numpy's order: squares, then the training shapes; 1 thread, then 2
        m, n, k, ta, tb, threads = key
        cells = []
        for tier, ours in gemm.items():
            ref = blas[against[tier]].get(key)
            cells += [f"{ref:.0f}" if ref else "-", f"{ours[key]:.0f} ({100 * ours[key] / ref:.0f}%)" if ref and key in ours else "-"]
        shape = f"{m}x{n}x{k}" + (" A^T" if ta else "") + (" B^T" if tb else "")
        print(f"| {shape} | {threads} | " + " | ".join(cells) + " |")
PY
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); total: $((SECONDS / 60)) min $((SECONDS % 60)) s"
