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

    internal override OpSettings Settings => new WhereSettings(Unbroadcast());

    private Tensor _condition = Tensor.Scalar(0f);
    private int[] _conditionShape = []; // the shape the caller gave (a causal mask's [L, S]), which an exporter broadcasts

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
        var node = new WhereFunction { _condition = c, _conditionShape = condition.ShapeArray };
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

    // The condition in the caller's shape, from the kept broadcast copy (entry 0 along each dim it was stretched over):
    // only an exporter or a graph dump asks, so the forward keeps no second copy.
    private Tensor Unbroadcast()
    {
        var t = _condition;
        int lead = t.Rank - _conditionShape.Length;
        for (int d = 0; d < t.Rank; d++)
        {
            if (t.Shape[d] != 1 && (d < lead || _conditionShape[d - lead] == 1))
            {
                var (outer, size, inner) = SelectFunction.Split(t.Shape, d);
                var narrowed = Tensor.Zeros([.. t.Shape[..d], 1, .. t.Shape[(d + 1)..]]);
                Layout.Gather(t.AsReadOnlySpan(), outer, size, inner, [0], narrowed.AsSpan());
                t = narrowed;
            }
        }
        return t.Reshape(_conditionShape);
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
