using AutoGrad.Graph;
using AutoGrad.Kernels;

namespace AutoGrad.Ops;

/// <summary>
/// zeros(input shape) with each window's value added at its winner: the gradient of a max pooling as a node of its own
/// (made by a backward with createGraph). Linear in its input, so its gradient gathers from the same winners
/// (<see cref="MaxPoolGatherFunction"/>), as IndexAdd's selects the same entries again.
/// </summary>
internal sealed class MaxPoolScatterFunction : Function
{
    internal override OpKind Kind => OpKind.MaxPoolScatter;

    private int[] _winners = []; // per window, the flat index of its winner in the result
    private int[] _sourceShape = [];

    /// <summary><paramref name="winners"/> index the [N, C, H, W] <paramref name="shape"/>, plane by plane, one per element of <paramref name="source"/>.</summary>
    public static Variable Apply(Variable source, int[] winners, int[] shape)
    {
        var result = Tensor.EmptyOwned((int[])shape.Clone());
        Pooling.MaxBackward(source.Value.AsReadOnlySpan(), winners, result.AsSpan(), shape[0] * shape[1]);
        return new MaxPoolScatterFunction { _winners = winners, _sourceShape = source.Value.ShapeArray }.Record(result, source);
    }

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // source: grad.flatten()[winners]
        var g = Tensor.EmptyOwned((int[])_sourceShape.Clone());
        Pooling.GatherWinners(grad.AsReadOnlySpan(), _winners, g.AsSpan());
        inputGrads[0] = g;
    }

    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads) => inputGrads[0] = MaxPoolGatherFunction.Apply(grad, _winners, _sourceShape);
}

/// <summary>x.flatten()[winners]: the gradient of <see cref="MaxPoolScatterFunction"/>; its own gradient scatters to the winners again.</summary>
internal sealed class MaxPoolGatherFunction : Function
{
    internal override OpKind Kind => OpKind.MaxPoolGather;

    private int[] _winners = [];
    private int[] _inputShape = [];

    public static Variable Apply(Variable x, int[] winners, int[] shape)
    {
        var result = Tensor.EmptyOwned((int[])shape.Clone());
        Pooling.GatherWinners(x.Value.AsReadOnlySpan(), winners, result.AsSpan());
        return new MaxPoolGatherFunction { _winners = winners, _inputShape = x.Value.ShapeArray }.Record(result, x);
    }

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // self: zeros(self.shape) with grad added at the winners
        var g = Tensor.EmptyOwned((int[])_inputShape.Clone());
        Pooling.MaxBackward(grad.AsReadOnlySpan(), _winners, g.AsSpan(), _inputShape[0] * _inputShape[1]);
        inputGrads[0] = g;
    }

    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads) => inputGrads[0] = MaxPoolScatterFunction.Apply(grad, _winners, _inputShape);
}

/// <summary>
/// Each window's value spread evenly over it: the gradient of an average pooling as a node of its own (made by a
/// backward with createGraph). Linear, and the adjoint of the average pooling, so its gradient is that pooling again.
/// </summary>
internal sealed class AvgPoolGradientFunction : Function
{
    internal override OpKind Kind => OpKind.AvgPoolGradient;

    private ConvGeometry _geometry;

    public static Variable Apply(Variable grad, ConvGeometry g) => new AvgPoolGradientFunction { _geometry = g }.Record(AvgPool2dFunction.Spread(grad.Value, g), grad);

    // source: avg_pool2d(grad)
    internal override void Backward(Tensor grad, Tensor?[] inputGrads) => inputGrads[0] = AvgPool2dFunction.Pooled(grad, _geometry);

    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads) => inputGrads[0] = AvgPool2dFunction.Apply(grad, _geometry);
}
