using AutoGrad.Autograd;
using AutoGrad.Kernels;
using AutoGrad.Buffers;

namespace AutoGrad.Ops;

/// <summary>Max pooling over NCHW: the gradient goes to the arg-max of each window (the first one on ties).</summary>
internal sealed class MaxPool2d : Function
{
    private int[] _inputShape = [];
    private int[]? _argmax;
    private ConvGeometry _geometry;

    internal override IReadOnlyDictionary<string, object> Attributes => _geometry.Attributes();

    public static Variable Apply(Variable x, ConvGeometry g)
    {
        var output = Tensor.EmptyOwned([g.Batch, g.Channels, g.OutHeight, g.OutWidth]);
        var argmax = BufferPool.RentInts(output.Length);
        Pooling.MaxForward(x.Value.AsReadOnlySpan(), g, output.AsSpan(), argmax);
        return new MaxPool2d { _inputShape = x.Value.ShapeArray, _argmax = argmax, _geometry = g }.Record(output, x);
    }

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // self: zeros.index_add_(argmax, grad)
        var inputGrad = Tensor.EmptyOwned((int[])_inputShape.Clone());
        if (_geometry is { KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2, PadH: 0, PadW: 0 })
        {
            Pooling.MaxBackward2x2(grad.AsReadOnlySpan(), _argmax.AsSpan(0, grad.Length), _geometry, inputGrad.AsSpan());
        }
        else
        {
            Pooling.MaxBackward(grad.AsReadOnlySpan(), _argmax.AsSpan(0, grad.Length), inputGrad.AsSpan(), _inputShape[0] * _inputShape[1]);
        }
        inputGrads[0] = inputGrad;
    }

    protected override void ReleaseSaved()
    {
        BufferPool.ReturnInts(_argmax);
        _argmax = null;
    }
}

/// <summary>Average pooling over NCHW (padding counted in the divisor): the gradient is spread evenly over each window.</summary>
internal sealed class AvgPool2d : Function
{
    private ConvGeometry _geometry;

    internal override IReadOnlyDictionary<string, object> Attributes => _geometry.Attributes();

    public static Variable Apply(Variable x, ConvGeometry g)
    {
        var output = Tensor.EmptyOwned([g.Batch, g.Channels, g.OutHeight, g.OutWidth]);
        Pooling.AvgForward(x.Value.AsReadOnlySpan(), g, output.AsSpan());
        return new AvgPool2d { _geometry = g }.Record(output, x);
    }

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // self: each window receives grad / window size
        var g = _geometry;
        var inputGrad = Tensor.EmptyOwned([g.Batch, g.Channels, g.Height, g.Width]);
        Pooling.AvgBackward(grad.AsReadOnlySpan(), g, inputGrad.AsSpan());
        inputGrads[0] = inputGrad;
    }
}
