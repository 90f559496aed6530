namespace AutoGrad.Nn;

/// <summary>Named tensors in insertion order: a module's parameters or an optimizer's state, as saved to disk.</summary>
public sealed class StateDict : IReadOnlyDictionary<string, Tensor>
{
    private readonly OrderedDictionary<string, Tensor> _entries = new(StringComparer.Ordinal);

    /// <summary>Adds <paramref name="tensor"/> under a new <paramref name="name"/>.</summary>
    public void Add(string name, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(tensor);
        if (!_entries.TryAdd(name, tensor))
        {
            throw new ArgumentException($"StateDict: the key '{name}' is already present.", nameof(name));
        }
    }

    /// <inheritdoc/>
    public Tensor this[string key] => _entries.TryGetValue(key, out var t)
        ? t
        : throw new KeyNotFoundException($"StateDict: no tensor named '{key}'; keys are {string.Join(", ", _entries.Keys)}.");

    /// <inheritdoc/>
    public IEnumerable<string> Keys => _entries.Keys;

    /// <inheritdoc/>
    public IEnumerable<Tensor> Values => _entries.Values;

    /// <inheritdoc/>
    public int Count => _entries.Count;

    /// <inheritdoc/>
    public bool ContainsKey(string key) => _entries.ContainsKey(key);

    /// <inheritdoc/>
    public bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out Tensor value)
        => _entries.TryGetValue(key, out value);

    /// <inheritdoc/>
    public IEnumerator<KeyValuePair<string, Tensor>> GetEnumerator() => _entries.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
