using AutoGrad.Kernels;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Kernels;

/// <summary>The blocked SIMD GEMM against a double-precision triple loop, across tile, block and thread boundaries.</summary>
[TestClass]
public sealed class GemmKernelTests
{
    private static readonly int[] Sizes = [0, 1, 5, 6, 7, 15, 16, 17, 33, 95, 96, 97, 255, 256, 257];

    public static IEnumerable<object[]> Shapes()
    {
        var generator = new Generator(11);
        // Every size appears in each role; the others are drawn at random to keep the count small.
        foreach (int s in Sizes)
        {
            yield return [s, Sizes[generator.NextInt(Sizes.Length)], Sizes[generator.NextInt(8)]];
            yield return [Sizes[generator.NextInt(8)], s, Sizes[generator.NextInt(Sizes.Length)]];
            yield return [Sizes[generator.NextInt(Sizes.Length)], Sizes[generator.NextInt(8)], s];
        }
        yield return [130, 300, 240]; // large enough for the parallel path
        yield return [128, 256, 784]; // a training shape: two depth blocks
        yield return [33, 97, 1100]; // three depth blocks, the last one short
        yield return [203, 100, 50]; // A read in place: three row blocks, the last with a partial (packed) panel
        yield return [1024, 24, 20]; // a transposed A with depths 4 KB apart: packed, not read in place
        yield return [40, 64, 1024]; // a row-major A with rows 4 KB apart: packed
        yield return [41, 600, 30]; // more columns than A is read in place for: packed
        yield return [2, 37, 19]; // two to four rows against B^T: the dot-product path (k not a multiple of any width)
        yield return [3, 9, 33];
        yield return [4, 130, 70];
    }

    public static IEnumerable<object[]> ShapesAtEveryWidth => Widths.Times(Shapes());

    [TestMethod]
    [DynamicData(nameof(ShapesAtEveryWidth))]
    public void AllTransposeAndAccumulateCombinationsMatchTheReference(int bits, int m, int n, int k) => Widths.Run(bits, new AgainstReference(m, n, k));

    private sealed class AgainstReference(int m, int n, int k) : IWidthCase
    {
        public void Run<TVec>() where TVec : unmanaged, ISimd<TVec>
        {
            var a = KernelTestData.Values(m * k, m + 7 * k, specials: false);
            var b = KernelTestData.Values(k * n, n + 3 * k, specials: false);
            foreach (bool transA in new[] { false, true })
            {
                foreach (bool transB in new[] { false, true })
                {
                    foreach (bool accumulate in new[] { false, true })
                    {
                        var c = Enumerable.Repeat(0.5f, m * n).ToArray();
                        Gemm.Multiply<TVec>(a, b, c, m, n, k, transA, transB, accumulate);
                        for (int i = 0; i < m; i++)
                        {
                            for (int j = 0; j < n; j++)
                            {
                                double sum = accumulate ? 0.5 : 0;
                                double magnitude = 0;
                                for (int p = 0; p < k; p++)
                                {
                                    double product = (double)(transA ? a[p * m + i] : a[i * k + p]) * (transB ? b[j * k + p] : b[p * n + j]);
                                    sum += product;
                                    magnitude += Math.Abs(product);
                                }
                                double actual = c[i * n + j];
                                if (Math.Abs(actual - sum) > 1e-5 * (1 + magnitude))
                                {
                                    Assert.Fail($"{TVec.Count * 32} bits, m={m} n={n} k={k} transA={transA} transB={transB} accumulate={accumulate}: C[{i},{j}] = {actual}, expected {sum}.");
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    [TestMethod]
    [DynamicData(nameof(Widths.All), typeof(Widths))]
    public void EveryWidthGivesTheBitsOfTheScalarPath(int bits) => Widths.Run(bits, new SameBitsAsScalar());

    /// <summary>Each element is the same chain of fused multiply-adds at every width and tile, so the bits agree exactly.</summary>
    private sealed class SameBitsAsScalar : IWidthCase
    {
        public void Run<TVec>() where TVec : unmanaged, ISimd<TVec>
        {
            int m = 37, n = 45, k = 600;
            var a = KernelTestData.Values(m * k, 5, specials: false);
            var b = KernelTestData.Values(k * n, 6, specials: false);
            foreach (bool transA in new[] { false, true })
            {
                foreach (bool transB in new[] { false, true })
                {
                    var expected = new float[m * n];
                    var actual = new float[m * n];
                    Gemm.Multiply<SimdScalar>(a, b, expected, m, n, k, transA, transB);
                    Gemm.Multiply<TVec>(a, b, actual, m, n, k, transA, transB);
                    for (int i = 0; i < expected.Length; i++)
                    {
                        Assert.AreEqual(BitConverter.SingleToInt32Bits(expected[i]), BitConverter.SingleToInt32Bits(actual[i]),
                            $"{TVec.Count * 32} bits, transA={transA} transB={transB}: element {i}");
                    }
                }
            }
        }
    }

    [TestMethod]
    public void ResultsAreBitwiseRepeatableAndEqualTheScalarReferenceOnSmallIntegers()
    {
        // Small integers multiply and add exactly in float32, so every summation order must give the same bits.
        int m = 70, n = 90, k = 300;
        var generator = new Generator(3);
        var a = Enumerable.Range(0, m * k).Select(_ => (float)(generator.NextInt(7) - 3)).ToArray();
        var b = Enumerable.Range(0, k * n).Select(_ => (float)(generator.NextInt(7) - 3)).ToArray();
        var c1 = new float[m * n];
        var c2 = new float[m * n];
        var reference = new float[m * n];
        Gemm.Multiply(a, b, c1, m, n, k);
        Gemm.Multiply(a, b, c2, m, n, k);
        Gemm.Reference(a, b, reference, m, n, k, false, false, false);
        CollectionAssert.AreEqual(c1, c2);
        CollectionAssert.AreEqual(reference, c1);
    }

    [TestMethod]
    public void BatchedProductsHonourBroadcastBatchStrides()
    {
        // A [2, 1, m, k] times B [3, k, n]: batch shape [2, 3], A broadcast along the second batch dim.
        int m = 4, n = 5, k = 3;
        var a = KernelTestData.Values(2 * m * k, 1, specials: false);
        var b = KernelTestData.Values(3 * k * n, 2, specials: false);
        var c = new float[6 * m * n];
        Gemm.MultiplyBatched(a, [m * k, 0], b, [0, k * n], c, [2, 3], m, n, k, false, false);
        for (int i = 0; i < 2; i++)
        {
            for (int j = 0; j < 3; j++)
            {
                var expected = new float[m * n];
                Gemm.Reference(a.AsSpan(i * m * k), b.AsSpan(j * k * n), expected, m, n, k, false, false, false);
                var actual = c.AsSpan((i * 3 + j) * m * n, m * n).ToArray();
                for (int e = 0; e < expected.Length; e++)
                {
                    Assert.AreEqual(expected[e], actual[e], 1e-5f, $"batch ({i},{j}) element {e}");
                }
            }
        }
    }

    [TestMethod]
    public void TooSmallBuffersAreRejected()
    {
        Assert.ThrowsExactly<ArgumentException>(() => Gemm.Multiply(new float[5], new float[6], new float[6], 2, 3, 3));
    }
}
