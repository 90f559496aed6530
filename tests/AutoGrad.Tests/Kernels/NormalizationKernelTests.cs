using AutoGrad.Kernels;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Kernels;

/// <summary>
/// The normalization kernels against a double-precision scalar reference that indexes the five-dim view directly,
/// over layouts whose segments and runs cross every vector width.
/// </summary>
[TestClass]
public sealed class NormalizationKernelTests
{
    public static IEnumerable<object[]> Layouts =>
    [
        [3, 1, 2, 1, 37],   // BatchNorm [3, 2, 37]
        [5, 1, 3, 1, 1],    // BatchNorm [5, 3]
        [1, 4, 1, 33, 1],   // LayerNorm [4, 33]
        [1, 2, 1, 257, 1],  // LayerNorm [2, 257]
        [1, 2, 3, 2, 17],   // GroupNorm [2, 6, 17] in 3 groups
        [1, 3, 1, 4, 1],    // GroupNorm with one group of 4 channels and length 1
        [64, 1, 5, 1, 49],  // BatchNorm [64, 5, 7, 7]: several blocks of groups
        [1, 300, 1, 67, 1], // LayerNorm [300, 67]: several blocks of rows share the weight gradient
        [1, 40, 4, 3, 150], // GroupNorm [40, 12, 150] in 4 groups
    ];

    [TestMethod]
    [DynamicData(nameof(Layouts))]
    public void ForwardAndBackwardMatchTheReference(int outer, int rows, int period, int runs, int run)
    {
        var l = new NormLayout(outer, rows, period, runs, run);
        int n = l.Groups * l.GroupSize;
        var x = KernelTestData.Values(n, 1, specials: false).Select(v => v * 3 + 5).ToArray(); // a mean far from zero
        var grad = KernelTestData.Values(n, 2, specials: false);
        var weight = KernelTestData.Values(l.Channels, 3, specials: false);
        var bias = KernelTestData.Values(l.Channels, 4, specials: false);
        const float eps = 1e-5f;

        var mean = new float[l.Groups];
        var variance = new float[l.Groups];
        var invStd = new float[l.Groups];
        var y = new float[n];
        Normalization.ForwardWithBatchStatistics(x, l, eps, weight, bias, y, mean, variance, invStd);
        var dx = new float[n];
        var dw = new float[l.Channels];
        var db = new float[l.Channels];
        Normalization.Backward(grad, x, l, mean, invStd, weight, batchStats: true, dx, dw, db);

        var r = Reference(x, grad, weight, bias, l, eps);
        AssertClose(r.Mean, mean, "mean");
        AssertClose(r.Variance, variance, "variance");
        AssertClose(r.Y, y, "y");
        AssertClose(r.Dx, dx, "dx");
        AssertClose(r.Dw, dw, "dweight");
        AssertClose(r.Db, db, "dbias");
    }

    [TestMethod]
    [DynamicData(nameof(Layouts))]
    public void GivenStatisticsAreConstants(int outer, int rows, int period, int runs, int run)
    {
        // eval-mode BatchNorm: y = (x - mean) invStd weight + bias and dx = grad weight invStd, nothing through the statistics
        var l = new NormLayout(outer, rows, period, runs, run);
        int n = l.Groups * l.GroupSize;
        var x = KernelTestData.Values(n, 5, specials: false);
        var grad = KernelTestData.Values(n, 6, specials: false);
        var weight = KernelTestData.Values(l.Channels, 7, specials: false);
        var mean = KernelTestData.Values(l.Groups, 8, specials: false);
        var invStd = KernelTestData.Values(l.Groups, 9, specials: false).Select(v => 0.5f + Math.Abs(v)).ToArray();
        var y = new float[n];
        Normalization.Forward(x, l, mean, invStd, weight, default, y);
        var dx = new float[n];
        Normalization.Backward(grad, x, l, mean, invStd, weight, batchStats: false, dx, default, default);
        for (int i = 0; i < n; i++)
        {
            int group = i / l.Segment % l.Groups, channel = group % l.Period * l.Runs + i % l.Segment / l.Run;
            double s = invStd[group], w = weight[channel];
            Assert.AreEqual((x[i] - mean[group]) * s * w, y[i], 1e-5 + 1e-5 * Math.Abs(y[i]), $"y[{i}]");
            Assert.AreEqual(grad[i] * w * s, dx[i], 1e-5 + 1e-5 * Math.Abs(dx[i]), $"dx[{i}]");
        }
    }

    [TestMethod]
    public void ResultsDoNotDependOnTheThreadCount()
    {
        foreach (var l in new[] { new NormLayout(128, 1, 24, 1, 784), new NormLayout(1, 2048, 1, 128, 1), new NormLayout(1, 16, 8, 3, 196) })
        {
            var one = Run(l, 1);
            var two = Run(l, 2);
            for (int k = 0; k < one.Length; k++)
            {
                CollectionAssert.AreEqual(one[k], two[k], $"{l}: output {k}");
            }
        }

        static float[][] Run(NormLayout l, int threads)
        {
            int saved = Parallelism.MaxThreads;
            Parallelism.MaxThreads = threads;
            try
            {
                int n = l.Groups * l.GroupSize;
                var x = KernelTestData.Values(n, 1, specials: false);
                var grad = KernelTestData.Values(n, 2, specials: false);
                var weight = KernelTestData.Values(l.Channels, 3, specials: false);
                float[] y = new float[n], mean = new float[l.Groups], variance = new float[l.Groups], invStd = new float[l.Groups];
                Normalization.ForwardWithBatchStatistics(x, l, 1e-5f, weight, weight, y, mean, variance, invStd);
                float[] dx = new float[n], dw = new float[l.Channels], db = new float[l.Channels];
                Normalization.Backward(grad, x, l, mean, invStd, weight, batchStats: true, dx, dw, db);
                return [y, mean, variance, invStd, dx, dw, db];
            }
            finally
            {
                Parallelism.MaxThreads = saved;
            }
        }
    }

    [TestMethod]
    public void RunningStatisticsUseTheUnbiasedVariance()
    {
        float[] runningMean = [1f], runningVar = [1f];
        Normalization.UpdateRunning([3f], [2f], 5, 0.25f, runningMean, runningVar);
        Assert.AreEqual(0.75f + 0.75f, runningMean[0], 1e-6f);
        Assert.AreEqual(0.75f + 0.25f * 2f * 5f / 4f, runningVar[0], 1e-6f);
    }

    // Indexes the view [Outer, Rows, Period, Runs, Run] element by element; the channel of (p, k) is p Runs + k.
    private static (double[] Mean, double[] Variance, double[] Y, double[] Dx, double[] Dw, double[] Db) Reference(
        float[] x, float[] grad, float[] weight, float[] bias, NormLayout l, float eps)
    {
        int n = x.Length, count = l.GroupSize;
        var group = new int[n];
        var channel = new int[n];
        for (int i = 0; i < n; i++)
        {
            int k = i / l.Run % l.Runs, p = i / (l.Run * l.Runs) % l.Period, row = i / (l.Run * l.Runs * l.Period) % l.Rows;
            group[i] = row * l.Period + p;
            channel[i] = p * l.Runs + k;
        }
        var mean = new double[l.Groups];
        var variance = new double[l.Groups];
        for (int i = 0; i < n; i++)
        {
            mean[group[i]] += x[i] / (double)count;
        }
        for (int i = 0; i < n; i++)
        {
            variance[group[i]] += Math.Pow(x[i] - mean[group[i]], 2) / count;
        }
        var xhat = new double[n];
        var y = new double[n];
        var sumG = new double[l.Groups];
        var sumGX = new double[l.Groups];
        var dw = new double[l.Channels];
        var db = new double[l.Channels];
        for (int i = 0; i < n; i++)
        {
            xhat[i] = (x[i] - mean[group[i]]) / Math.Sqrt(variance[group[i]] + eps);
            y[i] = xhat[i] * weight[channel[i]] + bias[channel[i]];
            sumG[group[i]] += grad[i] * weight[channel[i]];
            sumGX[group[i]] += grad[i] * weight[channel[i]] * xhat[i];
            dw[channel[i]] += grad[i] * xhat[i];
            db[channel[i]] += grad[i];
        }
        var dx = new double[n];
        for (int i = 0; i < n; i++)
        {
            int g = group[i];
            dx[i] = (grad[i] * weight[channel[i]] - sumG[g] / count - xhat[i] * sumGX[g] / count) / Math.Sqrt(variance[g] + eps);
        }
        return (mean, variance, y, dx, dw, db);
    }

    private static void AssertClose(double[] expected, float[] actual, string what)
    {
        Assert.HasCount(expected.Length, actual);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.AreEqual(expected[i], actual[i], 2e-5 + 2e-5 * Math.Abs(expected[i]), $"{what}[{i}]");
        }
    }
}
