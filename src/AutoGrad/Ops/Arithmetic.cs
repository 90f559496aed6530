using System.Numerics.Tensors;
using AutoGrad.Graph;

namespace AutoGrad.Ops;

// Broadcasting binary arithmetic. Each backward returns gradients at the broadcast shape;
// the engine sums them back to each input's shape.

internal sealed class Add : Function
{
    public static Variable Apply(Variable x, Variable y) => new Add().Record(TensorMath.Add(x.Value, y.Value), x, y);

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // self: grad; other: grad
        inputGrads[0] = grad;
        inputGrads[1] = grad;
    }

    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads) => (inputGrads[0], inputGrads[1]) = (grad, grad);
}

internal sealed class Sub : Function
{
    public static Variable Apply(Variable x, Variable y) => new Sub().Record(TensorMath.Subtract(x.Value, y.Value), x, y);

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // self: grad; other: -grad
        inputGrads[0] = grad;
        if (NeedsInputGrad[1])
        {
            inputGrads[1] = TensorMath.Unary(grad, static (g, d) => TensorPrimitives.Negate(g, d));
        }
    }

    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads) => (inputGrads[0], inputGrads[1]) = (grad, Neg.Apply(grad));
}

internal sealed class Mul : Function
{
    private protected override SavedTensors Saves => SavedTensors.Inputs01;

    private Tensor? _x, _y;

    public static Variable Apply(Variable x, Variable y)
        => new Mul { _x = x.Value, _y = y.Value }.Record(TensorMath.Multiply(x.Value, y.Value), x, y);

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

internal sealed class Div : Function
{
    private protected override SavedTensors Saves => SavedTensors.Input1 | SavedTensors.Output;

    private Tensor? _y, _result;

    public static Variable Apply(Variable x, Variable y)
    {
        var result = TensorMath.Divide(x.Value, y.Value);
        return new Div { _y = y.Value, _result = result }.Record(result, x, y);
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
        inputGrads[1] = NeedsInputGrad[1] ? Neg.Apply(Apply(Mul.Apply(grad, x), Mul.Apply(y, y))) : null;
    }

    protected override void ReleaseSaved() => (_y, _result) = (null, null);
}

internal sealed class Neg : Function
{
    public static Variable Apply(Variable x)
        => new Neg().Record(TensorMath.Unary(x.Value, static (s, d) => TensorPrimitives.Negate(s, d)), x);

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // self: -grad
        inputGrads[0] = TensorMath.Unary(grad, static (g, d) => TensorPrimitives.Negate(g, d));
    }

    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads) => inputGrads[0] = Apply(grad);
}

/// <summary>x + s for a constant s.</summary>
internal sealed class AddScalar : Function
{
    private float _s;

    internal override IReadOnlyDictionary<string, object> Attributes => new Dictionary<string, object> { ["scalar"] = _s };

    public static Variable Apply(Variable x, float s)
    {
        var result = Tensor.EmptyOwned((int[])x.Value.ShapeArray.Clone());
        TensorPrimitives.Add(x.Value.AsReadOnlySpan(), s, result.AsSpan());
        return new AddScalar { _s = s }.Record(result, x);
    }

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // self: grad
        inputGrads[0] = grad;
    }

    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads) => inputGrads[0] = grad;
}

/// <summary>s - x for a constant s.</summary>
internal sealed class RSubScalar : Function
{
    public static Variable Apply(Variable x, float s)
    {
        var result = Tensor.EmptyOwned((int[])x.Value.ShapeArray.Clone());
        TensorPrimitives.Subtract(s, x.Value.AsReadOnlySpan(), result.AsSpan());
        return new RSubScalar().Record(result, x);
    }

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // self: -grad
        inputGrads[0] = TensorMath.Unary(grad, static (g, d) => TensorPrimitives.Negate(g, d));
    }

    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads) => inputGrads[0] = Neg.Apply(grad);
}

/// <summary>x * s for a constant s.</summary>
internal sealed class MulScalar : Function
{
    private float _s;

    internal override IReadOnlyDictionary<string, object> Attributes => new Dictionary<string, object> { ["scalar"] = _s };

    public static Variable Apply(Variable x, float s) => new MulScalar { _s = s }.Record(TensorMath.Multiply(x.Value, s), x);

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // self: grad * s
        inputGrads[0] = TensorMath.Multiply(grad, _s);
    }

    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads) => inputGrads[0] = Apply(grad, _s);
}

/// <summary>x / s for a constant s (divides, rather than multiplying by 1/s, to round exactly as PyTorch).</summary>
internal sealed class DivScalar : Function
{
    private float _s;

    public static Variable Apply(Variable x, float s)
    {
        var result = Tensor.EmptyOwned((int[])x.Value.ShapeArray.Clone());
        TensorPrimitives.Divide(x.Value.AsReadOnlySpan(), s, result.AsSpan());
        return new DivScalar { _s = s }.Record(result, x);
    }

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // self: grad / s
        var result = Tensor.EmptyOwned((int[])grad.ShapeArray.Clone());
        TensorPrimitives.Divide(grad.AsReadOnlySpan(), _s, result.AsSpan());
        inputGrads[0] = result;
    }

    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads) => inputGrads[0] = Apply(grad, _s);
}

/// <summary>s / x for a constant s.</summary>
internal sealed class RDivScalar : Function
{
    private protected override SavedTensors Saves => SavedTensors.Input0 | SavedTensors.Output;

    private Tensor? _x, _result;
    private float _s;

    public static Variable Apply(Variable x, float s)
    {
        var result = Tensor.EmptyOwned((int[])x.Value.ShapeArray.Clone());
        TensorPrimitives.Divide(s, x.Value.AsReadOnlySpan(), result.AsSpan());
        return new RDivScalar { _x = x.Value, _result = result, _s = s }.Record(result, x);
    }

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // self: -grad * s / x^2 = -grad * result / x
        var g = TensorMath.Divide(TensorMath.Multiply(grad, _result!), _x!);
        TensorPrimitives.Negate(g.AsReadOnlySpan(), g.AsSpan());
        inputGrads[0] = g;
    }

    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads)
    {
        // self: -grad * s / self^2
        var x = Inputs[0];
        inputGrads[0] = Neg.Apply(Div.Apply(MulScalar.Apply(grad, _s), Mul.Apply(x, x)));
    }

    protected override void ReleaseSaved() => (_x, _result) = (null, null);
}
