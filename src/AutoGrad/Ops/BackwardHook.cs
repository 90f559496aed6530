using AutoGrad.Autograd;

namespace AutoGrad.Ops;

/// <summary>
/// An identity node that lets a module see the gradient flowing through its input or output boundary: backward
/// passes the gradient on, after handing it to a callback that may replace it.
/// </summary>
internal sealed class BackwardHook : Function
{
    private Func<Tensor, Tensor?> _callback = _ => null;

    public static Variable Apply(Variable x, Func<Tensor, Tensor?> callback)
        => new BackwardHook { _callback = callback }.Record(x.Value, x);

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // self: grad (or the callback's replacement)
        inputGrads[0] = _callback(grad) ?? grad;
    }
}
