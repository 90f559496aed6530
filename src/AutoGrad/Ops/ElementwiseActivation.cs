using AutoGrad.Autograd;
using AutoGrad.Kernels;

namespace AutoGrad.Ops;

/// <summary>
/// An activation whose forward and derivative are fused kernels of x alone (LeakyReLU, ELU, Softplus, GELU): the
/// formulas live beside each other in Kernels/ActivationMaps.cs; this node saves x and applies backward(grad, x).
/// </summary>
internal sealed class ElementwiseActivation<TForward, TBackward> : Function
    where TForward : struct, IUnaryMap
    where TBackward : struct, IBinaryMap
{
    private protected override SavedTensors Saves => SavedTensors.Input0;

    private Tensor? _x;
    private TBackward _backward;
    private string _name = "";
    private IReadOnlyDictionary<string, object> _attributes = NoAttributes;

    public override string Name => _name;

    internal override IReadOnlyDictionary<string, object> Attributes => _attributes;

    public static Variable Apply(Variable x, TForward forward, TBackward backward, string name, IReadOnlyDictionary<string, object>? attributes = null)
    {
        var result = Tensor.EmptyOwned((int[])x.Value.ShapeArray.Clone());
        Map.Apply(forward, x.Value.AsReadOnlySpan(), result.AsSpan());
        return new ElementwiseActivation<TForward, TBackward> { _x = x.Value, _backward = backward, _name = name, _attributes = attributes ?? NoAttributes }
            .Record(result, x);
    }

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // self: backward(grad, self)
        inputGrads[0] = TensorMath.Map(_backward, grad, _x!, Name);
    }

    protected override void ReleaseSaved() => _x = null;
}
