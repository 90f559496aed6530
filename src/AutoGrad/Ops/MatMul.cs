using AutoGrad.Graph;

namespace AutoGrad.Ops;

/// <summary>
/// Batched matrix product of x [..., m, k] and y [..., k, n] with broadcast batch dims. Vector operands are promoted
/// to matrices by the public API, so this node only sees rank &gt;= 2.
/// </summary>
internal sealed class MatMulFunction : Function
{
    internal override OpKind Kind => OpKind.MatMul;

    private protected override SavedTensors Saves => SavedTensors.Inputs01;

    private Tensor? _x, _y;

    public static Variable Apply(Variable x, Variable y)
    {
        var xs = x.Value.Shape;
        var ys = y.Value.Shape;
        if (xs[^1] != ys[^2])
        {
            throw new ArgumentException(
                CallSite.Tag($"MatMul: shapes {Shapes.Format(xs)} and {Shapes.Format(ys)} are not aligned: the last dim of the first ({xs[^1]}) must equal the second-to-last dim of the second ({ys[^2]})."));
        }
        var result = TensorMath.MatMul(x.Value, y.Value, transX: false, transY: false);
        return new MatMulFunction { _x = x.Value, _y = y.Value }.Record(result, x, y);
    }

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // self: grad @ other^T; other: self^T @ grad   (batch dims summed back by the engine)
        if (NeedsInputGrad[0])
        {
            inputGrads[0] = TensorMath.MatMul(grad, _y!, transX: false, transY: true);
        }
        if (NeedsInputGrad[1])
        {
            inputGrads[1] = TensorMath.MatMul(_x!, grad, transX: true, transY: false);
        }
    }

    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads)
    {
        inputGrads[0] = NeedsInputGrad[0] ? Apply(grad, Transposed(Inputs[1])) : null;
        inputGrads[1] = NeedsInputGrad[1] ? Apply(Transposed(Inputs[0]), grad) : null;
    }

    /// <summary>x with its last two dims swapped.</summary>
    internal static Variable Transposed(Variable x)
    {
        var permutation = new int[x.Rank];
        for (int d = 0; d < permutation.Length; d++)
        {
            permutation[d] = d;
        }
        (permutation[^1], permutation[^2]) = (permutation[^2], permutation[^1]);
        return PermuteFunction.Apply(x, permutation);
    }

    protected override void ReleaseSaved() => (_x, _y) = (null, null);
}
