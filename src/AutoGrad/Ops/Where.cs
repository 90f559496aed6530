using AutoGrad.Graph;
using AutoGrad.Kernels;

namespace AutoGrad.Ops;

/// <summary>
/// where(condition, x, y) with broadcasting over all three: x where the condition (a mask, no gradient) is nonzero,
/// else y. The gradient goes to the side that was chosen, as a where of its own.
/// </summary>
internal sealed class WhereFunction : Function
{
    internal override OpKind Kind => OpKind.Where;

    internal override OpSettings Settings => new WhereSettings(_unbroadcast ?? _condition);

    private Tensor _condition = Tensor.Scalar(0f);
    private Tensor? _unbroadcast; // a copy of a condition smaller than the result (a causal mask), for an exporter that broadcasts

    /// <summary>
    /// <paramref name="conditionSource"/>, when given, is the variable the condition came from (a comparison's mask):
    /// recorded as a third input that gets no gradient, so an exporter computes the condition instead of baking it in.
    /// </summary>
    public static Variable Apply(Tensor condition, Variable x, Variable y, Variable? conditionSource = null)
    {
        var shape = Shapes.Broadcast(Shapes.Broadcast(condition.Shape, x.Shape, "Where"), y.Shape, "Where");
        // the condition is kept for backward, so it is always this node's own copy (the caller may change theirs)
        var c = TensorMath.Expand(condition, shape);
        var result = Tensor.EmptyOwned((int[])shape.Clone());
        Selection.Where(c.AsReadOnlySpan(), BroadcastTo(x.Value, shape).AsReadOnlySpan(), BroadcastTo(y.Value, shape).AsReadOnlySpan(), result.AsSpan());
        var unbroadcast = condition.Shape.SequenceEqual(shape) ? null : condition.Clone();
        var node = new WhereFunction { _condition = c, _unbroadcast = unbroadcast };
        return conditionSource is null ? node.Record(result, x, y) : node.Record(result, [x, y, conditionSource]);
    }

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // x: where(c, grad, 0); y: where(c, 0, grad)   (summed back to each shape by the engine)
        var zero = Tensor.Scalar(0f);
        inputGrads[0] = NeedsInputGrad[0] ? Choose(_condition, grad, zero) : null;
        inputGrads[1] = NeedsInputGrad[1] ? Choose(_condition, zero, grad) : null;
    }

    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads)
    {
        var zero = Constant(Tensor.Scalar(0f));
        inputGrads[0] = NeedsInputGrad[0] ? Apply(_condition, grad, zero) : null;
        inputGrads[1] = NeedsInputGrad[1] ? Apply(_condition, zero, grad) : null;
    }

    private static Tensor Choose(Tensor condition, Tensor x, Tensor y)
    {
        var result = Tensor.EmptyOwned((int[])condition.ShapeArray.Clone());
        Selection.Where(condition.AsReadOnlySpan(), BroadcastTo(x, condition.ShapeArray).AsReadOnlySpan(),
            BroadcastTo(y, condition.ShapeArray).AsReadOnlySpan(), result.AsSpan());
        return result;
    }

    /// <summary>t itself when it already has <paramref name="shape"/> (the common case: no copy), else its broadcast copy.</summary>
    private static Tensor BroadcastTo(Tensor t, int[] shape) => t.Shape.SequenceEqual(shape) ? t : TensorMath.Expand(t, shape);
}
