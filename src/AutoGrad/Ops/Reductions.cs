using AutoGrad.Graph;
using AutoGrad.Kernels;

namespace AutoGrad.Ops;

/// <summary>Sum over the given dims (sorted, normalized by the caller).</summary>
internal sealed class SumFunction : Function
{
    internal override OpKind Kind => OpKind.Sum;

    internal override OpSettings Settings => new ReduceSettings(_dims, _keepDim);

    private int[] _dims = [];
    private bool _keepDim;

    private int[] _inputShape = [];
    private int[] _keptShape = [];

    public static Variable Apply(Variable x, int[] dims, bool keepDim)
    {
        var result = TensorMath.Sum(x.Value, dims, keepDim);
        var node = new SumFunction { _dims = dims, _keepDim = keepDim, _inputShape = x.Value.ShapeArray, _keptShape = TensorMath.ReducedShape(x.Value.Shape, dims, keepDim: true) };
        return node.Record(result, x);
    }

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // self: grad expanded back over the reduced dims
        inputGrads[0] = TensorMath.Expand(grad.WithShape(_keptShape), _inputShape);
    }

    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads)
        => inputGrads[0] = ExpandToFunction.Apply(ReshapeFunction.Apply(grad, _keptShape), _inputShape);
}

/// <summary>
/// Max or min over the given dims (like torch.amax/amin). NaN propagates. The gradient is shared evenly among tied
/// extreme values, as PyTorch does for amax/amin and for the all-dims max()/min().
/// </summary>
internal sealed class ExtremumFunction : Function
{
    private protected override SavedTensors Saves => SavedTensors.Input0 | SavedTensors.Output;

    private Tensor? _x, _keptResult;
    private bool _isMax;
    private int[] _dims = [];
    private bool _keepDim;

    internal override OpKind Kind => _isMax ? OpKind.Max : OpKind.Min;

    internal override OpSettings Settings => new ReduceSettings(_dims, _keepDim);

    public static Variable Apply(Variable x, int[] dims, bool keepDim, bool isMax)
    {
        string name = isMax ? "Max" : "Min";
        foreach (int d in dims)
        {
            if (x.Value.Shape[d] == 0)
            {
                throw new ArgumentException(CallSite.Tag($"{name}: cannot reduce dim {d} of size 0 (shape {Shapes.Format(x.Value.Shape)}); an empty reduction has no {name.ToLowerInvariant()}imum."));
            }
        }
        if (x.Value.Length == 0 && dims.Length == 0 && x.Value.Rank == 0)
        {
            throw new ArgumentException(CallSite.Tag($"{name}: cannot reduce an empty tensor."));
        }
        var kept = isMax
            ? TensorMath.Reduction(default(MaxReduce), x.Value, dims, keepDim: true)
            : TensorMath.Reduction(default(MinReduce), x.Value, dims, keepDim: true);
        var result = keepDim ? kept : kept.WithShape(TensorMath.ReducedShape(x.Value.Shape, dims, keepDim: false));
        return new ExtremumFunction { _x = x.Value, _keptResult = kept, _isMax = isMax, _dims = dims, _keepDim = keepDim }.Record(result, x);
    }

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // self: grad * (self == result) / count(self == result)
        var mask = TensorMath.Map(default(EqualMaskMap), _x!, _keptResult!, Name);
        var count = TensorMath.Sum(mask, _dims, keepDim: true);
        var share = TensorMath.Divide(grad.WithShape(_keptResult!.ShapeArray), count);
        inputGrads[0] = TensorMath.Multiply(mask, share);
    }

    // the mask of the extreme entries and their count are constant almost everywhere (away from ties)
    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads)
    {
        var mask = TensorMath.Map(default(EqualMaskMap), _x!, _keptResult!, Name);
        var share = DivFunction.Apply(ReshapeFunction.Apply(grad, _keptResult!.ShapeArray), Constant(TensorMath.Sum(mask, _dims, keepDim: true)));
        inputGrads[0] = MulFunction.Apply(Constant(mask), share);
    }

    protected override void ReleaseSaved() => (_x, _keptResult) = (null, null);
}
