using AutoGrad.Graph;
using AutoGrad.Kernels;

namespace AutoGrad.Ops;

/// <summary>
/// The chain rule every normalization shares: y = xhat weight + bias with xhat = (x - mean) invStd, over a
/// <see cref="NormLayout"/>. The subclasses only say where the statistics come from. Inputs are [x, weight?, bias?]
/// (the optional ones left out), validated by the caller.
/// </summary>
internal abstract class NormalizationFunction : Function
{
    private protected override SavedTensors Saves => _weightIndex > 0 ? SavedTensors.Inputs01 : SavedTensors.Input0;

    private NormLayout _layout;
    private Tensor? _mean, _invStd; // per group; this node's own (copies of running statistics in eval mode)
    private bool _batchStats; // the statistics are functions of x (their derivative reaches dx), or constants
    private float _eps;
    private int _weightIndex = -1, _biasIndex = -1;

    private protected float Epsilon => _eps;

    private protected bool HasWeight => _weightIndex > 0;

    private protected bool HasBias => _biasIndex > 0;

    /// <summary>Normalizes x with the given per-group statistics and records the node.</summary>
    private protected static Variable Normalize(NormalizationFunction node, Variable x, Variable? weight, Variable? bias, in NormLayout layout,
        Tensor mean, Tensor invStd, float eps)
    {
        var output = Tensor.EmptyOwned((int[])x.Value.ShapeArray.Clone());
        Kernels.Normalization.Forward(x.Value.AsReadOnlySpan(), layout, mean.AsReadOnlySpan(), invStd.AsReadOnlySpan(),
            Values(weight), Values(bias), output.AsSpan());
        return node.Record(x, weight, bias, output, layout, mean, invStd, batchStats: false, eps);
    }

    /// <summary>
    /// Normalizes x with its own statistics per group and records the node; returns the batch variance too (for
    /// BatchNorm's running statistics).
    /// </summary>
    private protected static (Variable Output, Tensor Mean, Tensor Variance) NormalizeBySelf(NormalizationFunction node, Variable x, Variable? weight,
        Variable? bias, in NormLayout layout, float eps)
    {
        var output = Tensor.EmptyOwned((int[])x.Value.ShapeArray.Clone());
        Tensor mean = Tensor.Zeros(layout.Groups), variance = Tensor.Zeros(layout.Groups), invStd = Tensor.Zeros(layout.Groups);
        Kernels.Normalization.ForwardWithBatchStatistics(x.Value.AsReadOnlySpan(), layout, eps, Values(weight), Values(bias), output.AsSpan(),
            mean.AsSpan(), variance.AsSpan(), invStd.AsSpan());
        return (node.Record(x, weight, bias, output, layout, mean, invStd, batchStats: true, eps), mean, variance);
    }

    private static ReadOnlySpan<float> Values(Variable? v) => v is null ? default : v.Value.AsReadOnlySpan();

    private Variable Record(Variable x, Variable? weight, Variable? bias, Tensor output, in NormLayout layout, Tensor mean, Tensor invStd, bool batchStats, float eps)
    {
        (_layout, _mean, _invStd, _batchStats, _eps) = (layout, mean, invStd, batchStats, eps);
        var inputs = new List<Variable>(3) { x };
        if (weight is not null)
        {
            _weightIndex = inputs.Count;
            inputs.Add(weight);
        }
        if (bias is not null)
        {
            _biasIndex = inputs.Count;
            inputs.Add(bias);
        }
        return Record(output, [.. inputs]);
    }

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // self: invStd (ghat - mean(ghat) - xhat mean(ghat xhat)), ghat = grad weight (invStd ghat for constant statistics)
        // weight: sum(grad xhat) per channel;  bias: sum(grad) per channel
        var x = Inputs[0].Value;
        Tensor? dx = NeedsInputGrad[0] ? Tensor.EmptyOwned((int[])x.ShapeArray.Clone()) : null;
        Tensor? dweight = _weightIndex > 0 && NeedsInputGrad[_weightIndex] ? Tensor.Zeros((int[])Inputs[_weightIndex].Value.ShapeArray.Clone()) : null;
        Tensor? dbias = _biasIndex > 0 && NeedsInputGrad[_biasIndex] ? Tensor.Zeros((int[])Inputs[_biasIndex].Value.ShapeArray.Clone()) : null;
        Kernels.Normalization.Backward(grad.AsReadOnlySpan(), x.AsReadOnlySpan(), _layout, _mean!.AsReadOnlySpan(), _invStd!.AsReadOnlySpan(),
            _weightIndex > 0 ? Inputs[_weightIndex].Value.AsReadOnlySpan() : default, _batchStats,
            dx is null ? default : dx.AsSpan(), dweight is null ? default : dweight.AsSpan(), dbias is null ? default : dbias.AsSpan());
        inputGrads[0] = dx;
        if (_weightIndex > 0)
        {
            inputGrads[_weightIndex] = dweight;
        }
        if (_biasIndex > 0)
        {
            inputGrads[_biasIndex] = dbias;
        }
    }

    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads)
    {
        // the same formulas on the five-dim view, with the statistics recomputed from x as ops so that their
        // derivative (the second derivative's main part) reaches x
        var l = _layout;
        int[] statsDims = [0, 3, 4], channelDims = [0, 1, 4];
        var x = ReshapeFunction.Apply(Inputs[0], l.View);
        Variable xhat, invStd;
        if (_batchStats)
        {
            var centered = SubFunction.Apply(x, Mean(x, statsDims, l.GroupSize));
            var variance = Mean(MulFunction.Apply(centered, centered), statsDims, l.GroupSize);
            invStd = PowOp.Apply(AddScalarOp.Apply(variance, _eps), -0.5f);
            xhat = MulFunction.Apply(centered, invStd);
        }
        else
        {
            invStd = Constant(_invStd!.Reshape(l.StatsView));
            xhat = MulFunction.Apply(SubFunction.Apply(x, Constant(_mean!.Reshape(l.StatsView))), invStd);
        }
        var g = ReshapeFunction.Apply(grad, l.View);
        var ghat = _weightIndex > 0 ? MulFunction.Apply(g, ReshapeFunction.Apply(Inputs[_weightIndex], l.AffineView)) : g;
        if (NeedsInputGrad[0])
        {
            var dx = _batchStats
                ? MulFunction.Apply(invStd, SubFunction.Apply(SubFunction.Apply(ghat, Mean(ghat, statsDims, l.GroupSize)),
                    MulFunction.Apply(xhat, Mean(MulFunction.Apply(ghat, xhat), statsDims, l.GroupSize))))
                : MulFunction.Apply(ghat, invStd);
            inputGrads[0] = ReshapeFunction.Apply(dx, Inputs[0].Value.ShapeArray);
        }
        if (_weightIndex > 0 && NeedsInputGrad[_weightIndex])
        {
            inputGrads[_weightIndex] = ReshapeFunction.Apply(SumFunction.Apply(MulFunction.Apply(g, xhat), channelDims, keepDim: false), Inputs[_weightIndex].Value.ShapeArray);
        }
        if (_biasIndex > 0 && NeedsInputGrad[_biasIndex])
        {
            inputGrads[_biasIndex] = ReshapeFunction.Apply(SumFunction.Apply(g, channelDims, keepDim: false), Inputs[_biasIndex].Value.ShapeArray);
        }
    }

    private static Variable Mean(Variable x, int[] dims, int count) => DivScalarOp.Apply(SumFunction.Apply(x, dims, keepDim: true), count);

    protected override void ReleaseSaved() => (_mean, _invStd) = (null, null);
}

/// <summary>
/// Batch normalization of [N, C, *] per channel (PyTorch's batch_norm). In training the statistics are the batch's
/// and update the running ones in place; otherwise the running statistics are constants of the graph.
/// </summary>
internal sealed class BatchNormFunction : NormalizationFunction
{
    private bool _training;
    private Tensor? _runningMean, _runningVar; // the live buffers, for an exporter (evaluation mode only)

    internal override OpKind Kind => OpKind.BatchNorm;

    internal override OpSettings Settings => new BatchNormSettings(Epsilon, HasWeight, HasBias, _training, _runningMean, _runningVar);

    public static Variable Apply(Variable x, Tensor? runningMean, Tensor? runningVar, Variable? weight, Variable? bias, bool training, float momentum, float eps)
    {
        var shape = x.Value.Shape;
        int spatial = Shapes.Numel(shape[2..]);
        var layout = new NormLayout(shape[0], 1, shape[1], 1, spatial);
        var node = new BatchNormFunction { _training = training, _runningMean = training ? null : runningMean, _runningVar = training ? null : runningVar };
        if (!training)
        {
            var invStd = Tensor.Zeros(layout.Groups);
            Kernels.Normalization.InverseStd(runningVar!.AsReadOnlySpan(), eps, invStd.AsSpan());
            return Normalize(node, x, weight, bias, layout, runningMean!.Clone(), invStd, eps);
        }
        var (output, mean, variance) = NormalizeBySelf(node, x, weight, bias, layout, eps);
        if (runningMean is not null && runningVar is not null)
        {
            // a write to buffers, not an op: nothing is recorded, and the writes bump the buffers' versions
            Kernels.Normalization.UpdateRunning(mean.AsReadOnlySpan(), variance.AsReadOnlySpan(), layout.GroupSize, momentum,
                runningMean.AsSpan(), runningVar.AsSpan());
        }
        return output;
    }
}

/// <summary>Layer normalization over the trailing <c>count</c> elements of each row (PyTorch's layer_norm).</summary>
internal sealed class LayerNormFunction : NormalizationFunction
{
    private int _axis;

    internal override OpKind Kind => OpKind.LayerNorm;

    internal override OpSettings Settings => new LayerNormSettings(Epsilon, HasWeight, HasBias, _axis);

    /// <summary>Normalizes over the dims from <paramref name="axis"/> on.</summary>
    public static Variable Apply(Variable x, int axis, Variable? weight, Variable? bias, float eps)
    {
        int count = Shapes.Numel(x.Value.Shape[axis..]);
        var layout = new NormLayout(1, x.Value.Length / Math.Max(count, 1), 1, count, 1);
        return NormalizeBySelf(new LayerNormFunction { _axis = axis }, x, weight, bias, layout, eps).Output;
    }
}

/// <summary>Group normalization of [N, C, *] over groups of C / G channels per sample (PyTorch's group_norm).</summary>
internal sealed class GroupNormFunction : NormalizationFunction
{
    private int _groups;

    internal override OpKind Kind => OpKind.GroupNorm;

    internal override OpSettings Settings => new GroupNormSettings(Epsilon, HasWeight, HasBias, _groups);

    public static Variable Apply(Variable x, int groups, Variable? weight, Variable? bias, float eps)
    {
        var shape = x.Value.Shape;
        var layout = new NormLayout(1, shape[0], groups, shape[1] / groups, Shapes.Numel(shape[2..]));
        return NormalizeBySelf(new GroupNormFunction { _groups = groups }, x, weight, bias, layout, eps).Output;
    }
}
