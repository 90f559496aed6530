using System.Numerics.Tensors;
using AutoGrad.Graph;
using AutoGrad.Kernels;

namespace AutoGrad.Ops;

internal sealed class Exp : Function
{
    private protected override SavedTensors Saves => SavedTensors.Output;

    private Tensor? _result;

    public static Variable Apply(Variable x)
    {
        var result = TensorMath.Unary(x.Value, static (s, d) => TensorPrimitives.Exp(s, d));
        return new Exp { _result = result }.Record(result, x);
    }

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // self: grad * result
        inputGrads[0] = TensorMath.Multiply(grad, _result!);
    }

    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads) => inputGrads[0] = Mul.Apply(grad, OutputVariable(_result!));

    protected override void ReleaseSaved() => _result = null;
}

internal sealed class Log : Function
{
    private protected override SavedTensors Saves => SavedTensors.Input0;

    private Tensor? _x;

    public static Variable Apply(Variable x)
        => new Log { _x = x.Value }.Record(TensorMath.Unary(x.Value, static (s, d) => TensorPrimitives.Log(s, d)), x);

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // self: grad / self
        inputGrads[0] = TensorMath.Divide(grad, _x!);
    }

    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads) => inputGrads[0] = Div.Apply(grad, Inputs[0]);

    protected override void ReleaseSaved() => _x = null;
}

/// <summary>x^p for a constant exponent p.</summary>
internal sealed class Pow : Function
{
    private protected override SavedTensors Saves => SavedTensors.Input0;

    private Tensor? _x;
    private float _exponent;

    public static Variable Apply(Variable x, float exponent)
    {
        var result = Tensor.EmptyOwned((int[])x.Value.ShapeArray.Clone());
        TensorPrimitives.Pow(x.Value.AsReadOnlySpan(), exponent, result.AsSpan());
        return new Pow { _x = x.Value, _exponent = exponent }.Record(result, x);
    }

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // self: grad * p * self^(p - 1)   (0 when p == 0)
        inputGrads[0] = TensorMath.Map(new PowBackwardMap(_exponent), grad, _x!, Name);
    }

    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads)
        => inputGrads[0] = _exponent == 0f
            ? MulScalar.Apply(grad, 0f)
            : Mul.Apply(grad, MulScalar.Apply(Apply(Inputs[0], _exponent - 1f), _exponent));

    protected override void ReleaseSaved() => _x = null;
}

internal sealed class Sqrt : Function
{
    private protected override SavedTensors Saves => SavedTensors.Output;

    private Tensor? _result;

    public static Variable Apply(Variable x)
    {
        var result = TensorMath.Unary(x.Value, static (s, d) => TensorPrimitives.Sqrt(s, d));
        return new Sqrt { _result = result }.Record(result, x);
    }

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // self: grad / (2 * result)
        var g = TensorMath.Divide(grad, _result!);
        TensorPrimitives.Multiply(g.AsReadOnlySpan(), 0.5f, g.AsSpan());
        inputGrads[0] = g;
    }

    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads)
        => inputGrads[0] = Div.Apply(grad, MulScalar.Apply(OutputVariable(_result!), 2f));

    protected override void ReleaseSaved() => _result = null;
}

internal sealed class Abs : Function
{
    private protected override SavedTensors Saves => SavedTensors.Input0;

    private Tensor? _x;

    public static Variable Apply(Variable x)
        => new Abs { _x = x.Value }.Record(TensorMath.Unary(x.Value, static (s, d) => TensorPrimitives.Abs(s, d)), x);

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // self: grad * sign(self)
        inputGrads[0] = TensorMath.Map(default(AbsBackwardMap), grad, _x!, Name);
    }

    // self: grad * sign(self); the sign is constant almost everywhere
    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads)
        => inputGrads[0] = Mul.Apply(grad, Constant(TensorMath.Map(default(AbsBackwardMap), Tensor.Ones(_x!.ShapeArray), _x!, Name)));

    protected override void ReleaseSaved() => _x = null;
}

/// <summary>min(max(x, min), max); either bound may be absent (infinite).</summary>
internal sealed class Clamp : Function
{
    private protected override SavedTensors Saves => SavedTensors.Input0;

    private Tensor? _x;
    private float _min, _max;

    public static Variable Apply(Variable x, float min, float max)
    {
        var result = Tensor.EmptyOwned((int[])x.Value.ShapeArray.Clone());
        var span = result.AsSpan();
        TensorPrimitives.Max(x.Value.AsReadOnlySpan(), min, span);
        TensorPrimitives.Min(span, max, span);
        return new Clamp { _x = x.Value, _min = min, _max = max }.Record(result, x);
    }

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // self: grad * (min <= self <= max)
        inputGrads[0] = TensorMath.Map(new ClampBackwardMap(_min, _max), grad, _x!, Name);
    }

    // self: grad * (min <= self <= max), a constant mask
    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads)
        => inputGrads[0] = Mul.Apply(grad, Constant(TensorMath.Map(new ClampBackwardMap(_min, _max), Tensor.Ones(_x!.ShapeArray), _x!, Name)));

    protected override void ReleaseSaved() => _x = null;
}
