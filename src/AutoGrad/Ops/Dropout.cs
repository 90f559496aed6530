using AutoGrad.Graph;
using AutoGrad.Buffers;
using AutoGrad.Kernels;

namespace AutoGrad.Ops;

/// <summary>
/// y = x * mask with mask 0 (probability p) or 1 / (1 - p): the mask is the node's own, from the pool, and goes back
/// when the node is released (at once when no graph is recorded).
/// </summary>
internal sealed class DropoutFunction : Function
{
    private Tensor? _mask;
    private float _p;

    internal override OpKind Kind => OpKind.Dropout;

    internal override OpSettings Settings => new DropoutSettings(_p);

    public static Variable Apply(Variable x, float p, Generator generator)
    {
        var mask = Tensor.EmptyOwned((int[])x.Value.ShapeArray.Clone());
        if (p < 1)
        {
            DropoutMask.Fill(generator, p, mask.AsSpan());
        }
        else
        {
            mask.AsSpan().Clear();
        }
        return WithMask(x, mask, p);
    }

    /// <summary>x * mask for a mask of 0 and 1 / (1 - p) drawn elsewhere (a fixture's); the node then owns the mask.</summary>
    internal static Variable WithMask(Variable x, Tensor mask, float p)
        => new DropoutFunction { _mask = mask, _p = p }.Record(TensorMath.Multiply(x.Value, mask), x);

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // self: grad * mask
        inputGrads[0] = TensorMath.Multiply(grad, _mask!);
    }

    // self: grad * mask, the mask a constant; copied, since the node gives its own mask back to the pool on release
    // while the gradient's graph may still read it
    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads) => inputGrads[0] = MulFunction.Apply(grad, Constant(_mask!.Clone()));

    protected override void ReleaseSaved()
    {
        BufferPool.Return(_mask);
        _mask = null;
    }
}
