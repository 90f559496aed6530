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
        Normalization.Moments(x, l, mean, variance);
        Normalization.InverseStd(variance, eps, invStd);
        var y = new float[n];
        Normalization.Forward(x, l, mean, invStd, weight, bias, y);
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
