using AutoGrad.Kernels;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Kernels;

/// <summary>The convolution with output channels in the lanes (forward and weight gradient) against naive double-precision loops.</summary>
[TestClass]
public sealed class ChannelLanesKernelTests
{
    // (channels, height, width, out channels, kernel, padding): LeNet's second layer, one input channel with padding,
    // 3 x 3 on 32-wide rows (six chunks of a row), 32 output channels (two lane blocks), an image smaller than its
    // padding, kernels of 7 (three kernel rows per tile), 8 (the widest tile) and 1, and planes that are not a multiple
    // of 16 pixels (the transposes' scalar tails)
    public static IEnumerable<object[]> Cases() =>
    [
        [6, 14, 14, 16, 5, 0],
        [1, 28, 28, 16, 5, 2],
        [3, 9, 32, 16, 3, 1],
        [2, 10, 10, 32, 3, 1],
        [2, 3, 5, 16, 3, 2],
        [2, 12, 11, 16, 7, 3],
        [1, 9, 9, 16, 8, 0],
        [4, 6, 17, 16, 1, 0],
    ];

    public static IEnumerable<object[]> CasesAtEveryWidth => Widths.Times(Cases());

    [TestMethod]
    [DynamicData(nameof(CasesAtEveryWidth))]
    public void ForwardAndWeightGradient_MatchTheDefinition(int bits, int c, int h, int w, int o, int k, int pad)
        => Widths.Run(bits, new AgainstDefinition(c, h, w, o, k, pad));

    private sealed class AgainstDefinition(int c, int h, int w, int o, int k, int pad) : IWidthCase
    {
        public void Run<TVec>() where TVec : unmanaged, ISimd<TVec>
        {
            const int count = 3;
            var g = new ConvGeometry(count, c, h, w, k, k, 1, 1, pad, pad, 1, 1);
            int oh = g.OutHeight, ow = g.OutWidth, taps = c * k * k, sampleSize = c * h * w, outSize = o * oh * ow;
            var x = KernelTestData.Values(count * sampleSize, c + h, specials: false);
            var weight = KernelTestData.Values(o * taps, o + k, specials: false);
            var bias = KernelTestData.Values(o, 5, specials: false);
            var gy = KernelTestData.Values(count * outSize, 7 + o, specials: false);
            float X(int n, int ci, int y, int xx) => y < 0 || y >= h || xx < 0 || xx >= w ? 0 : x[n * sampleSize + (ci * h + y) * w + xx];

            var weightLanes = new float[o * taps];
            ChannelLanes.PrepareWeights(weight, o, taps, weightLanes, TVec.Count);
            var output = new float[count * outSize];
            ChannelLanes.Forward<TVec>(x, count, g, weightLanes, o, bias, relu: true, output, new float[ChannelLanes.ForwardScratchLength(g)]);
            var plain = new float[count * outSize];
            ChannelLanes.Forward<TVec>(x, count, g, weightLanes, o, default, relu: false, plain, new float[ChannelLanes.ForwardScratchLength(g)]);
            var weightGrad = new float[o * taps];
            ChannelLanes.WeightGradient<TVec>(x, count, g, gy, o, weightGrad, new float[ChannelLanes.WeightScratchLength(g, count, o)]);

            for (int oc = 0; oc < o; oc++)
            {
                for (int n = 0; n < count; n++)
                {
                    for (int y = 0; y < oh; y++)
                    {
                        for (int xx = 0; xx < ow; xx++)
                        {
                            double sum = 0;
                            for (int t = 0; t < taps; t++)
                            {
                                sum += (double)weight[oc * taps + t] * X(n, t / (k * k), y + t / k % k - pad, xx + t % k - pad);
                            }
                            int at = n * outSize + (oc * oh + y) * ow + xx;
                            Assert.AreEqual(sum, plain[at], 1e-4 * (1 + Math.Abs(sum)), $"output ({n}, {oc}, {y}, {xx})");
                            Assert.AreEqual(Math.Max(sum + bias[oc], 0), output[at], 1e-4 * (1 + Math.Abs(sum)), $"output with bias and ReLU ({n}, {oc}, {y}, {xx})");
                        }
                    }
                }
                for (int t = 0; t < taps; t++)
                {
                    double sum = 0;
                    for (int n = 0; n < count; n++)
                    {
                        for (int y = 0; y < oh; y++)
                        {
                            for (int xx = 0; xx < ow; xx++)
                            {
                                sum += (double)gy[n * outSize + (oc * oh + y) * ow + xx] * X(n, t / (k * k), y + t / k % k - pad, xx + t % k - pad);
                            }
                        }
                    }
                    Assert.AreEqual(sum, weightGrad[oc * taps + t], 1e-4 * (1 + Math.Abs(sum)), $"weight grad ({oc}, {t})");
                }
            }
        }
    }

    [TestMethod]
    [DynamicData(nameof(Widths.All), typeof(Widths))]
    public void Forward_GivesTheSameBitsAsThePixelLaneKernel(int bits) => Widths.Run(bits, new SameBitsAsPixelLanes());

    private sealed class SameBitsAsPixelLanes : IWidthCase
    {
        public void Run<TVec>() where TVec : unmanaged, ISimd<TVec>
        {
            // both sum each output over the taps in the same order, so the choice between them never changes a result
            var g = new ConvGeometry(2, 6, 14, 14, 5, 5, 1, 1, 0, 0, 1, 1);
            var x = KernelTestData.Values(2 * g.SampleSize, 3, specials: false);
            var weight = KernelTestData.Values(16 * g.PatchSize, 4, specials: false);
            var bias = KernelTestData.Values(16, 6, specials: false);
            var weightLanes = new float[16 * g.PatchSize];
            ChannelLanes.PrepareWeights(weight, 16, g.PatchSize, weightLanes, TVec.Count);
            var lanes = new float[2 * 16 * g.OutPlane];
            ChannelLanes.Forward<TVec>(x, 2, g, weightLanes, 16, bias, relu: false, lanes, new float[ChannelLanes.ForwardScratchLength(g)]);
            var pixels = new float[lanes.Length];
            var scratch = new float[DirectConvolution.ScratchLength(g, 16)];
            for (int n = 0; n < 2; n++)
            {
                DirectConvolution.Forward<TVec>(x.AsSpan(n * g.SampleSize, g.SampleSize), g, weight, 16, bias, relu: false,
                    pixels.AsSpan(n * 16 * g.OutPlane, 16 * g.OutPlane), scratch);
            }
            for (int i = 0; i < lanes.Length; i++)
            {
                Assert.AreEqual(BitConverter.SingleToInt32Bits(pixels[i]), BitConverter.SingleToInt32Bits(lanes[i]), $"element {i}");
            }
        }
    }
}
