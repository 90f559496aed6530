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
        var y = _result!;
        if (_log)
        {
            // self: grad - exp(result) * sum(grad, dim)
            var total = TensorMath.Sum(grad, [_dim], keepDim: true);
            var probabilities = TensorMath.Unary(y, static (s, d) => System.Numerics.Tensors.TensorPrimitives.Exp(s, d));
            inputGrads[0] = TensorMath.Subtract(grad, TensorMath.Multiply(probabilities, total));
        }
        else
        {
            // self: result * (grad - sum(grad * result, dim))
            var dot = TensorMath.Sum(TensorMath.Multiply(grad, y), [_dim], keepDim: true);
            inputGrads[0] = TensorMath.Multiply(y, TensorMath.Subtract(grad, dot));
        }
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
