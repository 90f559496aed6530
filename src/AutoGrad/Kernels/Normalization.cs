using System.Numerics;

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
/// Span kernels of BatchNorm, LayerNorm and GroupNorm over a <see cref="NormLayout"/>: the statistics with the
/// normalized affine output in one call (the group's data still in cache for the second pass), the fused backward in
/// two passes, and the running-statistics update. Sums of a group accumulate in double, so a large group (BatchNorm over
/// a whole batch of images) loses no precision to float round-off.
/// The groups are cut into blocks of a size fixed by the layout, which go to the workers; the weight and bias
/// gradients are summed per block and the blocks' sums added in block order, so the bits do not depend on the thread count.
/// </summary>
internal static unsafe class Normalization
{
    /// <summary>Elements per block: some tens of microseconds of work against a wake-up of a few.</summary>
    internal const int BlockElements = 1 << 14;

    /// <summary>
    /// mean, variance (biased) and invStd = 1 / sqrt(variance + eps) of each group from x, then y = (x - mean) invStd
    /// weight + bias; an empty weight or bias is 1 or 0.
    /// </summary>
    public static void ForwardWithBatchStatistics(ReadOnlySpan<float> x, in NormLayout layout, float eps, ReadOnlySpan<float> weight,
        ReadOnlySpan<float> bias, Span<float> y, Span<float> mean, Span<float> variance, Span<float> invStd)
        => Forward(x, layout, eps, computeStatistics: true, weight, bias, y, mean, variance, invStd);

    /// <summary>y = (x - mean) invStd weight + bias with the given statistics; an empty weight or bias is 1 or 0.</summary>
    public static void Forward(ReadOnlySpan<float> x, in NormLayout layout, ReadOnlySpan<float> mean, ReadOnlySpan<float> invStd,
        ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y)
    {
        fixed (float* pm = mean, ps = invStd)
        {
            // the statistics are only read when they are not computed
            Forward(x, layout, 0, computeStatistics: false, weight, bias, y, new Span<float>(pm, mean.Length), default, new Span<float>(ps, invStd.Length));
        }
    }

    private static void Forward(ReadOnlySpan<float> x, in NormLayout layout, float eps, bool computeStatistics, ReadOnlySpan<float> weight,
        ReadOnlySpan<float> bias, Span<float> y, Span<float> mean, Span<float> variance, Span<float> invStd)
    {
        int n = layout.Groups * layout.GroupSize;
        Check(x.Length == n && y.Length == n && mean.Length == layout.Groups && invStd.Length == layout.Groups
            && (!computeStatistics || variance.Length == layout.Groups) && Affine(weight, layout) && Affine(bias, layout), layout);
        fixed (float* px = x, pw = weight, pb = bias, py = y, pm = mean, pv = variance, ps = invStd)
        {
            var job = new Job(layout, px, null, pw, pb, py, pm, ps) { Variance = pv, Eps = eps, BatchStatistics = computeStatistics };
            Blocks(layout, n, job, static (in Job j, int _, int g0, int g1) => j.ForwardGroups(g0, g1));
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

    /// <summary>
    /// The fused backward, with xhat = (x - mean) invStd and ghat = grad weight:
    /// dx = invStd (ghat - mean(ghat) - xhat mean(ghat xhat)) when the statistics came from x (<paramref name="batchStats"/>),
    /// dx = invStd ghat when they are constants (BatchNorm in eval mode); dweight = sum(grad xhat), dbias = sum(grad)
    /// per channel. Empty destinations are skipped; dweight and dbias are added to.
    /// </summary>
    public static void Backward(ReadOnlySpan<float> grad, ReadOnlySpan<float> x, in NormLayout layout, ReadOnlySpan<float> mean,
        ReadOnlySpan<float> invStd, ReadOnlySpan<float> weight, bool batchStats, Span<float> dx, Span<float> dweight, Span<float> dbias)
    {
        int n = layout.Groups * layout.GroupSize, channels = layout.Channels;
        Check(x.Length == n && grad.Length == n && (dx.IsEmpty || dx.Length == n) && mean.Length == layout.Groups && invStd.Length == layout.Groups
            && Affine(weight, layout) && Affine(dweight, layout) && Affine(dbias, layout), layout);
        int blocks = BlockCount(layout, out _);
        bool affine = !dweight.IsEmpty || !dbias.IsEmpty;
        // per block: the weight gradient's sums, then the bias gradient's
        float[]? partials = affine ? Buffers.BufferPool.RentFloats(blocks * 2 * channels) : null;
        fixed (float* pg = grad, px = x, pm = mean, ps = invStd, pw = weight, pdx = dx, pp = partials)
        {
            if (partials is not null)
            {
                new Span<float>(pp, blocks * 2 * channels).Clear();
            }
            var job = new Job(layout, px, pg, pw, null, pdx, pm, ps) { Partials = pp, BatchStatistics = batchStats, Affine = affine };
            Blocks(layout, n, job, static (in Job j, int block, int g0, int g1) => j.BackwardGroups(block, g0, g1));
            for (int b = 0; partials is not null && b < blocks; b++)
            {
                for (int c = 0; c < channels; c++)
                {
                    if (!dweight.IsEmpty)
                    {
                        dweight[c] += pp[(2 * b) * channels + c];
                    }
                    if (!dbias.IsEmpty)
                    {
                        dbias[c] += pp[(2 * b + 1) * channels + c];
                    }
                }
            }
        }
        Buffers.BufferPool.ReturnFloats(partials);
    }

    private delegate void GroupsBody(in Job job, int block, int firstGroup, int endGroup);

    /// <summary>Blocks of consecutive groups of about <see cref="BlockElements"/> elements, fixed by the layout alone.</summary>
    private static int BlockCount(in NormLayout layout, out int groupsPerBlock)
    {
        groupsPerBlock = Math.Max(1, BlockElements / Math.Max(1, layout.GroupSize));
        return (layout.Groups + groupsPerBlock - 1) / groupsPerBlock;
    }

    private static void Blocks(in NormLayout layout, int elements, Job job, GroupsBody body)
    {
        int blocks = BlockCount(layout, out int perBlock), groups = layout.Groups;
        if (blocks <= 1 || elements < 2 * BlockElements || Parallelism.MaxThreads <= 1)
        {
            for (int b = 0; b < blocks; b++)
            {
                body(job, b, b * perBlock, Math.Min(groups, (b + 1) * perBlock));
            }
            return;
        }
        Workers.Run(blocks, b => body(job, b, b * perBlock, Math.Min(groups, (b + 1) * perBlock)));
    }

    private static bool Affine(ReadOnlySpan<float> values, in NormLayout layout) => values.IsEmpty || values.Length == layout.Channels;

    private static void Check(bool valid, in NormLayout layout)
    {
        if (!valid)
        {
            throw new ArgumentException($"Normalization: buffer lengths do not fit the layout {layout}.");
        }
    }

    /// <summary>One call's operands as pointers (a null weight or bias is 1 or 0), shared by its blocks.</summary>
    private readonly struct Job(NormLayout layout, float* x, float* grad, float* weight, float* bias, float* output, float* mean, float* invStd)
    {
        public float* Variance { get; init; }

        public float Eps { get; init; }

        public bool BatchStatistics { get; init; }

        public bool Affine { get; init; }

        /// <summary>Per block, 2 x Channels floats: the block's sums for dweight, then for dbias.</summary>
        public float* Partials { get; init; }

        private long Offset(int outer, int group) => ((long)outer * layout.Groups + group) * layout.Segment;

        public void ForwardGroups(int g0, int g1)
        {
            int segment = layout.Segment, run = layout.Run;
            for (int group = g0; group < g1; group++)
            {
                if (BatchStatistics)
                {
                    double sum = 0;
                    for (int a = 0; a < layout.Outer; a++)
                    {
                        sum += Sum(x + Offset(a, group), segment);
                    }
                    float m = (float)(sum / layout.GroupSize);
                    double squares = 0;
                    for (int a = 0; a < layout.Outer; a++)
                    {
                        squares += SquaredDeviations(x + Offset(a, group), segment, m);
                    }
                    float v = (float)(squares / layout.GroupSize);
                    (mean[group], Variance[group], invStd[group]) = (m, v, 1f / MathF.Sqrt(v + Eps));
                }
                float mu = mean[group], s = invStd[group];
                int channel0 = group % layout.Period * layout.Runs;
                for (int a = 0; a < layout.Outer; a++)
                {
                    float* source = x + Offset(a, group), destination = output + Offset(a, group);
                    if (run == 1)
                    {
                        // the weight runs along the segment (LayerNorm)
                        NormalizeAlong(source, destination, segment, mu, s, weight is null ? null : weight + channel0, bias is null ? null : bias + channel0);
                        continue;
                    }
                    for (int k = 0; k < layout.Runs; k++)
                    {
                        float w = weight is null ? 1f : weight[channel0 + k], b = bias is null ? 0f : bias[channel0 + k];
                        NormalizeRun(source + k * run, destination + k * run, run, mu, s * w, b);
                    }
                }
            }
        }

        public void BackwardGroups(int block, int g0, int g1)
        {
            int segment = layout.Segment, run = layout.Run, channels = layout.Channels;
            float* dweight = Partials + (long)block * 2 * channels, dbias = dweight + channels;
            for (int group = g0; group < g1; group++)
            {
                float mu = mean[group], s = invStd[group];
                int channel0 = group % layout.Period * layout.Runs;
                double sumG = 0, sumGX = 0; // sums of ghat and of ghat (x - mean)
                if (BatchStatistics || Affine)
                {
                    for (int a = 0; a < layout.Outer; a++)
                    {
                        float* g = grad + Offset(a, group), xs = x + Offset(a, group);
                        if (run == 1)
                        {
                            var (sg, sgx) = SumsAlong(g, xs, segment, mu, s, weight is null ? null : weight + channel0,
                                Affine ? dweight + channel0 : null, Affine ? dbias + channel0 : null);
                            (sumG, sumGX) = (sumG + sg, sumGX + sgx);
                            continue;
                        }
                        for (int k = 0; k < layout.Runs; k++)
                        {
                            var (sg, sgx) = Sums(g + k * run, xs + k * run, run, mu);
                            float w = weight is null ? 1f : weight[channel0 + k];
                            (sumG, sumGX) = (sumG + (double)w * sg, sumGX + (double)w * sgx);
                            if (Affine)
                            {
                                dweight[channel0 + k] += s * sgx;
                                dbias[channel0 + k] += sg;
                            }
                        }
                    }
                }
                if (output is null)
                {
                    continue;
                }
                // with xhat = (x - mean) invStd and n the group size, invStd (ghat - sumG / n - xhat invStd sumGX / n)
                // = ghat invStd + (x - mean) slope + offset, slope = -invStd^3 sumGX / n, offset = -invStd sumG / n
                float slope = BatchStatistics ? (float)(-(double)s * s * s * sumGX / layout.GroupSize) : 0f;
                float offset = BatchStatistics ? (float)(-(double)s * sumG / layout.GroupSize) : 0f;
                for (int a = 0; a < layout.Outer; a++)
                {
                    float* g = grad + Offset(a, group), xs = x + Offset(a, group), d = output + Offset(a, group);
                    if (run == 1)
                    {
                        InputGradientAlong(g, xs, d, segment, mu, s, weight is null ? null : weight + channel0, slope, offset);
                        continue;
                    }
                    for (int k = 0; k < layout.Runs; k++)
                    {
                        float w = weight is null ? 1f : weight[channel0 + k];
                        InputGradientRun(g + k * run, xs + k * run, d + k * run, run, mu, s * w, slope, offset);
                    }
                }
            }
        }
    }

    // The loops over one contiguous run, vector body and scalar tail. Two accumulators hide the add latency.

    private static float Sum(float* x, int n)
    {
        int i = 0, w = Vector<float>.Count;
        Vector<float> acc0 = default, acc1 = default;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= n - 2 * w; i += 2 * w)
            {
                acc0 += Vector.Load(x + i);
                acc1 += Vector.Load(x + i + w);
            }
            for (; i <= n - w; i += w)
            {
                acc0 += Vector.Load(x + i);
            }
        }
        float sum = Vector.Sum(acc0 + acc1);
        for (; i < n; i++)
        {
            sum += x[i];
        }
        return sum;
    }

    private static float SquaredDeviations(float* x, int n, float mean)
    {
        int i = 0, w = Vector<float>.Count;
        var m = new Vector<float>(mean);
        Vector<float> acc0 = default, acc1 = default;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= n - 2 * w; i += 2 * w)
            {
                var d0 = Vector.Load(x + i) - m;
                var d1 = Vector.Load(x + i + w) - m;
                acc0 = Vector.FusedMultiplyAdd(d0, d0, acc0);
                acc1 = Vector.FusedMultiplyAdd(d1, d1, acc1);
            }
            for (; i <= n - w; i += w)
            {
                var d = Vector.Load(x + i) - m;
                acc0 = Vector.FusedMultiplyAdd(d, d, acc0);
            }
        }
        float sum = Vector.Sum(acc0 + acc1);
        for (; i < n; i++)
        {
            float d = x[i] - mean;
            sum = MathF.FusedMultiplyAdd(d, d, sum);
        }
        return sum;
    }

    /// <summary>y = (x - mean) scale + shift over a run of one channel.</summary>
    private static void NormalizeRun(float* x, float* y, int n, float mean, float scale, float shift)
    {
        int i = 0, w = Vector<float>.Count;
        if (Vector.IsHardwareAccelerated)
        {
            Vector<float> m = new(mean), a = new(scale), b = new(shift);
            for (; i <= n - w; i += w)
            {
                Vector.Store(Vector.FusedMultiplyAdd(Vector.Load(x + i) - m, a, b), y + i);
            }
        }
        for (; i < n; i++)
        {
            y[i] = MathF.FusedMultiplyAdd(x[i] - mean, scale, shift);
        }
    }

    /// <summary>y = (x - mean) invStd weight + bias with the weight and bias running along the segment (null: 1 and 0).</summary>
    private static void NormalizeAlong(float* x, float* y, int n, float mean, float invStd, float* weight, float* bias)
    {
        int i = 0, w = Vector<float>.Count;
        if (Vector.IsHardwareAccelerated)
        {
            Vector<float> m = new(mean), s = new(invStd);
            for (; i <= n - w; i += w)
            {
                var xhat = (Vector.Load(x + i) - m) * s;
                var scale = weight is null ? Vector<float>.One : Vector.Load(weight + i);
                var shift = bias is null ? Vector<float>.Zero : Vector.Load(bias + i);
                Vector.Store(Vector.FusedMultiplyAdd(xhat, scale, shift), y + i);
            }
        }
        for (; i < n; i++)
        {
            y[i] = MathF.FusedMultiplyAdd((x[i] - mean) * invStd, weight is null ? 1f : weight[i], bias is null ? 0f : bias[i]);
        }
    }

    /// <summary>(sum of grad, sum of grad (x - mean)) over a run of one channel.</summary>
    private static (float Grad, float GradX) Sums(float* grad, float* x, int n, float mean)
    {
        int i = 0, w = Vector<float>.Count;
        Vector<float> m = new(mean), g0 = default, g1 = default, gx0 = default, gx1 = default;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= n - 2 * w; i += 2 * w)
            {
                var a = Vector.Load(grad + i);
                var b = Vector.Load(grad + i + w);
                g0 += a;
                g1 += b;
                gx0 = Vector.FusedMultiplyAdd(a, Vector.Load(x + i) - m, gx0);
                gx1 = Vector.FusedMultiplyAdd(b, Vector.Load(x + i + w) - m, gx1);
            }
            for (; i <= n - w; i += w)
            {
                var a = Vector.Load(grad + i);
                g0 += a;
                gx0 = Vector.FusedMultiplyAdd(a, Vector.Load(x + i) - m, gx0);
            }
        }
        float sg = Vector.Sum(g0 + g1), sgx = Vector.Sum(gx0 + gx1);
        for (; i < n; i++)
        {
            sg += grad[i];
            sgx = MathF.FusedMultiplyAdd(grad[i], x[i] - mean, sgx);
        }
        return (sg, sgx);
    }

    /// <summary>
    /// Along a segment whose weight runs with it (LayerNorm): returns (sum of ghat, sum of ghat (x - mean)) with ghat =
    /// grad weight, and adds grad xhat to dweight and grad to dbias element by element (where not null).
    /// </summary>
    private static (float Grad, float GradX) SumsAlong(float* grad, float* x, int n, float mean, float invStd, float* weight, float* dweight, float* dbias)
    {
        int i = 0, w = Vector<float>.Count;
        Vector<float> m = new(mean), s = new(invStd), g0 = default, gx0 = default;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= n - w; i += w)
            {
                var g = Vector.Load(grad + i);
                var d = Vector.Load(x + i) - m;
                var ghat = weight is null ? g : g * Vector.Load(weight + i);
                g0 += ghat;
                gx0 = Vector.FusedMultiplyAdd(ghat, d, gx0);
                if (dweight is not null)
                {
                    Vector.Store(Vector.FusedMultiplyAdd(g, d * s, Vector.Load(dweight + i)), dweight + i);
                    Vector.Store(Vector.Load(dbias + i) + g, dbias + i);
                }
            }
        }
        float sg = Vector.Sum(g0), sgx = Vector.Sum(gx0);
        for (; i < n; i++)
        {
            float g = grad[i], d = x[i] - mean, ghat = weight is null ? g : g * weight[i];
            sg += ghat;
            sgx = MathF.FusedMultiplyAdd(ghat, d, sgx);
            if (dweight is not null)
            {
                dweight[i] = MathF.FusedMultiplyAdd(g, d * invStd, dweight[i]);
                dbias[i] += g;
            }
        }
        return (sg, sgx);
    }

    /// <summary>dx = grad scale + (x - mean) slope + offset over a run of one channel (scale = invStd weight).</summary>
    private static void InputGradientRun(float* grad, float* x, float* dx, int n, float mean, float scale, float slope, float offset)
    {
        int i = 0, w = Vector<float>.Count;
        if (Vector.IsHardwareAccelerated)
        {
            Vector<float> m = new(mean), a = new(scale), b = new(slope), c = new(offset);
            for (; i <= n - w; i += w)
            {
                Vector.Store(Vector.FusedMultiplyAdd(Vector.Load(grad + i), a, Vector.FusedMultiplyAdd(Vector.Load(x + i) - m, b, c)), dx + i);
            }
        }
        for (; i < n; i++)
        {
            dx[i] = MathF.FusedMultiplyAdd(grad[i], scale, MathF.FusedMultiplyAdd(x[i] - mean, slope, offset));
        }
    }

    /// <summary>dx = grad weight invStd + (x - mean) slope + offset with the weight running along the segment (null: 1).</summary>
    private static void InputGradientAlong(float* grad, float* x, float* dx, int n, float mean, float invStd, float* weight, float slope, float offset)
    {
        int i = 0, w = Vector<float>.Count;
        if (Vector.IsHardwareAccelerated)
        {
            Vector<float> m = new(mean), s = new(invStd), b = new(slope), c = new(offset);
            for (; i <= n - w; i += w)
            {
                var ghat = weight is null ? Vector.Load(grad + i) : Vector.Load(grad + i) * Vector.Load(weight + i);
                Vector.Store(Vector.FusedMultiplyAdd(ghat, s, Vector.FusedMultiplyAdd(Vector.Load(x + i) - m, b, c)), dx + i);
            }
        }
        for (; i < n; i++)
        {
            float ghat = weight is null ? grad[i] : grad[i] * weight[i];
            dx[i] = MathF.FusedMultiplyAdd(ghat, invStd, MathF.FusedMultiplyAdd(x[i] - mean, slope, offset));
        }
    }
}
