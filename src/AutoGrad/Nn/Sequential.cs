namespace AutoGrad.Nn;

/// <summary>
/// Runs its modules one after another (PyTorch's nn.Sequential); children are named "0", "1", ... so parameters are
/// <c>0.weight</c>, <c>2.bias</c>, and a Sequential registered as <c>features</c> gives <c>features.0.weight</c>.
/// </summary>
public sealed class Sequential : Module
{
    private readonly List<Module> _layers = [];

    /// <summary>Creates the container from <paramref name="layers"/> in order.</summary>
    public Sequential(params Module[] layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        foreach (var layer in layers)
        {
            Add(layer);
        }
    }

    /// <summary>Appends <paramref name="layer"/>; returns this container.</summary>
    public Sequential Add(Module layer)
    {
        RegisterModule(_layers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), layer);
        _layers.Add(layer);
        return this;
    }

    /// <summary>The number of layers.</summary>
    public int Count => _layers.Count;

    /// <summary>The layer at <paramref name="index"/> (negative counts from the end).</summary>
    public Module this[int index]
    {
        get
        {
            int i = index < 0 ? index + _layers.Count : index;
            if (i < 0 || i >= _layers.Count)
            {
                throw new ArgumentOutOfRangeException(nameof(index), index, $"Sequential: index out of range for {_layers.Count} layers.");
            }
            return _layers[i];
        }
    }

    /// <inheritdoc/>
    public override Variable Forward(Variable input)
    {
        var x = input;
        foreach (var layer in _layers)
        {
            x = layer.Call(x);
        }
        return x;
    }

    /// <summary>One line per layer, indented, as PyTorch prints a Sequential.</summary>
    public override string ToString()
        => "Sequential(\n" + string.Concat(_layers.Select((l, i) => $"  ({i}): {l.ToString().Replace("\n", "\n  ", StringComparison.Ordinal)}\n")) + ")";
}
