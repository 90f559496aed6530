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
    /// <remarks>
    /// Layers without hooks fuse into one node where they can (<see cref="FusedForward"/>): Linear or Conv2d + ReLU apply
    /// the activation in place, so the pre-activation tensor never exists; Conv2d + ReLU + MaxPool2d(2) on small images
    /// pool each sample while its convolution is in cache; otherwise a ReLU before a MaxPool2d runs inside the pooling
    /// node, on the window maxima (max(0, .) commutes with a maximum). Results equal the unfused layers'. Intermediate
    /// results go back to the pool as for any module (when Backward releases their graph); when no graph is recorded
    /// (under NoGrad) a layer's output goes back as soon as the next layer has consumed it, unless a hook saw it.
    /// </remarks>
    public override Variable Forward(Variable input)
    {
        var x = input;
        for (int i = 0; i < _layers.Count; i++)
        {
            var y = FusedForward(i, x, out int fused) ?? _layers[i].Call(x);
            i += fused;
            if (y.GradFn is null && IsChainIntermediate(x, input, y))
            {
                Buffers.BufferPool.Return(x.Value); // no graph: nothing reads x after the layer that just consumed it
            }
            x = y;
        }
        return x;
    }

    /// <summary>Whether <paramref name="x"/> was made by this chain (not the input or a view of it), is not the output's buffer and escaped to no hook.</summary>
    private static bool IsChainIntermediate(Variable x, Variable input, Variable y)
    {
        var storage = x.Value.Storage;
        return storage is Buffers.PooledStorage && !storage.Escaped
            && !ReferenceEquals(storage, input.Value.Storage) && !ReferenceEquals(storage, y.Value.Storage);
    }

    /// <summary>
    /// The layers from <paramref name="i"/> on as one node where they fuse and none has hooks, else null;
    /// <paramref name="extra"/> is how many layers after <paramref name="i"/> the node took.
    /// </summary>
    private Variable? FusedForward(int i, Variable x, out int extra)
    {
        var layer = _layers[i];
        extra = 0;
        if (layer.HasHooks)
        {
            return null;
        }
        bool reluNext = i + 1 < _layers.Count && _layers[i + 1] is ReLU relu && !relu.HasHooks;
        if (reluNext && FusesRelu(i + 2) && layer.ForwardWithReluAndPool(x, (MaxPool2d)_layers[i + 2]) is { } pooled)
        {
            extra = 2; // Conv2d, ReLU and a 2x2 max pooling: each sample is pooled while its convolution is in cache
            return pooled;
        }
        if (layer is ReLU && FusesRelu(i + 1) && _layers[i + 1].ForwardAfterRelu(x) is { } afterRelu)
        {
            extra = 1; // ReLU then MaxPool2d: max(0, .) on the window maxima, a quarter of the values
            return afterRelu;
        }
        if (reluNext && !FusesRelu(i + 2) && layer.ForwardWithRelu(x) is { } withRelu)
        {
            extra = 1; // Linear or Conv2d then ReLU: no intermediate tensor (nothing can observe it)
            return withRelu;
        }
        return null;
    }

    /// <summary>Whether the layer at <paramref name="index"/> exists and takes a preceding ReLU into its own node (MaxPool2d without hooks).</summary>
    private bool FusesRelu(int index) => index < _layers.Count && _layers[index] is MaxPool2d pool && !pool.HasHooks;

    /// <summary>One line per layer, indented, as PyTorch prints a Sequential.</summary>
    public override string ToString()
        => "Sequential(\n" + string.Concat(_layers.Select((l, i) => $"  ({i}): {l.ToString().Replace("\n", "\n  ", StringComparison.Ordinal)}\n")) + ")";
}
