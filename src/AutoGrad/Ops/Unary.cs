using System.Numerics.Tensors;
using AutoGrad.Graph;
using AutoGrad.Kernels;

namespace AutoGrad.Ops;

// Elementwise math of one input, as pointwise ops (see Pointwise.cs): forward, tensor derivative and differentiable
// derivative side by side.

internal readonly struct ExpOp : IPointwiseOp
{
    public static Variable Apply(Variable x) => Pointwise<ExpOp>.Apply(x, default);

    public OpKind Kind => OpKind.Exp;
    public PointwiseSaves Saves => PointwiseSaves.Output;
    public OpSettings Settings => OpSettings.None;

    public void Forward(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Exp(x, y);

    // self: grad * result
    public Tensor Backward(Tensor grad, Tensor? x, Tensor? y) => TensorMath.Multiply(grad, y!);

    public Variable BackwardGraph(Variable grad, Variable x, Variable? y) => MulFunction.Apply(grad, y!);
}

internal readonly struct LogOp : IPointwiseOp
{
    public static Variable Apply(Variable x) => Pointwise<LogOp>.Apply(x, default);

    public OpKind Kind => OpKind.Log;
    public PointwiseSaves Saves => PointwiseSaves.Input;
    public OpSettings Settings => OpSettings.None;

    public void Forward(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Log(x, y);

    // self: grad / self
    public Tensor Backward(Tensor grad, Tensor? x, Tensor? y) => TensorMath.Divide(grad, x!);

    public Variable BackwardGraph(Variable grad, Variable x, Variable? y) => DivFunction.Apply(grad, x);
}

/// <summary>x^p for a constant exponent p.</summary>
internal readonly struct PowOp(float exponent) : IPointwiseOp
{
    public static Variable Apply(Variable x, float exponent) => Pointwise<PowOp>.Apply(x, new(exponent));

    public OpKind Kind => OpKind.Pow;
    public PointwiseSaves Saves => PointwiseSaves.Input;
    public OpSettings Settings => new PowSettings(exponent);

    public void Forward(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Pow(x, exponent, y);

    // self: grad * p * self^(p - 1)   (0 when p == 0)
    public Tensor Backward(Tensor grad, Tensor? x, Tensor? y) => TensorMath.Map(new PowBackwardMap(exponent), grad, x!, Kind.ToString());

    public Variable BackwardGraph(Variable grad, Variable x, Variable? y)
        => exponent == 0f ? MulScalarOp.Apply(grad, 0f) : MulFunction.Apply(grad, MulScalarOp.Apply(Apply(x, exponent - 1f), exponent));
}

internal readonly struct SqrtOp : IPointwiseOp
{
    public static Variable Apply(Variable x) => Pointwise<SqrtOp>.Apply(x, default);

    public OpKind Kind => OpKind.Sqrt;
    public PointwiseSaves Saves => PointwiseSaves.Output;
    public OpSettings Settings => OpSettings.None;

    public void Forward(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Sqrt(x, y);

    // self: grad / (2 * result)
    public Tensor Backward(Tensor grad, Tensor? x, Tensor? y)
    {
        var g = TensorMath.Divide(grad, y!);
        TensorPrimitives.Multiply(g.AsReadOnlySpan(), 0.5f, g.AsSpan());
        return g;
    }

    public Variable BackwardGraph(Variable grad, Variable x, Variable? y) => DivFunction.Apply(grad, MulScalarOp.Apply(y!, 2f));
}

internal readonly struct AbsOp : IPointwiseOp
{
    public static Variable Apply(Variable x) => Pointwise<AbsOp>.Apply(x, default);

    public OpKind Kind => OpKind.Abs;
    public PointwiseSaves Saves => PointwiseSaves.Input;
    public OpSettings Settings => OpSettings.None;

    public void Forward(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Abs(x, y);

    // self: grad * sign(self)
    public Tensor Backward(Tensor grad, Tensor? x, Tensor? y) => TensorMath.Map(default(AbsBackwardMap), grad, x!, Kind.ToString());

    // the sign is constant almost everywhere
    public Variable BackwardGraph(Variable grad, Variable x, Variable? y) => Pointwise.TimesConstantDerivative(grad, x.Value, default(AbsBackwardMap), Kind.ToString());
}

/// <summary>min(max(x, min), max); either bound may be absent (infinite).</summary>
internal readonly struct ClampOp(float min, float max) : IPointwiseOp
{
    public static Variable Apply(Variable x, float min, float max) => Pointwise<ClampOp>.Apply(x, new(min, max));

    public OpKind Kind => OpKind.Clamp;
    public PointwiseSaves Saves => PointwiseSaves.Input;
    public OpSettings Settings => new ClampSettings(min, max);

    public void Forward(ReadOnlySpan<float> x, Span<float> y)
    {
        TensorPrimitives.Max(x, min, y);
        TensorPrimitives.Min(y, max, y);
    }

    // self: grad * (min <= self <= max)
    public Tensor Backward(Tensor grad, Tensor? x, Tensor? y) => TensorMath.Map(new ClampBackwardMap(min, max), grad, x!, Kind.ToString());

    // the mask is constant almost everywhere
    public Variable BackwardGraph(Variable grad, Variable x, Variable? y)
        => Pointwise.TimesConstantDerivative(grad, x.Value, new ClampBackwardMap(min, max), Kind.ToString());
}
