namespace AutoGrad.Nn;

// A module's saved state: its parameters and its buffers (tensors that are state but not learned, such as
// BatchNorm's running statistics), in PyTorch's order and under PyTorch's names.
public abstract partial class Module
{
    private readonly List<KeyValuePair<string, Tensor>> _buffers = [];
    private readonly HashSet<string> _transientBuffers = new(StringComparer.Ordinal);

    /// <summary>
    /// Adds a buffer under <paramref name="name"/> and returns it (PyTorch's register_buffer): state that is saved in
    /// <see cref="StateDict"/> (unless not <paramref name="persistent"/>) and restored by <see cref="LoadStateDict"/>, but
    /// is not a parameter, so no optimizer trains it. The module updates it in place, so the tensor stays the same object.
    /// </summary>
    /// <remarks>
    /// The check for a forgotten registration looks at fields holding modules and parameters only: a tensor field is as
    /// often scratch as state, so a buffer is whatever the constructor registers.
    /// </remarks>
    protected Tensor RegisterBuffer(string name, Tensor tensor, bool persistent = true)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        CheckNewName(name);
        _buffers.Add(new(name, tensor));
        if (!persistent)
        {
            _transientBuffers.Add(name);
        }
        return tensor;
    }

    /// <summary>Every buffer of this module and its descendants with its dotted name (<c>bn1.running_mean</c>).</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> NamedBuffers()
        => NamedState("", persistentOnly: false).Where(e => !e.IsParameter).Select(e => new KeyValuePair<string, Tensor>(e.Name, e.Tensor));

    /// <summary>Every buffer of this module and its descendants.</summary>
    public IEnumerable<Tensor> Buffers() => NamedBuffers().Select(b => b.Value);

    /// <summary>
    /// The parameters and persistent buffers by dotted name, module by module as PyTorch orders them (a module's
    /// parameters, then its buffers, then its children's). The tensors are the live ones (not copies), as in PyTorch;
    /// clone them to keep a snapshot.
    /// </summary>
    public StateDict StateDict()
    {
        var state = new StateDict();
        foreach (var (name, tensor) in SavedEntries())
        {
            state.Add(name, tensor);
        }
        return state;
    }

    /// <summary>
    /// Copies <paramref name="state"/> into the parameters and buffers in place (so optimizers keep working). Shapes must
    /// match; with <paramref name="strict"/> the keys must match exactly. All problems are reported in one exception.
    /// </summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(state);
        var own = SavedEntries();
        var missing = new List<string>();
        var mismatched = new List<string>();
        foreach (var (name, target) in own)
        {
            if (!state.TryGetValue(name, out var tensor))
            {
                missing.Add(name);
            }
            else if (!tensor.Shape.SequenceEqual(target.Shape))
            {
                mismatched.Add($"{name}: checkpoint {Shapes.Format(tensor.Shape)}, model {Shapes.Format(target.Shape)}");
            }
        }
        var known = own.Select(p => p.Key).ToHashSet();
        var unexpected = state.Keys.Where(k => !known.Contains(k)).ToList();
        var problems = new List<string>();
        if (strict && missing.Count > 0)
        {
            problems.Add("missing keys: " + string.Join(", ", missing));
        }
        if (strict && unexpected.Count > 0)
        {
            problems.Add("unexpected keys: " + string.Join(", ", unexpected));
        }
        if (mismatched.Count > 0)
        {
            problems.Add("shape mismatches: " + string.Join("; ", mismatched));
        }
        if (problems.Count > 0)
        {
            throw new ArgumentException($"{GetType().Name}.LoadStateDict: {string.Join(". ", problems)}.", nameof(state));
        }
        foreach (var (name, target) in own)
        {
            if (state.TryGetValue(name, out var tensor))
            {
                tensor.AsReadOnlySpan().CopyTo(target.AsSpan()); // bumps the version: a graph that saved the old value refuses backward
            }
        }
    }

    /// <summary>The state dict's entries: parameters and persistent buffers, each tensor once under its first name.</summary>
    private List<KeyValuePair<string, Tensor>> SavedEntries()
    {
        // as NamedParameters, a tensor shared by two modules is listed once, under its first name
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        return NamedState("", persistentOnly: true).Where(e => seen.Add(e.Tensor)).Select(e => new KeyValuePair<string, Tensor>(e.Name, e.Tensor)).ToList();
    }

    private IEnumerable<(string Name, Tensor Tensor, bool IsParameter)> NamedState(string prefix, bool persistentOnly)
    {
        CheckRegistration();
        foreach (var (name, parameter) in _parameters)
        {
            yield return (prefix + name, parameter.Value, true);
        }
        foreach (var (name, buffer) in _buffers)
        {
            if (!persistentOnly || !_transientBuffers.Contains(name))
            {
                yield return (prefix + name, buffer, false);
            }
        }
        foreach (var (name, child) in _children)
        {
            foreach (var entry in child.NamedState(prefix + name + ".", persistentOnly))
            {
                yield return entry;
            }
        }
    }
}
