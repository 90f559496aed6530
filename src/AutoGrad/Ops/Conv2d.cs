using System.Numerics.Tensors;
using AutoGrad.Graph;
using AutoGrad.Buffers;
using AutoGrad.Kernels;

namespace AutoGrad.Ops;

/// <summary>
/// 2-D cross-correlation (PyTorch's conv2d) of x [N, C, H, W] with weight [O, C, kh, kw] and an optional bias [O],
/// y = conv(x, w) + b, optionally followed in the same node by max(0, .) and by a 2x2 max pooling (fusions that a
/// Sequential, or a Module through the public fused entry points, asks for). The node owns the chain rule and runs
/// fixed groups of samples (spread over the cores when there are enough); a <see cref="ConvolutionAlgorithm"/> chosen by
/// geometry and vector width computes each group: im2col and GEMM, the direct convolution, or the direct convolution
/// with the output channels in the vector lanes. Weight and bias gradients are summed per group and the groups added
/// in order, so results do not depend on the thread count.
/// </summary>
internal sealed class Conv2dFunction : Function
{
    private protected override SavedTensors Saves => _relu ? SavedTensors.Inputs01 | SavedTensors.Output : SavedTensors.Inputs01;

    private const int SamplesPerGroup = ConvolutionAlgorithm.SamplesPerGroup;

    private ConvGeometry _geometry;
    private ConvolutionAlgorithm? _algorithm; // keeps what its backward needs
    private Tensor? _activated; // the output, when ReLU is fused: its sign is the gradient mask
    private bool _relu;
    private ConvGeometry? _pool;  // a fused 2x2 max pooling of each sample's [O, OH, OW] output (after the ReLU)
    private int[]? _argmax;      // its window winners, per sample

    internal override OpKind Kind => OpKind.Conv2d;

    internal override OpSettings Settings => new ConvSettings(Window.Of(_geometry), _relu ? Activation.Relu : Activation.None, _pool is not null);

    /// <summary>Arguments are validated by the caller; <paramref name="bias"/> may be null.</summary>
    public static Variable Apply(Variable x, Variable weight, Variable? bias, ConvGeometry g, bool relu = false) => Run(x, weight, bias, g, relu, pool: false);

    /// <summary>Whether <see cref="ApplyPooled"/> handles <paramref name="g"/>: a direct algorithm, with at least one 2x2 window.</summary>
    public static bool PoolFuses(in ConvGeometry g) => DirectAlgorithm.Applies(g) && g.OutHeight >= 2 && g.OutWidth >= 2;

    /// <summary>
    /// Conv2d, ReLU and 2x2 max pooling with stride 2 as one node (where <see cref="PoolFuses"/>): each group of samples
    /// is pooled while its convolution output is still in cache, and backward rebuilds that output's gradient one
    /// group at a time, so neither full-size tensor exists.
    /// </summary>
    public static Variable ApplyPooled(Variable x, Variable weight, Variable? bias, ConvGeometry g) => Run(x, weight, bias, g, relu: true, pool: true);

    /// <summary>The pooling of one sample's [O, OH, OW] convolution output.</summary>
    private static ConvGeometry SamplePool(in ConvGeometry g, int outChannels) => new(1, outChannels, g.OutHeight, g.OutWidth, 2, 2, 2, 2, 0, 0, 1, 1);

    private static Variable Run(Variable x, Variable weight, Variable? bias, ConvGeometry g, bool relu, bool pool)
    {
        int o = weight.Value.Shape[0], size = o * g.OutPlane;
        // under NoGrad (or when nothing needs a gradient) the algorithm keeps nothing and the pooling no winners
        bool saving = GradMode.IsEnabled && (x.RequiresGrad || weight.RequiresGrad || bias is { RequiresGrad: true });
        var algorithm = ConvolutionAlgorithm.For(g, o);
        algorithm.BeginForward(x.Value, weight.Value, saving);
        var pg = SamplePool(g, o);
        int pooledSize = o * pg.OutPlane;
        var output = pool ? Tensor.EmptyOwned([g.Batch, o, pg.OutHeight, pg.OutWidth]) : Tensor.EmptyOwned([g.Batch, o, g.OutHeight, g.OutWidth]);
        var argmax = pool && saving ? BufferPool.RentInts(g.Batch * pooledSize) : null;
        var b = bias?.Value;
        int groups = SampleGroups.Count(g.Batch);
        SampleGroups.For(groups, SamplesPerGroup * algorithm.WorkPerSample, (g0, g1, serial) =>
        {
            var scratch = algorithm.RentForwardScratch();
            var convolved = pool ? BufferPool.RentFloats(SamplesPerGroup * size) : null; // a group's output, pooled from cache
            var winners = pool && argmax is null ? BufferPool.RentInts(SamplesPerGroup * pooledSize) : null;
            for (int group = g0; group < g1; group++)
            {
                var (first, count) = SampleGroups.Members(group, g.Batch);
                var target = convolved is null ? output.AsSpan().Slice(first * size, count * size) : convolved.AsSpan(0, count * size);
                var biasValues = b is null ? default : b.AsReadOnlySpan();
                algorithm.Forward(group, first, count, biasValues, relu && !pool, target, ref scratch, serial);
                for (int s = 0; pool && s < count; s++)
                {
                    // max(0, .) after the maximum: the same values as before it, on a quarter of them
                    var pooled = output.AsSpan().Slice((first + s) * pooledSize, pooledSize);
                    var sampleWinners = argmax is null ? winners.AsSpan(s * pooledSize, pooledSize) : argmax.AsSpan((first + s) * pooledSize, pooledSize);
                    Pooling.MaxForwardSerial(target.Slice(s * size, size), pg, pooled, sampleWinners);
                    TensorPrimitives.Max(pooled, 0f, pooled);
                }
            }
            scratch.Dispose();
            BufferPool.ReturnFloats(convolved);
            BufferPool.ReturnInts(winners);
        });
        algorithm.EndForward();
        var node = new Conv2dFunction
        {
            _geometry = g, _algorithm = algorithm, _relu = relu, _activated = relu ? output : null, _pool = pool ? pg : null, _argmax = argmax,
        };
        return bias is null ? node.Record(output, x, weight) : node.Record(output, [x, weight, bias]);
    }

    // y = act(pool(conv(x, w) + b)): the fused epilogue's chain rule gives each group's gradient of conv(x, w) + b, then
    //   x: the transposed convolution of that gradient with w          (ConvolutionAlgorithm.InputGradient)
    //   w: x correlated with that gradient, summed over the samples    (ConvolutionAlgorithm.WeightGradient)
    //   b: that gradient summed over samples and pixels
    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        var g = _geometry;
        var algorithm = _algorithm!;
        int o = algorithm.OutChannels, size = o * g.OutPlane, taps = g.PatchSize;
        bool needInput = NeedsInputGrad[0], needWeight = NeedsInputGrad[1], needBias = NeedsInputGrad.Length > 2 && NeedsInputGrad[2];
        int groups = SampleGroups.Count(g.Batch);
        var weightPartials = needWeight ? BufferPool.RentFloats(groups * o * taps) : null;
        var biasPartials = needBias ? BufferPool.RentFloats(groups * o) : null;
        var inputGrad = needInput ? Tensor.EmptyOwned([g.Batch, g.Channels, g.Height, g.Width]) : null;
        // the gradient is staged in a buffer of ours where an epilogue rebuilds it or the algorithm reads past a group
        bool staged = _activated is not null || needWeight && algorithm.GradientSlack > 0;
        int pooledSize = _pool is { } pool ? o * pool.OutPlane : 0;
        algorithm.BeginBackward(needInput, needWeight);
        long work = SamplesPerGroup * algorithm.WorkPerSample * ((needInput ? 1 : 0) + (needWeight ? 1 : 0));
        SampleGroups.For(groups, work, (g0, g1, serial) =>
        {
            var scratch = algorithm.RentBackwardScratch(needInput, needWeight);
            var stage = staged ? BufferPool.RentFloats(SamplesPerGroup * size + algorithm.GradientSlack) : null;
            var stagePooled = _pool is null ? null : BufferPool.RentFloats(SamplesPerGroup * pooledSize);
            for (int group = g0; group < g1; group++)
            {
                var (first, count) = SampleGroups.Members(group, g.Batch);
                var gy = GroupOutputGrad(grad, first, count, size, stage, stagePooled);
                if (inputGrad is not null)
                {
                    algorithm.InputGradient(group, gy, first, count, inputGrad.AsSpan().Slice(first * g.SampleSize, count * g.SampleSize), ref scratch, serial);
                }
                if (weightPartials is not null)
                {
                    var readable = stage is null ? gy : stage.AsSpan(0, count * size + algorithm.GradientSlack);
                    algorithm.WeightGradient(group, readable, first, count, weightPartials.AsSpan(group * o * taps, o * taps), ref scratch, serial);
                }
                if (biasPartials is not null)
                {
                    SampleGroups.BiasPartials(gy, count, o, g.OutPlane, biasPartials.AsSpan(group * o, o));
                }
            }
            scratch.Dispose();
            BufferPool.ReturnFloats(stage);
            BufferPool.ReturnFloats(stagePooled);
        });
        algorithm.EndBackward();
        inputGrads[0] = inputGrad;
        if (weightPartials is not null)
        {
            inputGrads[1] = SampleGroups.Sum(weightPartials, groups, o * taps).WithShape([o, g.Channels, g.KernelH, g.KernelW]);
            BufferPool.ReturnFloats(weightPartials);
        }
        if (biasPartials is not null)
        {
            inputGrads[2] = SampleGroups.Sum(biasPartials, groups, o);
            BufferPool.ReturnFloats(biasPartials);
        }
    }

    // the same chain rule in differentiable ops: the epilogue's gradient (a constant ReLU mask, the pooled gradient
    // routed to its winners), then a transposed convolution, a convolution's weight gradient and a sum
    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads)
    {
        var g = _activated is null ? grad : ReluOp.Masked(grad, _activated, Name);
        if (_pool is { } pool)
        {
            g = MaxPoolScatterFunction.Apply(g, SampleWinnersInBatch(pool), [_geometry.Batch, pool.Channels, _geometry.OutHeight, _geometry.OutWidth]);
        }
        inputGrads[0] = NeedsInputGrad[0] ? ConvolutionGradients.Input(g, Inputs[1], _geometry) : null;
        inputGrads[1] = NeedsInputGrad[1] ? ConvolutionGradients.Weight(Inputs[0], g, _geometry) : null;
        if (inputGrads.Length > 2)
        {
            inputGrads[2] = NeedsInputGrad[2] ? SumFunction.Apply(g, [0, 2, 3], keepDim: false) : null;
        }
    }

    /// <summary>The fused pooling's winners, which index each sample's output, as indices into the whole batch's output.</summary>
    private int[] SampleWinnersInBatch(in ConvGeometry pool)
    {
        int pooledSize = pool.Channels * pool.OutPlane, size = pool.Channels * _geometry.OutPlane;
        var winners = _argmax.AsSpan(0, _geometry.Batch * pooledSize).ToArray();
        for (int i = 0; i < winners.Length; i++)
        {
            winners[i] += i / pooledSize * size;
        }
        return winners;
    }

    /// <summary>
    /// The gradient of conv(x, w) + b for samples [first, first + count): the output gradient as given (copied into
    /// <paramref name="stage"/> when there is one), masked by a fused ReLU into <paramref name="stage"/>, or, with a
    /// fused pooling, rebuilt there from the pooled gradient (masked by the ReLU into <paramref name="stagePooled"/>) by
    /// sending each window's gradient to its winner.
    /// </summary>
    private ReadOnlySpan<float> GroupOutputGrad(Tensor grad, int first, int count, int size, float[]? stage, float[]? stagePooled)
    {
        if (_pool is { } pg)
        {
            int pooledSize = pg.Channels * pg.OutPlane;
            var pooledGrads = stagePooled.AsSpan(0, count * pooledSize);
            Map.Apply(default(ReluBackwardMap), grad.AsReadOnlySpan().Slice(first * pooledSize, count * pooledSize),
                _activated!.AsReadOnlySpan().Slice(first * pooledSize, count * pooledSize), pooledGrads);
            for (int s = 0; s < count; s++)
            {
                Pooling.MaxBackward2x2Serial(pooledGrads.Slice(s * pooledSize, pooledSize), _argmax.AsSpan((first + s) * pooledSize, pooledSize), pg,
                    stage.AsSpan(s * size, size));
            }
            return stage.AsSpan(0, count * size);
        }
        var given = grad.AsReadOnlySpan().Slice(first * size, count * size);
        if (stage is null)
        {
            return given;
        }
        if (_activated is null)
        {
            given.CopyTo(stage);
        }
        else
        {
            Map.Apply(default(ReluBackwardMap), given, _activated.AsReadOnlySpan().Slice(first * size, count * size), stage.AsSpan(0, count * size));
        }
        return stage.AsSpan(0, count * size);
    }

    protected override void ReleaseSaved()
    {
        _algorithm?.Release();
        BufferPool.ReturnInts(_argmax);
        (_argmax, _activated) = (null, null);
    }
}
