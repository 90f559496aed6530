using AutoGrad.Graph;

namespace AutoGrad;

/// <summary>
/// What one call of a <see cref="CustomFunction"/> keeps between its forward and its backward (PyTorch's <c>ctx</c>):
/// the tensors saved for backward, which inputs need a gradient, and whether the output is differentiable at all.
/// </summary>
public sealed class FunctionContext
{
    private readonly bool[] _needsInputGrad;
    private readonly string _function;
    private Tensor[] _saved = [];
    private IReadOnlyList<Variable>? _savedVariables;

    internal FunctionContext(string function, bool[] needsInputGrad)
    {
        _function = function;
        _needsInputGrad = needsInputGrad;
    }

    /// <summary>
    /// Whether input <paramref name="index"/> needs a gradient (grad mode was on and it requires grad): a backward may
    /// skip the others and return null for them, a forward may skip saving what only they would need.
    /// </summary>
    public bool NeedsInputGrad(int index)
    {
        if ((uint)index >= (uint)_needsInputGrad.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(index), $"{_function}: NeedsInputGrad({index}), but the function has {_needsInputGrad.Length} inputs.");
        }
        return _needsInputGrad[index];
    }

    /// <summary>
    /// Keeps tensors for the backward (call it in the forward; a later call replaces the earlier list). Inputs and the
    /// output come back as variables of the graph; any other tensor as a constant. Their versions are noted when the
    /// forward returns, and the backward throws if one was written in place since.
    /// </summary>
    public void SaveForBackward(params Tensor[] tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        for (int i = 0; i < tensors.Length; i++)
        {
            ArgumentNullException.ThrowIfNull(tensors[i], $"tensors[{i}]");
        }
        _saved = [.. tensors];
    }

    /// <summary>
    /// In the backward: the saved tensors, in the order given to <see cref="SaveForBackward"/>, as variables. An input is
    /// that input's own variable and the output is this node's output, so a recorded backward (createGraph) is
    /// differentiated through them; any other saved tensor is a constant.
    /// </summary>
    public IReadOnlyList<Variable> SavedTensors => _savedVariables ?? throw new InvalidOperationException(
        $"{_function}: SavedTensors can be read only in Backward (in Forward, use the tensors themselves).");

    /// <summary>
    /// Marks the output as not differentiable (an index, a mask, a count, as PyTorch's <c>mark_non_differentiable</c>):
    /// it is returned as a constant that does not require grad, and Backward is never called.
    /// </summary>
    public void MarkNonDifferentiable() => IsNonDifferentiable = true;

    internal bool IsNonDifferentiable { get; private set; }

    internal Tensor[] Saved => _saved;

    /// <summary>Set by the node for the duration of one backward.</summary>
    internal void SetSavedVariables(IReadOnlyList<Variable>? variables) => _savedVariables = variables;

    internal void Clear()
    {
        _saved = [];
        _savedVariables = null;
    }
}
