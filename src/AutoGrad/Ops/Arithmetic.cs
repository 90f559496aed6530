using System.Numerics.Tensors;
using AutoGrad.Graph;

namespace AutoGrad.Ops;

// Broadcasting binary arithmetic. Each backward returns gradients at the broadcast shape;
// the engine sums them back to each input's shape.

internal sealed class AddFunction : Function
{
    internal override OpKind Kind => OpKind.Add;

    public static Variable Apply(Variable x, Variable y) => new AddFunction().Record(TensorMath.Add(x.Value, y.Value), x, y);

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // self: grad; other: grad
        inputGrads[0] = grad;
        inputGrads[1] = grad;
    }

    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads) => (inputGrads[0], inputGrads[1]) = (grad, grad);
}

internal sealed class SubFunction : Function
{
    internal override OpKind Kind => OpKind.Sub;

    public static Variable Apply(Variable x, Variable y) => new SubFunction().Record(TensorMath.Subtract(x.Value, y.Value), x, y);

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // self: grad; other: -grad
        inputGrads[0] = grad;
        if (NeedsInputGrad[1])
        {
            inputGrads[1] = NegOp.Negated(grad);
        }
    }

    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads) => (inputGrads[0], inputGrads[1]) = (grad, NegOp.Apply(grad));
}

internal sealed class MulFunction : Function
{
    internal override OpKind Kind => OpKind.Mul;

    private protected override SavedTensors Saves => SavedTensors.Inputs01;

    private Tensor? _x, _y;

    public static Variable Apply(Variable x, Variable y)
        => new MulFunction { _x = x.Value, _y = y.Value }.Record(TensorMath.Multiply(x.Value, y.Value), x, y);

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // self: grad * other; other: grad * self
        if (NeedsInputGrad[0])
        {
            inputGrads[0] = TensorMath.Multiply(grad, _y!);
        }
        if (NeedsInputGrad[1])
        {
            inputGrads[1] = TensorMath.Multiply(grad, _x!);
        }
    }

    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads)
    {
        inputGrads[0] = NeedsInputGrad[0] ? Apply(grad, Inputs[1]) : null;
        inputGrads[1] = NeedsInputGrad[1] ? Apply(grad, Inputs[0]) : null;
    }

    protected override void ReleaseSaved() => (_x, _y) = (null, null);
}

internal sealed class DivFunction : Function
{
    internal override OpKind Kind => OpKind.Div;

    private protected override SavedTensors Saves => SavedTensors.Input1 | SavedTensors.Output;

    private Tensor? _y, _result;

    public static Variable Apply(Variable x, Variable y)
    {
        var result = TensorMath.Divide(x.Value, y.Value);
        return new DivFunction { _y = y.Value, _result = result }.Record(result, x, y);
    }

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // self: grad / other; other: -grad * self / other^2 = -(grad / other) * result
        var gradOverOther = TensorMath.Divide(grad, _y!);
        if (NeedsInputGrad[0])
        {
            inputGrads[0] = gradOverOther;
        }
        if (NeedsInputGrad[1])
        {
            var scaled = TensorMath.Multiply(gradOverOther, _result!);
            TensorPrimitives.Negate(scaled.AsReadOnlySpan(), scaled.AsSpan());
            inputGrads[1] = scaled;
        }
    }

    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads)
    {
        // other: -grad * self / other^2, written on the inputs (not the output) so it differentiates to PyTorch's
        var (x, y) = (Inputs[0], Inputs[1]);
        inputGrads[0] = NeedsInputGrad[0] ? Apply(grad, y) : null;
        inputGrads[1] = NeedsInputGrad[1] ? NegOp.Apply(Apply(MulFunction.Apply(grad, x), MulFunction.Apply(y, y))) : null;
    }

    protected override void ReleaseSaved() => (_y, _result) = (null, null);
}

// Pointwise ops of one input (see Pointwise.cs): negation and the ops with a constant scalar.

internal readonly struct NegOp : IPointwiseOp
{
    public static Variable Apply(Variable x) => Pointwise<NegOp>.Apply(x, default);

    public OpKind Kind => OpKind.Neg;
    public PointwiseSaves Saves => PointwiseSaves.None;
    public OpSettings Settings => OpSettings.None;

    public void Forward(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Negate(x, y);

    // self: -grad
    public Tensor Backward(Tensor grad, Tensor? x, Tensor? y) => Negated(grad);

    public Variable BackwardGraph(Variable grad, Variable x, Variable? y) => Apply(grad);

    internal static Tensor Negated(Tensor t) => TensorMath.Unary(t, static (g, d) => TensorPrimitives.Negate(g, d));
}

/// <summary>x + s for a constant s.</summary>
internal readonly struct AddScalarOp(float s) : IPointwiseOp
{
    public static Variable Apply(Variable x, float s) => Pointwise<AddScalarOp>.Apply(x, new(s));

    public OpKind Kind => OpKind.AddScalar;
    public PointwiseSaves Saves => PointwiseSaves.None;
    public OpSettings Settings => new ScalarSettings(s);

    public void Forward(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Add(x, s, y);

    // self: grad
    public Tensor Backward(Tensor grad, Tensor? x, Tensor? y) => grad;

    public Variable BackwardGraph(Variable grad, Variable x, Variable? y) => grad;
}

/// <summary>s - x for a constant s.</summary>
internal readonly struct RSubScalarOp(float s) : IPointwiseOp
{
    public static Variable Apply(Variable x, float s) => Pointwise<RSubScalarOp>.Apply(x, new(s));

    public OpKind Kind => OpKind.RSubScalar;
    public PointwiseSaves Saves => PointwiseSaves.None;
    public OpSettings Settings => new ScalarSettings(s);

    public void Forward(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Subtract(s, x, y);

    // self: -grad
    public Tensor Backward(Tensor grad, Tensor? x, Tensor? y) => NegOp.Negated(grad);

    public Variable BackwardGraph(Variable grad, Variable x, Variable? y) => NegOp.Apply(grad);
}

/// <summary>x * s for a constant s.</summary>
internal readonly struct MulScalarOp(float s) : IPointwiseOp
{
    public static Variable Apply(Variable x, float s) => Pointwise<MulScalarOp>.Apply(x, new(s));

    public OpKind Kind => OpKind.MulScalar;
    public PointwiseSaves Saves => PointwiseSaves.None;
    public OpSettings Settings => new ScalarSettings(s);

    public void Forward(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Multiply(x, s, y);

    // self: grad * s
    public Tensor Backward(Tensor grad, Tensor? x, Tensor? y) => TensorMath.Multiply(grad, s);

    public Variable BackwardGraph(Variable grad, Variable x, Variable? y) => Apply(grad, s);
}

/// <summary>x / s for a constant s (divides, rather than multiplying by 1/s, to round exactly as PyTorch).</summary>
internal readonly struct DivScalarOp(float s) : IPointwiseOp
{
    public static Variable Apply(Variable x, float s) => Pointwise<DivScalarOp>.Apply(x, new(s));

    public OpKind Kind => OpKind.DivScalar;
    public PointwiseSaves Saves => PointwiseSaves.None;
    public OpSettings Settings => new ScalarSettings(s);

    public void Forward(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Divide(x, s, y);

    // self: grad / s
    public Tensor Backward(Tensor grad, Tensor? x, Tensor? y)
    {
        var result = Tensor.EmptyOwned((int[])grad.ShapeArray.Clone());
        TensorPrimitives.Divide(grad.AsReadOnlySpan(), s, result.AsSpan());
        return result;
    }

    public Variable BackwardGraph(Variable grad, Variable x, Variable? y) => Apply(grad, s);
}

/// <summary>s / x for a constant s.</summary>
internal readonly struct RDivScalarOp(float s) : IPointwiseOp
{
    public static Variable Apply(Variable x, float s) => Pointwise<RDivScalarOp>.Apply(x, new(s));

    public OpKind Kind => OpKind.RDivScalar;
    public PointwiseSaves Saves => PointwiseSaves.Input | PointwiseSaves.Output;
    public OpSettings Settings => new ScalarSettings(s);

    public void Forward(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Divide(s, x, y);

    // self: -grad * s / x^2 = -grad * result / x
    public Tensor Backward(Tensor grad, Tensor? x, Tensor? y)
    {
        var g = TensorMath.Divide(TensorMath.Multiply(grad, y!), x!);
        TensorPrimitives.Negate(g.AsReadOnlySpan(), g.AsSpan());
        return g;
    }

    // written on the input alone, so its derivative is PyTorch's
    public Variable BackwardGraph(Variable grad, Variable x, Variable? y) => NegOp.Apply(DivFunction.Apply(MulScalarOp.Apply(grad, s), MulFunction.Apply(x, x)));
}
