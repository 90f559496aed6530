using AutoGrad.Graph;

namespace AutoGrad.Ops;

// A broadcast and its adjoint. Backward sums a gradient of the broadcast shape back to its input's shape; with
// createGraph that sum must itself be a node, and its derivative is the broadcast again.

/// <summary>x summed over the dims it was broadcast along, down to <c>shape</c> (the gradient of a broadcast).</summary>
internal sealed class SumToShapeFunction : Function
{
    internal override OpKind Kind => OpKind.SumToShape;

    private int[] _inputShape = [];

    /// <summary>x itself when it already has <paramref name="shape"/>; <paramref name="op"/> names the caller in errors.</summary>
    public static Variable Apply(Variable x, int[] shape, string op = "SumToShape")
        => x.Value.Shape.SequenceEqual(shape)
            ? x
            : new SumToShapeFunction { _inputShape = x.Value.ShapeArray }.Record(Engine.SumToShape(x.Value, shape, op), x);

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // self: grad broadcast back to self's shape
        inputGrads[0] = TensorMath.Expand(grad, _inputShape);
    }

    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads) => inputGrads[0] = ExpandToFunction.Apply(grad, _inputShape);
}

/// <summary>x broadcast to <c>shape</c> (a copy), PyTorch's expand.</summary>
internal sealed class ExpandToFunction : Function
{
    internal override OpKind Kind => OpKind.ExpandTo;

    public static Variable Apply(Variable x, int[] shape)
        => x.Value.Shape.SequenceEqual(shape) ? x : new ExpandToFunction().Record(TensorMath.Expand(x.Value, shape), x);

    // self: grad (at the broadcast shape; the engine sums it back to self's)
    internal override void Backward(Tensor grad, Tensor?[] inputGrads) => inputGrads[0] = grad;

    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads) => inputGrads[0] = grad;
}
