using AutoGrad.Kernels;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Kernels;

/// <summary>
/// The kernels that split work across threads, at sizes above their parallel thresholds, give the same bits with one
/// and two threads (the training-level determinism test uses a model too small to reach every threshold).
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class ThreadInvarianceTests
{
    private static T WithThreads<T>(int threads, Func<T> run)
    {
        int saved = Parallelism.MaxThreads;
        try
        {
            Parallelism.MaxThreads = threads;
            return run();
        }
        finally
        {
            Parallelism.MaxThreads = saved;
        }
    }

    private static void AssertSameBits(float[] expected, float[] actual, string what)
    {
        Assert.AreEqual(expected.Length, actual.Length, what);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.AreEqual(BitConverter.SingleToInt32Bits(expected[i]), BitConverter.SingleToInt32Bits(actual[i]), $"{what}: element {i}");
        }
    }

    [TestMethod]
    [TestCategory("Determinism")]
    [DataRow(130, 300, 240)] // rows split across threads
    [DataRow(16, 1100, 600)] // few rows: columns split across threads
    [DataRow(3, 1500, 2000)] // three rows: the dot-product path with transposed B, columns split across threads
    [DataRow(40, 900, 700)] // more columns than rows, a short last row tile
    public void GemmGivesTheSameBitsWithOneAndTwoThreads(int m, int n, int k)
    {
        var a = KernelTestData.Values(m * k, 3, specials: false);
        var b = KernelTestData.Values(k * n, 4, specials: false);
        foreach (bool transA in new[] { false, true })
        {
            foreach (bool transB in new[] { false, true })
            {
                float[] Product()
                {
                    var c = new float[m * n];
                    Gemm.Multiply(a, b, c, m, n, k, transA, transB);
                    return c;
                }
                AssertSameBits(WithThreads(1, Product), WithThreads(2, Product), $"transA={transA} transB={transB}");
            }
        }
    }

    [TestMethod]
    [TestCategory("Determinism")]
    [DataRow(2 * Map.Chunk)] // two whole chunks
    [DataRow(3 * Map.Chunk + 13)] // a short last chunk with the scalar tail
    public void LongMapsGiveTheSameBitsWithOneAndTwoThreads(int length)
    {
        var x = KernelTestData.Values(length, 7);
        var y = KernelTestData.Values(length, 8);
        float[][] Run()
        {
            var unary = new float[length];
            var binary = new float[length];
            Map.Apply(default(GeluTanhMap), x, unary);
            Map.Apply(default(GeluTanhBackwardMap), x, y, binary);
            return [unary, binary];
        }
        var one = WithThreads(1, Run);
        var two = WithThreads(2, Run);
        AssertSameBits(one[0], two[0], "unary");
        AssertSameBits(one[1], two[1], "binary");
        for (int i = 0; i < length; i += 997)
        {
            Assert.IsTrue(KernelTestData.SameFloat(default(GeluTanhMap).Invoke(x[i]), two[0][i]) || Math.Abs(default(GeluTanhMap).Invoke(x[i]) - two[0][i]) <= 1e-6f * (1 + Math.Abs(two[0][i])),
                $"element {i} agrees with the scalar form");
        }
    }

    [TestMethod]
    [TestCategory("Determinism")]
    [DataRow(2, 2, 0)] // the one-pass 2x2 backward
    [DataRow(3, 2, 1)] // overlapping windows: the general scatter
    public void MaxPoolingGivesTheSameBitsWithOneAndTwoThreads(int kernel, int stride, int padding)
    {
        var x = Tensor.FromArray(KernelTestData.Values(17 * 8 * 64 * 64, 5, specials: false), 17, 8, 64, 64);
        var upstream = KernelTestData.Values(x.Length, 6, specials: false);
        float[][] Run()
        {
            var input = new Variable(x, requiresGrad: true);
            var y = F.MaxPool2d(input, kernel, stride, padding);
            y.Backward(Tensor.FromArray(upstream.AsSpan(0, y.Value.Length).ToArray(), y.Value.ShapeArray));
            return [y.Value.ToArray(), input.Grad!.ToArray()];
        }
        var one = WithThreads(1, Run);
        var two = WithThreads(2, Run);
        AssertSameBits(one[0], two[0], "output");
        AssertSameBits(one[1], two[1], "input gradient");
    }

    [TestMethod]
    [TestCategory("Determinism")]
    [DataRow(1, 2, 8)] // the direct convolution
    [DataRow(1, 2, 16)] // the direct convolution with output channels in the lanes
    [DataRow(2, 1, 8)] // strided: im2col and GEMM
    public void ConvolutionGivesTheSameBitsWithOneAndTwoThreads(int stride, int padding, int outChannels)
    {
        var x = Tensor.FromArray(KernelTestData.Values(37 * 3 * 20 * 20, 7, specials: false), 37, 3, 20, 20);
        var w = Tensor.FromArray(KernelTestData.Values(outChannels * 3 * 5 * 5, 8, specials: false), outChannels, 3, 5, 5);
        var bias = Tensor.FromArray(KernelTestData.Values(outChannels, 9, specials: false), outChannels);
        float[][] Run()
        {
            var input = new Variable(x, requiresGrad: true);
            var weight = new Variable(w, requiresGrad: true);
            var b = new Variable(bias, requiresGrad: true);
            var y = F.Conv2d(input, weight, b, stride, padding);
            var upstream = KernelTestData.Values(y.Value.Length, 10, specials: false);
            y.Backward(Tensor.FromArray(upstream, y.Value.ShapeArray));
            return [y.Value.ToArray(), input.Grad!.ToArray(), weight.Grad!.ToArray(), b.Grad!.ToArray()];
        }
        var one = WithThreads(1, Run);
        var two = WithThreads(2, Run);
        string[] names = ["output", "input gradient", "weight gradient", "bias gradient"];
        for (int i = 0; i < names.Length; i++)
        {
            AssertSameBits(one[i], two[i], names[i]);
        }
    }

    [TestMethod]
    [TestCategory("Determinism")]
    public void FusedConvolutionAndPoolingGiveTheSameBitsWithOneAndTwoThreads()
    {
        var x = Tensor.FromArray(KernelTestData.Values(37 * 3 * 20 * 20, 11, specials: false), 37, 3, 20, 20);
        var model = new AutoGrad.Nn.Sequential(new AutoGrad.Nn.Conv2d(3, 16, 5, padding: 2, generator: new Generator(12)), new AutoGrad.Nn.ReLU(),
            new AutoGrad.Nn.MaxPool2d(2));
        float[][] Run()
        {
            var input = new Variable(x, requiresGrad: true);
            foreach (var p in model.Parameters())
            {
                p.Grad = null;
            }
            var y = model.Call(input);
            y.Backward(Tensor.FromArray(KernelTestData.Values(y.Value.Length, 13, specials: false), y.Value.ShapeArray));
            return [y.Value.ToArray(), input.Grad!.ToArray(), .. model.Parameters().Select(p => p.Grad!.ToArray())];
        }
        var one = WithThreads(1, Run);
        var two = WithThreads(2, Run);
        string[] names = ["output", "input gradient", "weight gradient", "bias gradient"];
        for (int i = 0; i < names.Length; i++)
        {
            AssertSameBits(one[i], two[i], names[i]);
        }
    }
}
