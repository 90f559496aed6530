using AutoGrad.Graph;

namespace AutoGrad;

/// <summary>
/// A node of the dynamic graph, and what users compute with (PyTorch's tensor with autograd). Every operation on
/// variables is recorded while <see cref="GradMode.IsEnabled"/>; <see cref="Backward(Tensor?, bool?, bool)"/> then computes
/// the gradient of the output with respect to every leaf that requires one.
/// </summary>
public partial class Variable
{
    private bool _requiresGrad;

    /// <summary>A leaf variable holding <paramref name="value"/>.</summary>
    /// <param name="value">The data; shared, not copied.</param>
    /// <param name="requiresGrad">Whether Backward should compute a gradient for this leaf.</param>
    /// <param name="name">An optional name shown in messages and graph dumps.</param>
    public Variable(Tensor value, bool requiresGrad = false, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(value);
        Value = value;
        _requiresGrad = requiresGrad;
        Name = name;
    }

    internal Variable(Tensor value, Function gradFn)
    {
        Value = value;
        GradFn = gradFn;
        _requiresGrad = true;
    }

    /// <summary>The data.</summary>
    public Tensor Value { get; }

    /// <summary>Hooks of a leaf; an interior variable's hooks live on the node that computed it.</summary>
    internal List<Func<Tensor, Tensor?>>? LeafHooks { get; private set; }

    /// <summary>
    /// Calls <paramref name="hook"/> with this variable's gradient during every Backward (PyTorch's
    /// <c>register_hook</c>): before it is accumulated into <see cref="Grad"/> for a leaf, before it flows on for an
    /// interior variable. Returning a tensor (of the same shape) replaces the gradient; returning null keeps it.
    /// </summary>
    /// <returns>A handle whose Dispose removes the hook.</returns>
    public RemovableHandle RegisterHook(Func<Tensor, Tensor?> hook)
    {
        ArgumentNullException.ThrowIfNull(hook);
        if (!RequiresGrad)
        {
            throw new InvalidOperationException("RegisterHook: this variable does not require grad, so no gradient will ever reach the hook.");
        }
        var hooks = GradFn is null ? LeafHooks ??= [] : GradFn.OutputHooks ??= [];
        hooks.Add(hook);
        return new RemovableHandle(() => hooks.Remove(hook));
    }

    /// <summary>
    /// The accumulated gradient of a leaf after Backward (null before the first one). Backward adds to it, as in
    /// PyTorch; clear it with <see cref="ZeroGrad"/>. Interior variables keep one only after <see cref="RetainGrad"/>.
    /// </summary>
    public Tensor? Grad
    {
        get => _grad;
        set
        {
            _grad = value;
            GradVariable = null;
        }
    }

    private Tensor? _grad;

    /// <summary>
    /// After <c>Backward(createGraph: true)</c>: the accumulated gradient as a variable of the graph (its value is
    /// <see cref="Grad"/>), to be differentiated again, as PyTorch's <c>x.grad</c> with a grad_fn. Null otherwise; setting
    /// <see cref="Grad"/> clears it.
    /// </summary>
    public Variable? GradVariable { get; private set; }

    /// <summary>Sets the gradient to a variable of a graph (the accumulation of a backward with createGraph).</summary>
    internal void SetGradVariable(Variable gradient)
    {
        _grad = gradient.Value;
        GradVariable = gradient;
    }

    /// <summary>
    /// Drops the gradient (ZeroGrad to null): a buffer a backward handed over goes back to the pool for the next
    /// backward to take; a gradient that is a value of a graph is left to that graph.
    /// </summary>
    internal void DropGrad()
    {
        if (GradVariable is null)
        {
            Buffers.BufferPool.Return(_grad);
        }
        Grad = null;
    }

    /// <summary>Whether a gradient flows to this variable. Only leaves may change it.</summary>
    public bool RequiresGrad
    {
        get => _requiresGrad;
        set
        {
            if (GradFn is not null)
            {
                throw new InvalidOperationException(
                    $"RequiresGrad can only be changed on leaf variables; this one is the result of {GradFn.Name}. Use Detach() for a leaf copy.");
            }
            _requiresGrad = value;
        }
    }

    /// <summary>True when this variable was created by the user rather than computed by a recorded op.</summary>
    public bool IsLeaf => GradFn is null;

    /// <summary>An optional name for messages and graph dumps.</summary>
    public string? Name { get; set; }

    /// <summary>The name of the op that produced this variable (null for leaves).</summary>
    public string? GradFnName => GradFn?.Name;

    internal Function? GradFn { get; }

    /// <summary>
    /// The op that computed this leaf from values of a graph without a derivative (a comparison's mask): no gradient
    /// flows through it, but an exporter follows it, so the mask is computed in the exported graph instead of baked in.
    /// </summary>
    internal Function? Origin { get; private init; }

    /// <summary>The op that computed this variable, differentiable or not (null for a leaf the user made): what exporters and graph dumps walk.</summary>
    internal Function? Producer => GradFn ?? Origin;

    /// <summary>A leaf that a non-differentiable op made from <paramref name="origin"/>'s inputs.</summary>
    internal static Variable FromNonDifferentiable(Tensor value, Function origin) => new(value) { Origin = origin };

    /// <summary>The shape of <see cref="Value"/>.</summary>
    public ReadOnlySpan<int> Shape => Value.Shape;

    /// <summary>The rank of <see cref="Value"/>.</summary>
    public int Rank => Value.Rank;

    /// <summary>The single value of a one-element variable.</summary>
    public float Item() => Value.Item();

    /// <summary>
    /// Computes the gradient of this variable with respect to every leaf that requires grad and adds it to their
    /// <see cref="Grad"/>. A scalar (one-element) output needs no <paramref name="gradient"/>; any other output needs
    /// the gradient of some scalar with respect to it. The graph is released afterwards unless
    /// <paramref name="retainGraph"/> is true, and a second Backward through a released graph throws.
    /// </summary>
    /// <remarks>
    /// With <paramref name="createGraph"/> the backward is itself recorded (each op's derivative written in
    /// differentiable ops), so <see cref="GradVariable"/> can be differentiated again (a gradient penalty, a Hessian-vector
    /// product); the graph is then kept unless <paramref name="retainGraph"/> is false, as in PyTorch. See also
    /// <see cref="Autograd.Grad(Variable, Variable, Variable?, bool?, bool)"/>, which returns gradients rather than
    /// accumulating them.
    /// </remarks>
    public void Backward(Tensor? gradient = null, bool? retainGraph = null, bool createGraph = false)
        => Engine.Backward(this, gradient, retainGraph ?? createGraph, createGraph);

    /// <summary>Backward with an implicit gradient of ones for a scalar output; see <see cref="Backward(Tensor?, bool?, bool)"/>.</summary>
    public void Backward(bool retainGraph) => Engine.Backward(this, null, retainGraph);

    /// <summary>A new leaf sharing this variable's data, cut from the graph (no gradient flows through it).</summary>
    public Variable Detach()
    {
        Value.Storage.Escaped = true; // the caller keeps it past Backward: the graph must not recycle it
        return new(Value, requiresGrad: false, Name);
    }

    /// <summary>Clears the accumulated gradient (sets it to zero in place, keeping the buffer).</summary>
    /// <remarks>A gradient that is a value of a graph (see <see cref="GradVariable"/>) is replaced by zeros, not written.</remarks>
    public void ZeroGrad()
    {
        if (GradVariable is not null)
        {
            Grad = Tensor.Zeros(_grad!.ShapeArray);
            return;
        }
        _grad?.AsSpan().Clear();
    }

    /// <summary>Asks an interior variable to keep its gradient in <see cref="Grad"/> during Backward.</summary>
    public void RetainGrad()
    {
        if (GradFn is not null)
        {
            GradFn.RetainedOutput = this;
            Value.Storage.Escaped = true;
        }
    }

    /// <summary>The value, and the op that produced it.</summary>
    public override string ToString()
        => GradFn is null
            ? $"Variable({Value}{(RequiresGrad ? ", requires_grad" : "")})"
            : $"Variable({Value}, grad_fn={GradFn.Name})";
}
