using System.Numerics.Tensors;
using AutoGrad.Graph;
using AutoGrad.Kernels;

namespace AutoGrad.Ops;

internal sealed class Relu : Function
{
    private protected override SavedTensors Saves => SavedTensors.Output;

    private Tensor? _result;

    public static Variable Apply(Variable x)
    {
        var result = TensorMath.Unary(x.Value, static (s, d) => TensorPrimitives.Max(s, 0f, d));
        return new Relu { _result = result }.Record(result, x);
    }

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // self: grad * (result > 0)
        inputGrads[0] = TensorMath.Map(default(ReluBackwardMap), grad, _result!, Name);
    }

    // self: grad * (result > 0), a constant mask (ReLU's second derivative is zero)
    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads) => inputGrads[0] = Masked(grad, _result!, Name);

    /// <summary>grad * (result > 0) as a graph op, the mask a constant: the differentiable backward of ReLU and of every node that fuses it.</summary>
    internal static Variable Masked(Variable grad, Tensor result, string op)
        => Mul.Apply(grad, Constant(TensorMath.Map(default(ReluBackwardMap), Tensor.Ones(result.ShapeArray), result, op)));

    protected override void ReleaseSaved() => _result = null;
}

internal sealed class Tanh : Function
{
    private protected override SavedTensors Saves => SavedTensors.Output;

    private Tensor? _result;

    public static Variable Apply(Variable x)
    {
        var result = TensorMath.Unary(x.Value, static (s, d) => TensorPrimitives.Tanh(s, d));
        return new Tanh { _result = result }.Record(result, x);
    }

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // self: grad * (1 - result^2)
        inputGrads[0] = TensorMath.Map(default(TanhBackwardMap), grad, _result!, Name);
    }

    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads)
    {
        var y = OutputVariable(_result!);
        inputGrads[0] = Mul.Apply(grad, RSubScalar.Apply(Mul.Apply(y, y), 1f));
    }

    protected override void ReleaseSaved() => _result = null;
}

/// <summary>1 / (1 + e^-x); exp overflows only to +Inf, giving exactly 0, so large |x| stays finite and NaN-free.</summary>
internal sealed class Sigmoid : Function
{
    private protected override SavedTensors Saves => SavedTensors.Output;

    private Tensor? _result;

    public static Variable Apply(Variable x)
    {
        var result = TensorMath.Unary(x.Value, static (s, d) => TensorPrimitives.Sigmoid(s, d));
        return new Sigmoid { _result = result }.Record(result, x);
    }

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // self: grad * result * (1 - result)
        inputGrads[0] = TensorMath.Map(default(SigmoidBackwardMap), grad, _result!, Name);
    }

    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads)
    {
        var y = OutputVariable(_result!);
        inputGrads[0] = Mul.Apply(grad, Mul.Apply(y, RSubScalar.Apply(y, 1f)));
    }

    protected override void ReleaseSaved() => _result = null;
}
