#!/usr/bin/env bash
# Coverage-guided fuzzing of one reader with SharpFuzz and libFuzzer.
#   bash tests/AutoGrad.Fuzz/run.sh TARGET [RUNS] [libFuzzer flags...]
# TARGET: safetensors, npy, idx, idx-gz, csv, cifar10, checkpoint, onnx (or "all", one after another). RUNS: executions
# (default 1000000). Builds the harness in Release, instruments AutoGrad.dll, AutoGrad.Onnx.dll and Google.Protobuf.dll
# (the ONNX importer's parser) with sharpfuzz (the SharpFuzz.CommandLine tool of dotnet-tools.json), builds the libFuzzer
# driver libfuzzer-dotnet.cc with clang (apt-get install clang libclang-rt-14-dev, or a newer clang with its
# compiler-rt), then runs libFuzzer with the committed corpus/TARGET as
# seeds. A broken promise (see FuzzTargets.cs), an input taking over 1 s or 4 GB of memory is a crash: libFuzzer saves
# it as crash-*/timeout-*/oom-* in bin/fuzz/findings/TARGET and the script exits non-zero. New inputs go to
# bin/fuzz/work/TARGET; with MERGE=1 those that add coverage are merged into corpus/TARGET (commit them).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
target=${1:?usage: run.sh TARGET [RUNS] [libFuzzer flags...]}
runs=${2:-1000000}
shift $(($# >= 2 ? 2 : 1))
out=$here/bin/fuzz
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

if [ "$target" = all ]; then
    for t in safetensors npy idx idx-gz csv cifar10 checkpoint onnx; do
        bash "$0" "$t" "$runs" "$@"
    done
    exit 0
fi

# Build and instrument once per source state: sharpfuzz refuses an assembly it has already instrumented.
stamp=$(cd "$here/../.." && cat src/AutoGrad/*.cs src/AutoGrad/*/*.cs src/AutoGrad/*/*/*.cs src/AutoGrad.Onnx/*.cs src/AutoGrad.Onnx/*/*.cs \
    src/AutoGrad.Onnx/*.csproj "$here"/*.cs "$here"/*.csproj 2>/dev/null | sha1sum | cut -c1-12)
if [ ! -f "$out/.instrumented-$stamp" ]; then
    rm -rf "$out/app"
    dotnet publish "$here/AutoGrad.Fuzz.csproj" -c Release -o "$out/app" --nologo -v quiet
    (cd "$here" && dotnet tool restore > /dev/null &&
        for dll in AutoGrad.dll AutoGrad.Onnx.dll Google.Protobuf.dll; do dotnet tool run sharpfuzz "$out/app/$dll"; done)
    rm -f "$out"/.instrumented-*
    touch "$out/.instrumented-$stamp"
fi
if [ ! -x "$out/libfuzzer-dotnet" ] || [ "$here/libfuzzer-dotnet.cc" -nt "$out/libfuzzer-dotnet" ]; then
    clang -O2 -fsanitize=fuzzer "$here/libfuzzer-dotnet.cc" -o "$out/libfuzzer-dotnet"
fi

mkdir -p "$out/work/$target" "$out/findings/$target"
seeds=()
node_tests=/usr/share/libonnx-testdata/data/node
if [ "$target" = onnx ] && [ -d "$node_tests" ]; then
    # ONNX's backend node tests (the conformance test's libonnx-testdata): one small model per operator variant, so the
    # fuzzer starts from every handler, not only the committed corpus's few (libFuzzer would not guess "Range").
    mkdir -p "$out/seeds/onnx"
    for model in "$node_tests"/*/model.onnx; do
        name=${model%/model.onnx}
        cp -u "$model" "$out/seeds/onnx/${name##*/}.onnx"
    done
    seeds=("$out/seeds/onnx")
fi
start=$SECONDS
# libFuzzer's exit status, not the filter's: PIPESTATUS must be read right after the pipeline (an "|| true" would
# replace it with true's 0), so errexit is off around it.
set +e
AUTOGRAD_FUZZ_TARGET=$target "$out/libfuzzer-dotnet" --target_path=dotnet --target_arg="$out/app/AutoGrad.Fuzz.dll" \
    -runs="$runs" -timeout=1 -rss_limit_mb=4096 -max_len=16384 -print_final_stats=1 \
    -artifact_prefix="$out/findings/$target/" "$@" "$out/work/$target" "$here/corpus/$target" "${seeds[@]}" 2>&1 | tee "$out/$target.log" | grep -vE '^#[0-9]+\s+(NEW|REDUCE|pulse)'
status=${PIPESTATUS[0]}
set -e
echo "fuzz $target: $(grep -oE 'stat::number_of_executed_units: [0-9]+' "$out/$target.log" | awk '{print $2}') executions in $((SECONDS - start)) s, exit $status"
if [ "${MERGE:-0}" = 1 ] && [ "$status" -eq 0 ]; then
    AUTOGRAD_FUZZ_TARGET=$target "$out/libfuzzer-dotnet" --target_path=dotnet --target_arg="$out/app/AutoGrad.Fuzz.dll" \
        -merge=1 -timeout=1 -rss_limit_mb=4096 "$here/corpus/$target" "$out/work/$target" > "$out/$target.merge.log" 2>&1
    echo "fuzz $target: corpus/$target now holds $(ls "$here/corpus/$target" | wc -l) files"
fi
exit "$status"
