using AutoGrad.Graph;

namespace AutoGrad.Ops;

/// <summary>Softmax or log-softmax along one dim, in the stable (max-subtracted) form.</summary>
internal sealed class SoftmaxFunction : Function
{
    private protected override SavedTensors Saves => SavedTensors.Output;

    private Tensor? _result;
    private int _dim;
    private bool _log;

    internal override OpKind Kind => _log ? OpKind.LogSoftmax : OpKind.Softmax;

    internal override OpSettings Settings => new AxisSettings(_dim);

    public static Variable Apply(Variable x, int dim, bool log)
    {
        var result = Tensor.EmptyOwned((int[])x.Value.ShapeArray.Clone());
        var (outer, size, inner) = SelectFunction.Split(x.Value.Shape, dim);
        Kernels.SoftmaxKernel.Forward(x.Value.AsReadOnlySpan(), outer, size, inner, result.AsSpan(), log);
        return new SoftmaxFunction { _result = result, _dim = dim, _log = log }.Record(result, x);
    }

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // self: result * (grad - sum(grad * result, dim)); log-softmax: grad - exp(result) * sum(grad, dim)
        // (one kernel pass: the composite left three full-size temporaries per call to the garbage collector)
        var (outer, size, inner) = SelectFunction.Split(_result!.Shape, _dim);
        var dx = Tensor.EmptyOwned((int[])_result.ShapeArray.Clone());
        Kernels.SoftmaxKernel.Backward(_result.AsReadOnlySpan(), grad.AsReadOnlySpan(), outer, size, inner, dx.AsSpan(), _log);
        inputGrads[0] = dx;
    }

    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads)
    {
        // the same formulas on the output as a variable of the graph, so their derivative reaches x through this node
        var y = OutputVariable(_result!);
        inputGrads[0] = _log
            ? SubFunction.Apply(grad, MulFunction.Apply(ExpOp.Apply(y), SumFunction.Apply(grad, [_dim], keepDim: true)))
            : MulFunction.Apply(y, SubFunction.Apply(grad, SumFunction.Apply(MulFunction.Apply(grad, y), [_dim], keepDim: true)));
    }

    protected override void ReleaseSaved() => _result = null;
}
