using AutoGrad.Kernels;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Kernels;

/// <summary>A kernel test body written once over the vector width.</summary>
internal interface IWidthCase
{
    void Run<TVec>() where TVec : unmanaged, ISimd<TVec>;
}

/// <summary>
/// Runs width-generic kernel tests at each width: every test takes the width in bits (512, 256, 128, or 32 for the
/// scalar path) as a data row, and a width this machine (or this process's DOTNET_ settings) cannot run is reported
/// as skipped, never as passed.
/// </summary>
internal static class Widths
{
    /// <summary>Every width, for [DynamicData]: one row per width.</summary>
    public static IEnumerable<object[]> All => [[512], [256], [128], [32]];

    /// <summary>Each row of <paramref name="rows"/> once per width, the width first.</summary>
    public static IEnumerable<object[]> Times(IEnumerable<object[]> rows)
        => rows.SelectMany(row => All.Select(width => (object[])[width[0], .. row]));

    public static void Run<TCase>(int bits, TCase test) where TCase : IWidthCase
    {
        switch (bits)
        {
            case 512 when Simd512.IsSupported: test.Run<Simd512>(); break;
            case 256 when Simd256.IsSupported: test.Run<Simd256>(); break;
            case 128 when Simd128.IsSupported: test.Run<Simd128>(); break;
            case 32: test.Run<SimdScalar>(); break;
            case 512 or 256 or 128: Assert.Inconclusive($"{bits}-bit vectors are not accelerated here (widest: {Simd.Width})."); break;
            default: throw new ArgumentOutOfRangeException(nameof(bits), bits, "a width in bits: 512, 256, 128 or 32");
        }
    }
}
