using AutoGrad.Graph;
using AutoGrad.Kernels;

namespace AutoGrad.Ops;

/// <summary>
/// An activation whose forward and derivatives are fused kernels of x alone (LeakyReLU, ELU, Softplus, GELU): the
/// formulas live beside each other in Kernels/ActivationMaps.cs; this node saves x and applies backward(grad, x).
/// Its differentiable backward is an <see cref="ActivationGradient{TBackward, TSecond}"/> node, whose own backward
/// uses the second derivative.
/// </summary>
internal sealed class ElementwiseActivation<TForward, TBackward, TSecond> : Function
    where TForward : struct, IUnaryMap
    where TBackward : struct, IBinaryMap
    where TSecond : struct, IBinaryMap
{
    private protected override SavedTensors Saves => SavedTensors.Input0;

    private Tensor? _x;
    private TBackward _backward;
    private TSecond _second;
    private string _name = "";
    private IReadOnlyDictionary<string, object> _attributes = NoAttributes;

    public override string Name => _name;

    internal override IReadOnlyDictionary<string, object> Attributes => _attributes;

    public static Variable Apply(Variable x, TForward forward, TBackward backward, TSecond second, string name,
        IReadOnlyDictionary<string, object>? attributes = null)
    {
        var result = Tensor.EmptyOwned((int[])x.Value.ShapeArray.Clone());
        Map.Apply(forward, x.Value.AsReadOnlySpan(), result.AsSpan());
        return new ElementwiseActivation<TForward, TBackward, TSecond>
        {
            _x = x.Value, _backward = backward, _second = second, _name = name, _attributes = attributes ?? NoAttributes,
        }.Record(result, x);
    }

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // self: backward(grad, self)
        inputGrads[0] = TensorMath.Map(_backward, grad, _x!, Name);
    }

    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads)
        => inputGrads[0] = ActivationGradient<TBackward, TSecond>.Apply(grad, Inputs[0], _backward, _second, Name);

    protected override void ReleaseSaved() => _x = null;
}

/// <summary>
/// backward(grad, x) = grad * f'(x) as a node of its own, made by a backward with createGraph: its gradient with
/// respect to grad is backward(g, x) again, with respect to x it is second(g * grad, x) = g * grad * f''(x).
/// </summary>
internal sealed class ActivationGradient<TBackward, TSecond> : Function
    where TBackward : struct, IBinaryMap
    where TSecond : struct, IBinaryMap
{
    private protected override SavedTensors Saves => SavedTensors.Inputs01;

    private Tensor? _grad, _x;
    private TBackward _backward;
    private TSecond _second;
    private string _activation = "";

    public override string Name => _activation + "Backward";

    private protected override string? NotTwiceDifferentiable => $"is the derivative of {_activation}, whose third derivative is not implemented";

    public static Variable Apply(Variable grad, Variable x, TBackward backward, TSecond second, string activation)
        => new ActivationGradient<TBackward, TSecond> { _grad = grad.Value, _x = x.Value, _backward = backward, _second = second, _activation = activation }
            .Record(TensorMath.Map(backward, grad.Value, x.Value, activation + "Backward"), grad, x);

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // grad: backward(grad', x); x: second(grad' * grad, x)
        if (NeedsInputGrad[0])
        {
            inputGrads[0] = TensorMath.Map(_backward, grad, _x!, Name);
        }
        if (NeedsInputGrad[1])
        {
            inputGrads[1] = TensorMath.Map(_second, TensorMath.Multiply(grad, _grad!), _x!, Name);
        }
    }

    protected override void ReleaseSaved() => (_grad, _x) = (null, null);
}
