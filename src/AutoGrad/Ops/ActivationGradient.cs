using AutoGrad.Graph;
using AutoGrad.Kernels;

namespace AutoGrad.Ops;

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
    private OpKind _activation;

    internal override OpKind Kind => OpKind.ActivationGradient;

    public override string Name => _activation + "Backward";

    private protected override string? NotTwiceDifferentiable => $"is the derivative of {_activation}, whose third derivative is not implemented";

    public static Variable Apply(Variable grad, Variable x, TBackward backward, TSecond second, OpKind activation)
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
