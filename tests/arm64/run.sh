#!/usr/bin/env bash
# ARM64 lane of .ci/run: publishes the kernel tests (AutoGrad.Tests.Arm64.csproj, which links tests/AutoGrad.Tests/Kernels)
# self-contained for linux-arm64 and runs them under QEMU user-mode emulation, so that the AdvSimd/Vector128 paths run.
# Needs root (or the packages already installed) for apt. ARM64_TEST_FILTER replaces the test filter and extra arguments
# go to the test runner, e.g.  ARM64_TEST_FILTER="FullyQualifiedName~Gemm" bash tests/arm64/run.sh --maximum-failed-tests 1
# Ends with one line "arm64: N passed, N failed"; exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")"
export DEBIAN_FRONTEND=noninteractive DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 TESTINGPLATFORM_TELEMETRY_OPTOUT=1
out=bin/publish
log=$(mktemp)
trap 'rm -f "$log"' EXIT
fail() { echo "arm64: $1" >&2; echo "arm64: 0 passed, 1 failed"; exit 1; }

# 1. The emulator and the arm64 C/C++ runtime libraries the .NET host loads (Debian multiarch); skipped when present.
pkgs="qemu-user-static libc6:arm64 libstdc++6:arm64 libgcc-s1:arm64"
if ! dpkg -s $pkgs >/dev/null 2>&1; then
    { dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64; } &&
        apt-get update -qq && apt-get install -y -qq --no-install-recommends $pkgs >/dev/null ||
        fail "could not install $pkgs"
fi

# 2. Self-contained, so no arm64 .NET needs installing (the runtime pack comes from NuGet).
rm -rf "$out"
dotnet publish AutoGrad.Tests.Arm64.csproj -c Release -r linux-arm64 --self-contained true \
    -p:SatelliteResourceLanguages=en -o "$out" -nologo -v:q || fail "publish failed"

# 3. qemu is called directly (no binfmt_misc); -L / finds the arm64 libraries in Debian's multiarch paths. QEMU_CPU=max
#    gives AdvSimd and the Arm64 extensions .NET looks for.
#    DOTNET_EnableWriteXorExecute=0: without it, with Debian 12's qemu 7.2, every run had the same 7 tests fail with a
#    NullReferenceException in MSTest's reflection stubs (not in AutoGrad), whatever the SIMD setting. With W^X the JIT
#    writes code through a second, writable mapping of the executable memory; qemu-user most likely misses those
#    writes and reruns a stale translation of reused code memory. With W^X off: 0 failures in 11 runs.
#    --output detailed shows the platform report (PlatformReport.cs); the console skips the other passed tests.
( cd "$out" && DOTNET_EnableWriteXorExecute=0 QEMU_CPU=max timeout 600 qemu-aarch64-static -L / ./AutoGrad.Tests.Arm64 \
    --filter "${ARM64_TEST_FILTER:-TestCategory!=LongRun}" --output detailed "$@" ) 2>&1 | tee "$log" | awk '!/^passed / || /RunsOnArm64/'
status=${PIPESTATUS[0]} # Microsoft.Testing.Platform: 0 all passed, 2 a test failed, 8 no test ran, 124 timeout

passed=$(awk '/^ *succeeded:/ {s = $2} END {print s + 0}' "$log")
failed=$(awk '/^ *failed:/ {s = $2} END {print s + 0}' "$log")
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
    failed=1 # the runner died, timed out or found no test
fi
echo "arm64: $passed passed, $failed failed"
exit "$status"
