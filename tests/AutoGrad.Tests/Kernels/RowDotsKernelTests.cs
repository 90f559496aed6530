using AutoGrad.Kernels;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Kernels;

/// <summary>The row-dot product C = A B^T (a convolution's weight gradient) against a double-precision loop.</summary>
[TestClass]
public sealed class RowDotsKernelTests
{
    [TestMethod]
    [DataRow(6, 25, 784)]   // LeNet conv1: out channels x taps, pixels
    [DataRow(16, 150, 100)] // LeNet conv2
    [DataRow(1, 1, 1)]
    [DataRow(3, 5, 7)]
    [DataRow(5, 9, 16)]
    [DataRow(4, 4, 33)]
    [DataRow(7, 2, 0)]
    public void MatchesTheReference_WithAndWithoutAccumulation(int m, int n, int k)
    {
        var a = KernelTestData.Values(m * k, m + 5 * k, specials: false);
        var b = KernelTestData.Values(n * k, n + 11 * k, specials: false);
        foreach (bool accumulate in new[] { false, true })
        {
            var c = Enumerable.Repeat(0.5f, m * n).ToArray();
            RowDots.Multiply(a, b, c, m, n, k, accumulate);
            for (int i = 0; i < m; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    double sum = accumulate ? 0.5 : 0, magnitude = 0;
                    for (int p = 0; p < k; p++)
                    {
                        double product = (double)a[i * k + p] * b[j * k + p];
                        sum += product;
                        magnitude += Math.Abs(product);
                    }
                    Assert.AreEqual(sum, c[i * n + j], 1e-5 * (1 + magnitude), $"m={m} n={n} k={k} accumulate={accumulate}: C[{i},{j}]");
                }
            }
        }
    }

    [TestMethod]
    public void RejectsBuffersTooSmallForTheShape()
    {
        var ex = Assert.ThrowsExactly<ArgumentException>(() => RowDots.Multiply(new float[6], new float[8], new float[4], 2, 2, 4, false));
        StringAssert.Contains(ex.Message, "RowDots");
    }
}
