using AutoGrad.Graph;
using AutoGrad.Kernels;
using AutoGrad.Buffers;

namespace AutoGrad.Ops;

/// <summary>
/// Max pooling over NCHW: the gradient goes to the arg-max of each window (the first one on ties). With <c>relu</c> the
/// node also applies max(0, .) to its output and masks the gradient by it: a Sequential runs ReLU then MaxPool2d this
/// way, since max(0, .) commutes with a window's maximum and costs a quarter as much on the pooled output.
/// </summary>
internal sealed class MaxPool2dFunction : Function
{
    private protected override SavedTensors Saves => _relu ? SavedTensors.Output : SavedTensors.None;

    private int[] _inputShape = [];
    private int[]? _argmax;
    private ConvGeometry _geometry;
    private Tensor? _activated; // the output, when ReLU is fused: its sign is the gradient mask
    private bool _relu;

    internal override OpKind Kind => OpKind.MaxPool2d;

    internal override OpSettings Settings => new PoolSettings(Window.Of(_geometry), _relu ? Activation.Relu : Activation.None);

    public static Variable Apply(Variable x, ConvGeometry g, bool relu = false)
    {
        var output = Tensor.EmptyOwned([g.Batch, g.Channels, g.OutHeight, g.OutWidth]);
        var argmax = BufferPool.RentInts(output.Length);
        Pooling.MaxForward(x.Value.AsReadOnlySpan(), g, output.AsSpan(), argmax);
        if (relu)
        {
            System.Numerics.Tensors.TensorPrimitives.Max(output.AsSpan(), 0f, output.AsSpan());
        }
        var node = new MaxPool2dFunction { _inputShape = x.Value.ShapeArray, _argmax = argmax, _geometry = g, _relu = relu, _activated = relu ? output : null };
        return node.Record(output, x);
    }

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // self: zeros.index_add_(argmax, grad), after grad * (output > 0) for a fused ReLU
        Tensor? masked = null;
        if (_activated is not null)
        {
            masked = BufferPool.Rent(grad.ShapeArray); // shares the shape array: neither tensor changes it
            Map.Apply(default(ReluBackwardMap), grad.AsReadOnlySpan(), _activated.AsReadOnlySpan(), masked.AsSpan());
            grad = masked;
        }
        var inputGrad = Tensor.EmptyOwned((int[])_inputShape.Clone());
        if (_geometry is { KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2, PadH: 0, PadW: 0 })
        {
            Pooling.MaxBackward2x2(grad.AsReadOnlySpan(), _argmax.AsSpan(0, grad.Length), _geometry, inputGrad.AsSpan());
        }
        else
        {
            Pooling.MaxBackward(grad.AsReadOnlySpan(), _argmax.AsSpan(0, grad.Length), inputGrad.AsSpan(), _inputShape[0] * _inputShape[1]);
        }
        BufferPool.Return(masked);
        inputGrads[0] = inputGrad;
    }

    // self: the (masked) gradient routed to the winners, a linear node whose own gradient gathers from them
    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads)
    {
        var g = _activated is null ? grad : ReluOp.Masked(grad, _activated, Name);
        inputGrads[0] = MaxPoolScatterFunction.Apply(g, _argmax.AsSpan(0, grad.Value.Length).ToArray(), _inputShape);
    }

    protected override void ReleaseSaved()
    {
        BufferPool.ReturnInts(_argmax);
        (_argmax, _activated) = (null, null);
    }
}

/// <summary>Average pooling over NCHW (padding counted in the divisor): the gradient is spread evenly over each window.</summary>
internal sealed class AvgPool2dFunction : Function
{
    private ConvGeometry _geometry;

    internal override OpKind Kind => OpKind.AvgPool2d;

    internal override OpSettings Settings => new PoolSettings(Window.Of(_geometry), Activation.None);

    public static Variable Apply(Variable x, ConvGeometry g) => new AvgPool2dFunction { _geometry = g }.Record(Pooled(x.Value, g), x);

    // self: each window receives grad / window size
    internal override void Backward(Tensor grad, Tensor?[] inputGrads) => inputGrads[0] = Spread(grad, _geometry);

    /// <summary>The window averages of <paramref name="x"/> [N, C, H, W].</summary>
    internal static Tensor Pooled(Tensor x, in ConvGeometry g)
    {
        var output = Tensor.EmptyOwned([g.Batch, g.Channels, g.OutHeight, g.OutWidth]);
        Pooling.AvgForward(x.AsReadOnlySpan(), g, output.AsSpan());
        return output;
    }

    /// <summary>Each value of <paramref name="pooled"/> [N, C, OH, OW] spread evenly over its window: the adjoint of <see cref="Pooled"/>.</summary>
    internal static Tensor Spread(Tensor pooled, in ConvGeometry g)
    {
        var spread = Tensor.EmptyOwned([g.Batch, g.Channels, g.Height, g.Width]);
        Pooling.AvgBackward(pooled.AsReadOnlySpan(), g, spread.AsSpan());
        return spread;
    }

    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads) => inputGrads[0] = AvgPoolGradientFunction.Apply(grad, _geometry);
}
