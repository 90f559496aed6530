using AutoGrad.Kernels;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Kernels;

/// <summary>The direct small-image convolution and its two adjoints against naive double-precision loops.</summary>
[TestClass]
public sealed class DirectConvolutionKernelTests
{
    // (channels, height, width, out channels, kernel, padding): LeNet's two layers, a 32-wide row, odd channel counts,
    // channel counts whose last register block is narrower (8 + 5 in a narrow row, 4 + 6 in a wide one, 4 + 4 + 2),
    // and the two-vector rows' blocks of eight channels (the resnet's 24 at 28 wide; 7, one channel computed twice)
    public static IEnumerable<object[]> Cases() =>
    [
        [1, 28, 28, 6, 5, 2],
        [6, 14, 14, 16, 5, 0],
        [3, 9, 32, 5, 3, 1],
        [2, 7, 5, 3, 3, 2],
        [4, 6, 17, 1, 1, 0],
        [2, 8, 8, 13, 3, 1],
        [5, 6, 20, 10, 3, 1],
        [3, 5, 28, 24, 3, 1],
        [2, 4, 18, 7, 3, 1],
    ];

    public static IEnumerable<object[]> CasesAtEveryWidth => Widths.Times(Cases());

    [TestMethod]
    [DynamicData(nameof(CasesAtEveryWidth))]
    public void ForwardAndBothGradients_MatchTheDefinition(int bits, int c, int h, int w, int o, int k, int pad)
        => Widths.Run(bits, new AgainstDefinition(c, h, w, o, k, pad));

    private sealed class AgainstDefinition(int c, int h, int w, int o, int k, int pad) : IWidthCase
    {
        public void Run<TVec>() where TVec : unmanaged, ISimd<TVec>
        {
            var g = new ConvGeometry(1, c, h, w, k, k, 1, 1, pad, pad, 1, 1);
            int oh = g.OutHeight, ow = g.OutWidth;
            var x = KernelTestData.Values(c * h * w, c + h, specials: false);
            var weight = KernelTestData.Values(o * c * k * k, o + k, specials: false);
            var bias = KernelTestData.Values(o, 5, specials: false);
            var gy = KernelTestData.Values(o * oh * ow + DirectConvolution.GradientSlack, 7 + o, specials: false);
            var scratch = new float[DirectConvolution.ScratchLength(g, o)];
            float X(int ci, int y, int xx) => y < 0 || y >= h || xx < 0 || xx >= w ? 0 : x[(ci * h + y) * w + xx];

            var output = new float[o * oh * ow];
            DirectConvolution.Forward<TVec>(x, g, weight, o, bias, relu: true, output, scratch);
            var weightGrad = new float[o * c * k * k];
            var lanes = new float[DirectConvolution.LanePartialsLength(g, o)];
            DirectConvolution.WeightGradient<TVec>(x, 1, g, gy, o, lanes, weightGrad, new float[DirectConvolution.WeightScratchLength(g, 1)]);
            var flipped = new float[o * c * k * k];
            for (int oc = 0; oc < o; oc++)
            {
                for (int ci = 0; ci < c; ci++)
                {
                    for (int t = 0; t < k * k; t++)
                    {
                        flipped[(ci * o + oc) * k * k + t] = weight[(oc * c + ci) * k * k + k * k - 1 - t];
                    }
                }
            }
            var inputGrad = new float[c * h * w];
            DirectConvolution.InputGradient<TVec>(gy.AsSpan(0, o * oh * ow), g, flipped, o, inputGrad, scratch);

            var expectedInputGrad = new double[c * h * w];
            for (int oc = 0; oc < o; oc++)
            {
                for (int y = 0; y < oh; y++)
                {
                    for (int xx = 0; xx < ow; xx++)
                    {
                        double sum = bias[oc];
                        for (int ci = 0; ci < c; ci++)
                        {
                            for (int i = 0; i < k; i++)
                            {
                                for (int j = 0; j < k; j++)
                                {
                                    double wv = weight[((oc * c + ci) * k + i) * k + j];
                                    sum += wv * X(ci, y + i - pad, xx + j - pad);
                                    int iy = y + i - pad, ix = xx + j - pad;
                                    if (iy >= 0 && iy < h && ix >= 0 && ix < w)
                                    {
                                        expectedInputGrad[(ci * h + iy) * w + ix] += wv * gy[(oc * oh + y) * ow + xx];
                                    }
                                }
                            }
                        }
                        Assert.AreEqual(Math.Max(sum, 0), output[(oc * oh + y) * ow + xx], 1e-4 * (1 + Math.Abs(sum)), $"output ({oc}, {y}, {xx})");
                    }
                }
                for (int ci = 0; ci < c; ci++)
                {
                    for (int i = 0; i < k; i++)
                    {
                        for (int j = 0; j < k; j++)
                        {
                            double sum = 0;
                            for (int y = 0; y < oh; y++)
                            {
                                for (int xx = 0; xx < ow; xx++)
                                {
                                    sum += gy[(oc * oh + y) * ow + xx] * X(ci, y + i - pad, xx + j - pad);
                                }
                            }
                            Assert.AreEqual(sum, weightGrad[((oc * c + ci) * k + i) * k + j], 1e-4 * (1 + Math.Abs(sum)), $"weight grad ({oc}, {ci}, {i}, {j})");
                        }
                    }
                }
            }
            for (int i = 0; i < inputGrad.Length; i++)
            {
                Assert.AreEqual(expectedInputGrad[i], inputGrad[i], 1e-4 * (1 + Math.Abs(expectedInputGrad[i])), $"input grad {i}");
            }
        }
    }

    public static IEnumerable<object[]> GroupCases => Widths.Times([[1, 28, 28, 6, 5, 2], [6, 14, 14, 16, 5, 0], [5, 6, 20, 10, 3, 1]]);

    [TestMethod]
    [DynamicData(nameof(GroupCases))]
    public void WeightGradient_SumsOverTheGroupsSamples(int bits, int c, int h, int w, int o, int k, int pad)
        => Widths.Run(bits, new GroupSum(c, h, w, o, k, pad));

    private sealed class GroupSum(int c, int h, int w, int o, int k, int pad) : IWidthCase
    {
        public void Run<TVec>() where TVec : unmanaged, ISimd<TVec>
        {
            const int count = 3;
            var g = new ConvGeometry(count, c, h, w, k, k, 1, 1, pad, pad, 1, 1);
            int oh = g.OutHeight, ow = g.OutWidth, sampleSize = c * h * w, outSize = o * oh * ow;
            var x = KernelTestData.Values(count * sampleSize, 31, specials: false);
            var gy = KernelTestData.Values(count * outSize + DirectConvolution.GradientSlack, 37, specials: false);
            var weightGrad = new float[o * c * k * k];
            DirectConvolution.WeightGradient<TVec>(x, count, g, gy, o, new float[DirectConvolution.LanePartialsLength(g, o)], weightGrad,
                new float[DirectConvolution.WeightScratchLength(g, count)]);
            for (int oc = 0; oc < o; oc++)
            {
                for (int t = 0; t < c * k * k; t++)
                {
                    int ci = t / (k * k), i = t / k % k, j = t % k;
                    double sum = 0;
                    for (int n = 0; n < count; n++)
                    {
                        for (int y = 0; y < oh; y++)
                        {
                            for (int xx = 0; xx < ow; xx++)
                            {
                                int iy = y + i - pad, ix = xx + j - pad;
                                if (iy >= 0 && iy < h && ix >= 0 && ix < w)
                                {
                                    sum += (double)gy[n * outSize + (oc * oh + y) * ow + xx] * x[n * sampleSize + (ci * h + iy) * w + ix];
                                }
                            }
                        }
                    }
                    Assert.AreEqual(sum, weightGrad[oc * c * k * k + t], 1e-4 * (1 + Math.Abs(sum)), $"weight grad ({oc}, {t})");
                }
            }
        }
    }
}
