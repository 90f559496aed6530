using AutoGrad.Graph;

namespace AutoGrad;

/// <summary>
/// A differentiable operation of your own, as PyTorch's <c>torch.autograd.Function</c>: a forward on tensors and a
/// backward that maps the output's gradient to one gradient per input. Call it with <see cref="Apply"/>; an instance
/// may hold settings (a limit, a scale) and serves any number of calls, each with its own <see cref="FunctionContext"/>.
/// </summary>
/// <remarks>
/// <para>
/// Write <see cref="Backward"/> with differentiable ops on variables (F.*, operators) and the function supports double
/// backward by itself: in a first-order backward it runs under NoGrad (nothing is recorded), under
/// <c>createGraph: true</c> it is recorded, and the saved tensors it reads (<see cref="FunctionContext.SavedTensors"/>)
/// are the inputs' own variables and the output of this node, so second derivatives reach them. A backward that cannot be
/// differentiated (it reads raw spans, or its math is only first-order) sets <see cref="OnceDifferentiable"/>, and a
/// backward with createGraph through it then throws <see cref="NotSupportedException"/>, as PyTorch's
/// <c>@once_differentiable</c>.
/// </para>
/// <para>
/// The tensors saved for backward are guarded by their version counters: one written in place between the forward and
/// the backward makes the backward throw instead of computing a gradient from changed data.
/// </para>
/// </remarks>
public abstract class CustomFunction
{
    /// <summary>The op's name in messages and graph dumps (the class name by default).</summary>
    public virtual string Name => GetType().Name;

    /// <summary>
    /// Whether <see cref="Backward"/> may only run in a first-order backward (PyTorch's <c>@once_differentiable</c>):
    /// then it always runs under NoGrad and a backward with createGraph through this function throws.
    /// </summary>
    protected virtual bool OnceDifferentiable => false;

    /// <summary>
    /// Computes the output from the inputs' values (under NoGrad: nothing here is recorded). Save what
    /// <see cref="Backward"/> needs with <see cref="FunctionContext.SaveForBackward"/>; the result may be a new tensor
    /// or one of the inputs.
    /// </summary>
    /// <param name="ctx">This call's context: saved tensors, <see cref="FunctionContext.NeedsInputGrad"/>, marks.</param>
    /// <param name="inputs">The inputs' values, in the order given to <see cref="Apply"/>.</param>
    protected abstract Tensor Forward(FunctionContext ctx, Tensor[] inputs);

    /// <summary>
    /// Given the gradient of some scalar with respect to the output, returns its gradient with respect to each input
    /// (one entry per input, shaped as that input or as a shape it broadcasts to; null for an input that needs none, see
    /// <see cref="FunctionContext.NeedsInputGrad"/>).
    /// </summary>
    /// <param name="ctx">The context the forward filled; read saved tensors as <see cref="FunctionContext.SavedTensors"/>.</param>
    /// <param name="gradOutput">The output's gradient, shaped as the output.</param>
    protected abstract Variable?[] Backward(FunctionContext ctx, Variable gradOutput);

    /// <summary>
    /// Runs the function on <paramref name="inputs"/>: the forward on their values, recorded on the graph when grad
    /// mode is on and some input requires grad (and the output was not marked non-differentiable).
    /// </summary>
    public Variable Apply(params Variable[] inputs) => CustomFunctionNode.Apply(this, inputs);

    // the node's way in: the overrides stay protected, as users write them
    internal bool IsOnceDifferentiable => OnceDifferentiable;

    internal Tensor RunForward(FunctionContext ctx, Tensor[] inputs) => Forward(ctx, inputs);

    internal Variable?[] RunBackward(FunctionContext ctx, Variable gradOutput) => Backward(ctx, gradOutput);
}
