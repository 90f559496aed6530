using System.Numerics.Tensors;
using AutoGrad.Autograd;
using AutoGrad.Buffers;
using AutoGrad.Kernels;

namespace AutoGrad.Ops;

/// <summary>
/// 2-D cross-correlation (PyTorch's conv2d) of x [N, C, H, W] with weight [O, C, kh, kw] and an optional bias [O], by
/// one of two strategies chosen from the geometry:
/// <list type="bullet">
/// <item>small images with unit stride and dilation (AVX-512): <see cref="DirectConvolution"/> sample by sample, keeping
/// the input for backward; where the output channels come in sixteens, <see cref="ChannelLanes"/> computes the weight
/// gradient (and, with enough taps, the forward) with the channels in the vector lanes instead of the pixels;</item>
/// <item>anything else: fixed groups of samples, im2col of the group side by side into a cache-sized column matrix, one
/// GEMM W[O, C*kh*kw] @ cols[C*kh*kw, group*OH*OW], and the product scattered into the NCHW output with the bias. The
/// column matrices go into one pooled buffer that the node keeps for the weight gradient.</item>
/// </list>
/// Samples (or groups) are spread over the cores; weight and bias gradients are summed per fixed group of samples and
/// the groups added in order, so results do not depend on the thread count. With <c>relu</c> the node also applies
/// max(0, .) to its output (a Sequential fuses Conv2d + ReLU this way) and masks the gradient while reading it; on the
/// direct path it can also take a following 2x2 max pooling (<see cref="ApplyPooled"/>).
/// </summary>
internal sealed class Conv2d : Function
{
    // Samples per group: enough columns for an efficient GEMM, few enough to stay in cache; also the unit of the
    // weight-gradient partial sums.
    private const int SamplesPerGroup = 8;

    private ConvGeometry _geometry;
    private Tensor? _weight;
    private float[]? _columns; // group g's [C*kh*kw, group*OH*OW] matrix starts at g * ColumnsPerGroup
    private Tensor? _input;    // kept instead of the columns by the direct path
    private Tensor? _activated; // the output, when ReLU is fused: its sign is the gradient mask
    private bool _relu;
    private ConvGeometry? _pool;  // a fused 2x2 max pooling of each sample's [O, OH, OW] output (after the ReLU)
    private int[]? _argmax;      // its window winners, per sample

    internal override IReadOnlyDictionary<string, object> Attributes
    {
        get
        {
            var attributes = WithFusedRelu(_geometry.Attributes(), _relu);
            return _pool is null ? attributes : new Dictionary<string, object>(attributes) { ["pool"] = "max2x2" };
        }
    }

    /// <summary>Arguments are validated by the caller; <paramref name="bias"/> may be null.</summary>
    public static Variable Apply(Variable x, Variable weight, Variable? bias, ConvGeometry g, bool relu = false)
        => DirectConvolution.Applies(g) ? ApplyDirect(x, weight, bias, g, relu, pool: false) : ApplyColumns(x, weight, bias, g, relu);

    /// <summary>Whether <see cref="ApplyPooled"/> handles <paramref name="g"/>: the direct path, with at least one 2x2 window.</summary>
    public static bool PoolFuses(in ConvGeometry g) => DirectConvolution.Applies(g) && g.OutHeight >= 2 && g.OutWidth >= 2;

    /// <summary>
    /// Conv2d, ReLU and 2x2 max pooling with stride 2 as one node (what a Sequential of the three runs, where
    /// <see cref="PoolFuses"/>): each sample is pooled while its convolution output is still in cache, and backward
    /// rebuilds that output's gradient one group of samples at a time, so neither full-size tensor exists.
    /// </summary>
    public static Variable ApplyPooled(Variable x, Variable weight, Variable? bias, ConvGeometry g) => ApplyDirect(x, weight, bias, g, relu: true, pool: true);

    /// <summary>The pooling of one sample's [O, OH, OW] convolution output.</summary>
    private static ConvGeometry SamplePool(in ConvGeometry g, int outChannels) => new(1, outChannels, g.OutHeight, g.OutWidth, 2, 2, 2, 2, 0, 0, 1, 1);

    /// <summary>Small images: <see cref="DirectConvolution"/> (or <see cref="ChannelLanes"/>) sample by sample, no column matrices.</summary>
    private static Variable ApplyDirect(Variable x, Variable weight, Variable? bias, ConvGeometry g, bool relu, bool pool)
    {
        int o = weight.Value.Shape[0], plane = g.OutPlane, size = o * plane;
        var input = x.Value;
        var w = weight.Value;
        var b = bias?.Value;
        var pg = SamplePool(g, o);
        int pooledSize = o * pg.OutPlane;
        var output = pool ? Tensor.EmptyOwned([g.Batch, o, pg.OutHeight, pg.OutWidth]) : Tensor.EmptyOwned([g.Batch, o, g.OutHeight, g.OutWidth]);
        var argmax = pool ? BufferPool.RentInts(g.Batch * pooledSize) : null;
        float[]? lanes = null;
        if (ChannelLanes.PaysForForward(g, o))
        {
            lanes = BufferPool.RentFloats(o * g.PatchSize);
            ChannelLanes.PrepareWeights(w.AsReadOnlySpan(), o, g.PatchSize, lanes);
        }
        ForGroups(g.Batch, (long)o * plane * g.PatchSize, (n0, n1, _) =>
        {
            var scratch = BufferPool.RentFloats(lanes is null ? DirectConvolution.ScratchLength(g, o) : ChannelLanes.ForwardScratchLength(g));
            var convolved = pool ? BufferPool.RentFloats(SamplesPerGroup * size) : null; // a few samples' output, pooled from cache
            var biasValues = b is null ? default : b.AsReadOnlySpan();
            for (int first = n0; first < n1; first += SamplesPerGroup)
            {
                int count = Math.Min(SamplesPerGroup, n1 - first);
                var samples = input.AsReadOnlySpan().Slice(first * g.SampleSize, count * g.SampleSize);
                var target = convolved is null ? output.AsSpan().Slice(first * size, count * size) : convolved.AsSpan(0, count * size);
                if (lanes is not null)
                {
                    ChannelLanes.Forward(samples, count, g, lanes, o, biasValues, relu && !pool, target, scratch);
                }
                else
                {
                    for (int s = 0; s < count; s++)
                    {
                        DirectConvolution.Forward(Sample(samples, s, g.SampleSize), g, w.AsReadOnlySpan(), o, biasValues, relu && !pool,
                            target.Slice(s * size, size), scratch);
                    }
                }
                for (int s = 0; pool && s < count; s++)
                {
                    // max(0, .) after the maximum: the same values as before it, on a quarter of them
                    var pooled = output.AsSpan().Slice((first + s) * pooledSize, pooledSize);
                    Pooling.MaxForwardSerial(target.Slice(s * size, size), pg, pooled, argmax.AsSpan((first + s) * pooledSize, pooledSize));
                    TensorPrimitives.Max(pooled, 0f, pooled);
                }
            }
            BufferPool.ReturnFloats(scratch);
            BufferPool.ReturnFloats(convolved);
        });
        BufferPool.ReturnFloats(lanes);
        var node = new Conv2d
        {
            _geometry = g, _input = input, _weight = w, _relu = relu, _activated = relu ? output : null, _pool = pool ? pg : null, _argmax = argmax,
        };
        return bias is null ? node.Record(output, x, weight) : node.Record(output, [x, weight, bias]);
    }

    /// <summary>Any geometry: im2col of each group of samples and one GEMM per group.</summary>
    private static Variable ApplyColumns(Variable x, Variable weight, Variable? bias, ConvGeometry g, bool relu)
    {
        int o = weight.Value.Shape[0], l = g.OutPlane, k = g.PatchSize;
        var input = x.Value;
        var w = weight.Value;
        var b = bias?.Value;
        var output = Tensor.EmptyOwned([g.Batch, o, g.OutHeight, g.OutWidth]);
        int groups = (g.Batch + SamplesPerGroup - 1) / SamplesPerGroup, perGroup = k * SamplesPerGroup * l;
        var allColumns = BufferPool.RentFloats(groups * perGroup);
        ForGroups(groups, (long)SamplesPerGroup * o * l * k, (g0, g1, serial) =>
        {
            var product = BufferPool.RentFloats(o * SamplesPerGroup * l);
            for (int group = g0; group < g1; group++)
            {
                var (first, count) = Members(group, g.Batch);
                int width = count * l;
                var columns = allColumns.AsSpan(group * perGroup, k * width);
                for (int s = 0; s < count; s++)
                {
                    Convolution.Im2Col(Sample(input.AsReadOnlySpan(), first + s, g.SampleSize), g, columns[(s * l)..], width);
                }
                Gemm.Multiply(w.AsReadOnlySpan(), columns, product, o, width, k, serial: serial);
                // product [O, count, L] -> output [count, O, L], adding the bias on the way
                for (int s = 0; s < count; s++)
                {
                    for (int c = 0; c < o; c++)
                    {
                        var source = product.AsSpan(c * width + s * l, l);
                        var target = output.AsSpan().Slice(((first + s) * o + c) * l, l);
                        if (b is null)
                        {
                            source.CopyTo(target);
                        }
                        else
                        {
                            TensorPrimitives.Add(source, b.AsReadOnlySpan()[c], target);
                        }
                        if (relu)
                        {
                            TensorPrimitives.Max(target, 0f, target);
                        }
                    }
                }
            }
            BufferPool.ReturnFloats(product);
        });
        var node = new Conv2d { _geometry = g, _columns = allColumns, _weight = w, _relu = relu, _activated = relu ? output : null };
        return bias is null ? node.Record(output, x, weight) : node.Record(output, [x, weight, bias]);
    }

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        if (_input is not null)
        {
            BackwardDirect(grad, inputGrads);
        }
        else
        {
            BackwardColumns(grad, inputGrads);
        }
    }

    private void BackwardDirect(Tensor grad, Tensor?[] inputGrads)
    {
        var g = _geometry;
        var input = _input!;
        var w = _weight!;
        int o = w.Shape[0], plane = g.OutPlane, taps = g.PatchSize, kernel = g.KernelH * g.KernelW;
        bool needInput = NeedsInputGrad[0], needWeight = NeedsInputGrad[1];
        bool needBias = NeedsInputGrad.Length > 2 && NeedsInputGrad[2];
        int groups = (g.Batch + SamplesPerGroup - 1) / SamplesPerGroup;
        var partials = needWeight ? BufferPool.RentFloats(groups * o * taps) : null;
        var biasPartials = needBias ? BufferPool.RentFloats(groups * o) : null;
        int pooledSize = _pool is { } pool ? o * pool.OutPlane : 0;
        var inputGrad = needInput ? Tensor.EmptyOwned([g.Batch, g.Channels, g.Height, g.Width]) : null;
        bool channelLanes = ChannelLanes.Applies(g, o); // the weight gradient with output channels in the lanes
        float[]? flipped = null;
        if (needInput)
        {
            // [O, C, kh, kw] -> [C, O, kh, kw] with both kernel axes reversed: the input gradient is a correlation with it
            flipped = BufferPool.RentFloats(o * taps);
            var source = w.AsReadOnlySpan();
            for (int oc = 0; oc < o; oc++)
            {
                for (int c = 0; c < g.Channels; c++)
                {
                    for (int t = 0; t < kernel; t++)
                    {
                        flipped[(c * o + oc) * kernel + t] = source[(oc * g.Channels + c) * kernel + kernel - 1 - t];
                    }
                }
            }
        }

        ForGroups(groups, (long)SamplesPerGroup * o * plane * taps * (needInput && needWeight ? 2 : 1), (g0, g1, _) =>
        {
            int size = o * plane;
            var scratch = inputGrad is null ? null : BufferPool.RentFloats(DirectConvolution.ScratchLength(g, o));
            // the direct weight gradient reads a little past its output gradients: it always gets them in a buffer of ours
            bool staged = _activated is not null || partials is not null && !channelLanes;
            var masked = staged ? BufferPool.RentFloats(SamplesPerGroup * size + DirectConvolution.GradientSlack) : null;
            var maskedPooled = _pool is null ? null : BufferPool.RentFloats(SamplesPerGroup * pooledSize);
            var lanes = partials is null || channelLanes ? null : BufferPool.RentFloats(DirectConvolution.LanePartialsLength(g, o));
            var padded = partials is null ? null : BufferPool.RentFloats(channelLanes
                ? ChannelLanes.WeightScratchLength(g, SamplesPerGroup, o)
                : DirectConvolution.WeightScratchLength(g, SamplesPerGroup));
            for (int group = g0; group < g1; group++)
            {
                var (first, count) = Members(group, g.Batch);
                var gys = GroupOutputGrad(grad, first, count, size, masked, maskedPooled);
                for (int s = 0; s < count; s++)
                {
                    var gy = gys.Slice(s * size, size);
                    if (biasPartials is not null)
                    {
                        for (int c = 0; c < o; c++)
                        {
                            float sum = TensorPrimitives.Sum(gy.Slice(c * plane, plane));
                            biasPartials[group * o + c] = s == 0 ? sum : biasPartials[group * o + c] + sum;
                        }
                    }
                    if (inputGrad is not null)
                    {
                        DirectConvolution.InputGradient(gy, g, flipped, o, inputGrad.AsSpan().Slice((first + s) * g.SampleSize, g.SampleSize), scratch);
                    }
                }
                if (partials is not null)
                {
                    var samples = input.AsReadOnlySpan().Slice(first * g.SampleSize, count * g.SampleSize);
                    var groupGrad = partials.AsSpan(group * o * taps, o * taps);
                    if (channelLanes)
                    {
                        ChannelLanes.WeightGradient(samples, count, g, gys, o, groupGrad, padded);
                    }
                    else
                    {
                        DirectConvolution.WeightGradient(samples, count, g, masked.AsSpan(0, count * size + DirectConvolution.GradientSlack), o, lanes,
                            groupGrad, padded);
                    }
                }
            }
            BufferPool.ReturnFloats(scratch);
            BufferPool.ReturnFloats(masked);
            BufferPool.ReturnFloats(maskedPooled);
            BufferPool.ReturnFloats(lanes);
            BufferPool.ReturnFloats(padded);
        });

        inputGrads[0] = inputGrad;
        BufferPool.ReturnFloats(flipped);
        SetGroupTotals(inputGrads, partials, biasPartials, groups, w.ShapeArray);
    }

    /// <summary>
    /// The output gradient of the samples [first, first + count): as given (copied into <paramref name="masked"/> when
    /// there is one), masked by a fused ReLU into <paramref name="masked"/>, or, with a fused pooling, rebuilt there from the pooled gradient (masked by the ReLU
    /// into <paramref name="maskedPooled"/>) by sending each window's gradient to its winner.
    /// </summary>
    private ReadOnlySpan<float> GroupOutputGrad(Tensor grad, int first, int count, int size, float[]? masked, float[]? maskedPooled)
    {
        if (_pool is { } pg)
        {
            int pooledSize = pg.Channels * pg.OutPlane;
            var pooledGrads = maskedPooled.AsSpan(0, count * pooledSize);
            Map.Apply(default(ReluBackwardMap), grad.AsReadOnlySpan().Slice(first * pooledSize, count * pooledSize),
                _activated!.AsReadOnlySpan().Slice(first * pooledSize, count * pooledSize), pooledGrads);
            for (int s = 0; s < count; s++)
            {
                Pooling.MaxBackward2x2Serial(pooledGrads.Slice(s * pooledSize, pooledSize), _argmax.AsSpan((first + s) * pooledSize, pooledSize), pg,
                    masked.AsSpan(s * size, size));
            }
            return masked.AsSpan(0, count * size);
        }
        var given = grad.AsReadOnlySpan().Slice(first * size, count * size);
        if (masked is null)
        {
            return given;
        }
        if (_activated is null)
        {
            given.CopyTo(masked);
            return masked.AsSpan(0, count * size);
        }
        Map.Apply(default(ReluBackwardMap), given, _activated!.AsReadOnlySpan().Slice(first * size, count * size), masked.AsSpan(0, count * size));
        return masked.AsSpan(0, count * size);
    }

    private void BackwardColumns(Tensor grad, Tensor?[] inputGrads)
    {
        var g = _geometry;
        var allColumns = _columns!;
        var w = _weight!;
        int o = w.Shape[0], l = g.OutPlane, k = g.PatchSize;
        bool needInput = NeedsInputGrad[0], needWeight = NeedsInputGrad[1];
        int groups = (g.Batch + SamplesPerGroup - 1) / SamplesPerGroup, perGroup = k * SamplesPerGroup * l;
        var partials = needWeight ? BufferPool.RentFloats(groups * o * k) : null;
        bool needBias = NeedsInputGrad.Length > 2 && NeedsInputGrad[2];
        var biasPartials = needBias ? BufferPool.RentFloats(groups * o) : null;
        var activated = _activated;
        var inputGrad = needInput ? Tensor.EmptyOwned([g.Batch, g.Channels, g.Height, g.Width]) : null;

        ForGroups(groups, (long)SamplesPerGroup * o * l * k * (needInput && needWeight ? 2 : 1), (g0, g1, serial) =>
        {
            var gradT = BufferPool.RentFloats(o * SamplesPerGroup * l);
            var columnGrad = needInput ? BufferPool.RentFloats(k * SamplesPerGroup * l) : null;
            for (int group = g0; group < g1; group++)
            {
                var (first, count) = Members(group, g.Batch);
                int width = count * l;
                // grad [count, O, L] -> [O, count * L], the layout of the forward product (masked by a fused ReLU)
                for (int s = 0; s < count; s++)
                {
                    for (int c = 0; c < o; c++)
                    {
                        int offset = ((first + s) * o + c) * l;
                        var source = grad.AsReadOnlySpan().Slice(offset, l);
                        var target = gradT.AsSpan(c * width + s * l, l);
                        if (activated is null)
                        {
                            source.CopyTo(target);
                        }
                        else
                        {
                            Map.Apply(default(ReluBackwardMap), source, activated.AsReadOnlySpan().Slice(offset, l), target);
                        }
                    }
                }
                if (biasPartials is not null)
                {
                    // bias: the group's gradient summed per channel
                    for (int c = 0; c < o; c++)
                    {
                        biasPartials[group * o + c] = TensorPrimitives.Sum(gradT.AsSpan(c * width, width));
                    }
                }
                if (partials is not null)
                {
                    // weight: gradT @ cols^T for the group
                    Gemm.Multiply(gradT, allColumns.AsSpan(group * perGroup, k * width), partials.AsSpan(group * o * k, o * k), o, k, width,
                        transB: true, serial: serial);
                }
                if (columnGrad is not null)
                {
                    // input: col2im(W^T @ gradT), sample by sample
                    Gemm.Multiply(w.AsReadOnlySpan(), gradT, columnGrad, k, width, o, transA: true, serial: serial);
                    for (int s = 0; s < count; s++)
                    {
                        Convolution.Col2Im(columnGrad.AsSpan(s * l), g, inputGrad!.AsSpan().Slice((first + s) * g.SampleSize, g.SampleSize), width);
                    }
                }
            }
            BufferPool.ReturnFloats(gradT);
            BufferPool.ReturnFloats(columnGrad);
        });

        inputGrads[0] = inputGrad;
        SetGroupTotals(inputGrads, partials, biasPartials, groups, w.ShapeArray);
    }

    /// <summary>The weight and bias gradients from their per-group partials (each given back to the pool afterwards).</summary>
    private static void SetGroupTotals(Tensor?[] inputGrads, float[]? partials, float[]? biasPartials, int groups, int[] weightShape)
    {
        if (partials is not null)
        {
            inputGrads[1] = SumGroups(partials, groups, Shapes.Numel(weightShape)).WithShape((int[])weightShape.Clone());
            BufferPool.ReturnFloats(partials);
        }
        if (biasPartials is not null)
        {
            inputGrads[2] = SumGroups(biasPartials, groups, weightShape[0]);
            BufferPool.ReturnFloats(biasPartials);
        }
    }

    /// <summary>The per-group partial sums added in group order: the same bits for any thread count.</summary>
    private static Tensor SumGroups(float[] partials, int groups, int size)
    {
        var total = Tensor.EmptyOwned([size]);
        var sum = total.AsSpan();
        partials.AsSpan(0, size).CopyTo(sum);
        for (int group = 1; group < groups; group++)
        {
            TensorPrimitives.Add(sum, partials.AsSpan(group * size, size), sum);
        }
        return total;
    }

    private static (int First, int Count) Members(int group, int batch)
    {
        int first = group * SamplesPerGroup;
        return (first, Math.Min(SamplesPerGroup, batch - first));
    }

    private static ReadOnlySpan<float> Sample(ReadOnlySpan<float> batch, int n, int size) => batch.Slice(n * size, size);

    /// <summary>
    /// Runs <paramref name="body"/> over groups [0, count): split across the cores with each product kept on its
    /// thread when there are enough groups, else on this thread with each product free to use the cores.
    /// </summary>
    private static void ForGroups(int count, long workPerItem, Action<int, int, bool> body)
    {
        if (count >= 2 * Parallelism.MaxThreads)
        {
            ForGroupsInParallel(count, workPerItem, body);
        }
        else
        {
            body(0, count, false);
        }
    }

    // A method of its own so that the single-thread path does not allocate the closure.
    private static void ForGroupsInParallel(int count, long workPerItem, Action<int, int, bool> body)
        => ParallelRanges.For(count, count * workPerItem, (start, end) => body(start, end, true));

    protected override void ReleaseSaved()
    {
        BufferPool.ReturnFloats(_columns);
        BufferPool.ReturnInts(_argmax);
        _argmax = null;
        (_columns, _weight, _activated, _input) = (null, null, null, null);
    }
}
