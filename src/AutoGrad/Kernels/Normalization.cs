using System.Numerics.Tensors;

namespace AutoGrad.Kernels;

/// <summary>
/// The one shape every normalization shares: the contiguous input seen as [Outer, Rows, Period, Runs, Run], with
/// statistics per group (row, period) over (outer, runs, run) and the affine weight per channel (period, runs).
/// <list type="bullet">
/// <item>BatchNorm over [N, C, L]: [N, 1, C, 1, L] (a group is a channel);</item>
/// <item>LayerNorm over [M, K]: [1, M, 1, K, 1] (a group is a row, the weight runs along it);</item>
/// <item>GroupNorm over [N, C, L] in G groups: [1, N, G, C/G, L].</item>
/// </list>
/// </summary>
internal readonly record struct NormLayout(int Outer, int Rows, int Period, int Runs, int Run)
{
    /// <summary>How many means and variances there are.</summary>
    public int Groups => Rows * Period;

    /// <summary>How many elements one mean averages.</summary>
    public int GroupSize => Outer * Runs * Run;

    /// <summary>The length of the affine weight and bias.</summary>
    public int Channels => Period * Runs;

    /// <summary>The contiguous floats of one group in one outer slice.</summary>
    public int Segment => Runs * Run;

    /// <summary>The input's shape as the five-dim view.</summary>
    public int[] View => [Outer, Rows, Period, Runs, Run];

    /// <summary>The affine weight's shape broadcast against <see cref="View"/>.</summary>
    public int[] AffineView => [1, 1, Period, Runs, 1];

    /// <summary>The statistics' shape broadcast against <see cref="View"/>.</summary>
    public int[] StatsView => [1, Rows, Period, 1, 1];
}

/// <summary>
/// Span kernels of BatchNorm, LayerNorm and GroupNorm over a <see cref="NormLayout"/>: moments, the normalized affine
/// output, the fused backward and the running-statistics update. Sums of a group accumulate in double, so a large
/// group (BatchNorm over a whole batch of images) loses no precision to float round-off.
/// </summary>
internal static class Normalization
{
    /// <summary>The mean and the biased variance of each group, in two passes (stable for a large mean).</summary>
    public static void Moments(ReadOnlySpan<float> x, in NormLayout layout, Span<float> mean, Span<float> variance)
    {
        var centered = new float[layout.Segment];
        for (int group = 0; group < layout.Groups; group++)
        {
            double sum = 0;
            for (int a = 0; a < layout.Outer; a++)
            {
                sum += TensorPrimitives.Sum(Segment(x, layout, a, group));
            }
            float m = (float)(sum / layout.GroupSize);
            double squares = 0;
            for (int a = 0; a < layout.Outer; a++)
            {
                TensorPrimitives.Subtract(Segment(x, layout, a, group), m, centered);
                squares += TensorPrimitives.SumOfSquares(centered);
            }
            mean[group] = m;
            variance[group] = (float)(squares / layout.GroupSize);
        }
    }

    /// <summary>invStd = 1 / sqrt(variance + eps), as PyTorch computes it.</summary>
    public static void InverseStd(ReadOnlySpan<float> variance, float eps, Span<float> invStd)
    {
        for (int i = 0; i < variance.Length; i++)
        {
            invStd[i] = 1f / MathF.Sqrt(variance[i] + eps);
        }
    }

    /// <summary>
    /// running = (1 - momentum) running + momentum batch, with the variance made unbiased (times n / (n - 1)) first, as
    /// PyTorch keeps it.
    /// </summary>
    public static void UpdateRunning(ReadOnlySpan<float> mean, ReadOnlySpan<float> variance, int count, float momentum,
        Span<float> runningMean, Span<float> runningVar)
    {
        float unbias = count > 1 ? (float)count / (count - 1) : 1f;
        for (int i = 0; i < mean.Length; i++)
        {
            runningMean[i] = momentum * mean[i] + (1 - momentum) * runningMean[i];
            runningVar[i] = momentum * variance[i] * unbias + (1 - momentum) * runningVar[i];
        }
    }

    /// <summary>y = (x - mean) invStd weight + bias, per group and channel; an empty weight or bias is 1 or 0.</summary>
    public static void Forward(ReadOnlySpan<float> x, in NormLayout layout, ReadOnlySpan<float> mean, ReadOnlySpan<float> invStd,
        ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y)
    {
        for (int group = 0; group < layout.Groups; group++)
        {
            int channel0 = group % layout.Period * layout.Runs;
            for (int a = 0; a < layout.Outer; a++)
            {
                var source = Segment(x, layout, a, group);
                var destination = Segment(y, layout, a, group);
                TensorPrimitives.Subtract(source, mean[group], destination);
                TensorPrimitives.Multiply(destination, invStd[group], destination);
                if (layout.Run == 1)
                {
                    // the weight runs along the segment (LayerNorm)
                    if (!weight.IsEmpty)
                    {
                        TensorPrimitives.Multiply(destination, weight.Slice(channel0, layout.Runs), destination);
                    }
                    if (!bias.IsEmpty)
                    {
                        TensorPrimitives.Add(destination, bias.Slice(channel0, layout.Runs), destination);
                    }
                    continue;
                }
                for (int k = 0; k < layout.Runs; k++)
                {
                    var run = destination.Slice(k * layout.Run, layout.Run);
                    float w = weight.IsEmpty ? 1f : weight[channel0 + k], b = bias.IsEmpty ? 0f : bias[channel0 + k];
                    TensorPrimitives.Multiply(run, w, run);
                    TensorPrimitives.Add(run, b, run);
                }
            }
        }
    }

    /// <summary>
    /// The fused backward, with xhat = (x - mean) invStd and ghat = grad weight:
    /// dx = invStd (ghat - mean(ghat) - xhat mean(ghat xhat)) when the statistics came from x (<paramref name="batchStats"/>),
    /// dx = invStd ghat when they are constants (BatchNorm in eval mode); dweight = sum(grad xhat), dbias = sum(grad)
    /// per channel. Empty destinations are skipped; dweight and dbias must come zeroed.
    /// </summary>
    public static void Backward(ReadOnlySpan<float> grad, ReadOnlySpan<float> x, in NormLayout layout, ReadOnlySpan<float> mean,
        ReadOnlySpan<float> invStd, ReadOnlySpan<float> weight, bool batchStats, Span<float> dx, Span<float> dweight, Span<float> dbias)
    {
        var xhat = new float[layout.Segment];
        var ghat = new float[layout.Segment];
        for (int group = 0; group < layout.Groups; group++)
        {
            int channel0 = group % layout.Period * layout.Runs;
            double sumG = 0, sumGX = 0;
            if (batchStats || !dweight.IsEmpty || !dbias.IsEmpty)
            {
                for (int a = 0; a < layout.Outer; a++)
                {
                    var g = Segment(grad, layout, a, group);
                    Prepare(g, Segment(x, layout, a, group), layout, mean[group], invStd[group], weight, channel0, xhat, ghat);
                    sumG += TensorPrimitives.Sum(ghat);
                    sumGX += TensorPrimitives.Dot(ghat, xhat);
                    AccumulateAffine(g, xhat, layout, channel0, dweight, dbias);
                }
            }
            if (dx.IsEmpty)
            {
                continue;
            }
            float meanG = (float)(sumG / layout.GroupSize), meanGX = (float)(sumGX / layout.GroupSize);
            for (int a = 0; a < layout.Outer; a++)
            {
                var d = Segment(dx, layout, a, group);
                Prepare(Segment(grad, layout, a, group), Segment(x, layout, a, group), layout, mean[group], invStd[group], weight, channel0, xhat, ghat);
                if (batchStats)
                {
                    TensorPrimitives.Subtract(ghat, meanG, d);
                    TensorPrimitives.MultiplyAdd(xhat, -meanGX, d, d);
                    TensorPrimitives.Multiply(d, invStd[group], d);
                }
                else
                {
                    TensorPrimitives.Multiply(ghat, invStd[group], d);
                }
            }
        }
    }

    // xhat and ghat of one segment
    private static void Prepare(ReadOnlySpan<float> grad, ReadOnlySpan<float> x, in NormLayout layout, float mean, float invStd,
        ReadOnlySpan<float> weight, int channel0, Span<float> xhat, Span<float> ghat)
    {
        TensorPrimitives.Subtract(x, mean, xhat);
        TensorPrimitives.Multiply(xhat, invStd, xhat);
        if (weight.IsEmpty)
        {
            grad.CopyTo(ghat);
        }
        else if (layout.Run == 1)
        {
            TensorPrimitives.Multiply(grad, weight.Slice(channel0, layout.Runs), ghat);
        }
        else
        {
            for (int k = 0; k < layout.Runs; k++)
            {
                TensorPrimitives.Multiply(grad.Slice(k * layout.Run, layout.Run), weight[channel0 + k], ghat.Slice(k * layout.Run, layout.Run));
            }
        }
    }

    private static void AccumulateAffine(ReadOnlySpan<float> grad, ReadOnlySpan<float> xhat, in NormLayout layout, int channel0,
        Span<float> dweight, Span<float> dbias)
    {
        if (layout.Run == 1)
        {
            if (!dweight.IsEmpty)
            {
                var w = dweight.Slice(channel0, layout.Runs);
                TensorPrimitives.MultiplyAdd(grad, xhat, w, w);
            }
            if (!dbias.IsEmpty)
            {
                var b = dbias.Slice(channel0, layout.Runs);
                TensorPrimitives.Add(b, grad, b);
            }
            return;
        }
        for (int k = 0; k < layout.Runs; k++)
        {
            var g = grad.Slice(k * layout.Run, layout.Run);
            if (!dweight.IsEmpty)
            {
                dweight[channel0 + k] += TensorPrimitives.Dot(g, xhat.Slice(k * layout.Run, layout.Run));
            }
            if (!dbias.IsEmpty)
            {
                dbias[channel0 + k] += TensorPrimitives.Sum(g);
            }
        }
    }

    private static ReadOnlySpan<float> Segment(ReadOnlySpan<float> data, in NormLayout layout, int outer, int group)
        => data.Slice((outer * layout.Groups + group) * layout.Segment, layout.Segment);

    private static Span<float> Segment(Span<float> data, in NormLayout layout, int outer, int group)
        => data.Slice((outer * layout.Groups + group) * layout.Segment, layout.Segment);
}
