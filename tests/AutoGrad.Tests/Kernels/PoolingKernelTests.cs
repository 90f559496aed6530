using AutoGrad.Kernels;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Kernels;

/// <summary>The 2x2 / stride-2 max-pooling fast paths, at every width, against a brute-force window scan.</summary>
[TestClass]
public sealed class PoolingKernelTests
{
    // rows of 14, 5, 4, 16 and 17 windows (one and a bit vectors of 16), and of one window
    public static IEnumerable<object[]> Sizes => Widths.Times([[28, 28], [10, 10], [7, 9], [6, 32], [4, 34], [3, 2]]);

    [TestMethod]
    [DynamicData(nameof(Sizes))]
    public void MaxPool2x2_MatchesTheWindowScan_WithTiesAndNaNs(int bits, int height, int width) => Widths.Run(bits, new AgainstScan(height, width));

    private sealed unsafe class AgainstScan(int height, int width) : IWidthCase
    {
        public void Run<TVec>() where TVec : unmanaged, ISimd<TVec>
        {
            var g = new ConvGeometry(3, 2, height, width, 2, 2, 2, 2, 0, 0, 1, 1);
            var generator = new Generator(height * 100 + width);
            var x = new float[3 * 2 * height * width];
            for (int i = 0; i < x.Length; i++)
            {
                // few distinct values, so ties are common; some NaNs and infinities
                float u = generator.NextFloat();
                x[i] = u < 0.05f ? float.NaN : u < 0.08f ? float.NegativeInfinity : MathF.Floor(u * 4);
            }
            int outLength = 3 * 2 * g.OutHeight * g.OutWidth;
            var output = new float[outLength];
            var argmax = new int[outLength];
            Pooling.MaxForward2x2<TVec>(x, g, output, argmax, 0, 6);

            // backward: the one-pass 2x2 gather equals the general scatter of each window's gradient to its arg-max
            var grad = KernelTestData.Values(outLength, height + width, specials: false);
            var scattered = new float[x.Length];
            Pooling.MaxBackward(grad, argmax, scattered, 6);
            var gathered = Enumerable.Repeat(float.NaN, x.Length).ToArray(); // every position must be written
            fixed (float* pg = grad, pt = gathered)
            fixed (int* pa = argmax)
            {
                Pooling.MaxBackward2x2<TVec>(pg, pa, g, pt, 0, 6);
            }
            CollectionAssert.AreEqual(scattered, gathered, "2x2 backward");

            for (int p = 0; p < 6; p++)
            {
                for (int y = 0; y < g.OutHeight; y++)
                {
                    for (int xo = 0; xo < g.OutWidth; xo++)
                    {
                        // first maximum in row-major order; a NaN wins, the last NaN if several
                        int bestIndex = -1;
                        float best = 0;
                        for (int h = 2 * y; h < 2 * y + 2; h++)
                        {
                            for (int w = 2 * xo; w < 2 * xo + 2; w++)
                            {
                                int i = (p * height + h) * width + w;
                                if (bestIndex < 0 || x[i] > best || float.IsNaN(x[i]))
                                {
                                    (best, bestIndex) = (x[i], i);
                                }
                            }
                        }
                        int o = (p * g.OutHeight + y) * g.OutWidth + xo;
                        Assert.AreEqual(bestIndex, argmax[o], $"window ({p}, {y}, {xo}) index");
                        Assert.AreEqual(BitConverter.SingleToInt32Bits(best), BitConverter.SingleToInt32Bits(output[o]), $"window ({p}, {y}, {xo}) value");
                    }
                }
            }
        }
    }
}
