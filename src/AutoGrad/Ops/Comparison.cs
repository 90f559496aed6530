using AutoGrad.Graph;
using AutoGrad.Kernels;

namespace AutoGrad.Ops;

/// <summary>
/// x op y elementwise with broadcasting, as a mask of 1 and 0 (Eq, Ne, Lt, Le, Gt, Ge). A comparison has no
/// derivative, so its result is a leaf that needs no gradient, as in PyTorch; the node is kept only as the leaf's
/// origin, for an exporter.
/// </summary>
internal sealed class ComparisonFunction : Function
{
    private OpKind _kind;

    internal override OpKind Kind => _kind;

    public static Variable Apply<TMap>(TMap map, Variable x, Variable y, OpKind kind) where TMap : struct, IBinaryMap
        => new ComparisonFunction { _kind = kind }.RecordNonDifferentiable(TensorMath.Map(map, x.Value, y.Value, kind.ToString()), x, y);

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
        => throw new InvalidOperationException($"{Name} has no derivative; its result is a leaf, so no backward pass reaches it.");
}
