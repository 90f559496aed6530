using AutoGrad.Graph;

namespace AutoGrad.Ops;

/// <summary>
/// An identity node that lets a module see the gradient flowing through its input or output boundary: backward
/// passes the gradient on, after handing it to a callback that may replace it.
/// </summary>
internal sealed class BackwardHookFunction : Function
{
    internal override OpKind Kind => OpKind.BackwardHook;

    private Func<Tensor, Tensor?> _callback = _ => null;

    public static Variable Apply(Variable x, Func<Tensor, Tensor?> callback)
        => new BackwardHookFunction { _callback = callback }.Record(x.Value, x);

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // self: grad (or the callback's replacement). The callback (and the user's hooks behind it) may keep either
        // tensor, so neither buffer may be recycled by the engine.
        Buffers.BufferPool.Untrack(grad.Storage);
        var result = _callback(grad) ?? grad;
        Buffers.BufferPool.Untrack(result.Storage);
        inputGrads[0] = result;
    }

    // the callback sees the gradient's value; a replacement enters the gradient's graph as a constant
    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads)
        => inputGrads[0] = _callback(grad.Value) is { } replaced && !ReferenceEquals(replaced, grad.Value) ? Constant(replaced) : grad;
}
