using System.Globalization;
using System.Runtime.Intrinsics;

namespace AutoGrad.Benchmarks;

/// <summary>What the benchmark JSON lines record about the process: the SIMD tier it ran at and its peak memory.</summary>
public static class Machine
{
    /// <summary>
    /// The widest accelerated vector, in bits: 512, 256 or 128 (0 without SIMD). <c>DOTNET_EnableAVX512=0</c> gives 256
    /// on an AVX-512 CPU and <c>DOTNET_PreferredVectorBitWidth=128</c> gives 128, so a run shows the tier it measured.
    /// </summary>
    public static int VectorBits =>
        Vector512.IsHardwareAccelerated ? 512 : Vector256.IsHardwareAccelerated ? 256 : Vector128.IsHardwareAccelerated ? 128 : 0;

    /// <summary>Peak resident memory of this process so far, in KiB (VmHWM on Linux).</summary>
    public static long PeakResidentKb()
    {
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        return self.PeakWorkingSet64 / 1024;
    }

    /// <summary>The integer after <paramref name="name"/> in <paramref name="args"/>, or <paramref name="fallback"/>.</summary>
    public static int Option(string[] args, string name, int fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }
}
