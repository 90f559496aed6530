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

    /// <summary>A Sequential of built-in layers keeps no tensors either (its intermediates are handled below).</summary>
    private protected override bool KeepsNoTensors => _layers.TrueForAll(l => l.KeepsNoTensorsOrHooks);

    /// <inheritdoc/>
    /// <remarks>
    /// Built-in layers without hooks fuse into one node where they can (<see cref="FusedForward"/>): Linear or Conv2d +
    /// ReLU apply the activation in place, so the pre-activation tensor never exists; Conv2d + ReLU + MaxPool2d(2) on
    /// small images pool each sample while its convolution is in cache; otherwise a ReLU before a MaxPool2d runs inside
    /// the pooling node, on the window maxima (max(0, .) commutes with a maximum). Results equal the unfused layers'.
    /// Between two built-in layers without hooks, an intermediate result can be reached only through the graph, so its
    /// buffer goes back to the pool when the node that produced it is released by Backward (every node that reads it
    /// comes before that one), or at once when no graph was recorded. The output of the last layer, and anything an
    /// unknown module or a hook may have kept, is left alone.
    /// </remarks>
    public override Variable Forward(Variable input)
    {
        t_depth++;
        try
        {
            return ForwardLayers(input);
        }
        finally
        {
            t_depth--;
        }
    }

    // How many Sequential forwards are running on this thread: the output leaves AutoGrad's hands only at the outermost
    // (an enclosing Sequential gives a nested one's output back, or disowns it, itself).
    [ThreadStatic]
    private static int t_depth;

    private Variable ForwardLayers(Variable input)
    {
        var x = input;
        Variable? owned = null; // x, or the intermediate that x is a view of, when only this chain can reach its buffer
        for (int i = 0; i < _layers.Count; i++)
        {
            var layer = _layers[i];
            bool known = layer.KeepsNoTensorsOrHooks;
            var y = FusedForward(i, x, out int fused);
            i += fused;
            y ??= layer.Call(x);
            if (owned is not null && (!known || !ReferenceEquals(y.Value.Storage, owned.Value.Storage)))
            {
                if (known)
                {
                    GiveBack(owned, y);
                }
                owned = null;
            }
            if (owned is null && known && IsFreshBuffer(y, x))
            {
                owned = y;
            }
            x = y;
        }
        return x;
    }

    /// <summary>
    /// The layers from <paramref name="i"/> on as one node where they fuse and none has hooks, else null;
    /// <paramref name="extra"/> is how many layers after <paramref name="i"/> the node took.
    /// </summary>
    private Variable? FusedForward(int i, Variable x, out int extra)
    {
        var layer = _layers[i];
        extra = 0;
        if (!layer.KeepsNoTensorsOrHooks)
        {
            return null;
        }
        bool reluNext = i + 1 < _layers.Count && _layers[i + 1] is ReLU relu && relu.KeepsNoTensorsOrHooks;
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
    private bool FusesRelu(int index) => index < _layers.Count && _layers[index] is MaxPool2d pool && pool.KeepsNoTensorsOrHooks;

    /// <summary>True when <paramref name="y"/> got a buffer of its own (not a view of its input or of its node's inputs).</summary>
    private static bool IsFreshBuffer(Variable y, Variable x)
    {
        var buffer = y.Value.Storage;
        if (ReferenceEquals(buffer, x.Value.Storage))
        {
            return false;
        }
        if (y.GradFn is { } node)
        {
            foreach (var input in node.Inputs)
            {
                if (ReferenceEquals(input.Value.Storage, buffer))
                {
                    return false;
                }
            }
        }
        return true;
    }

    /// <summary>The consumer of <paramref name="owned"/> has produced <paramref name="next"/>; arranges for the buffer's return.</summary>
    private static void GiveBack(Variable owned, Variable next)
    {
        if (owned.GradFn is { } producer)
        {
            producer.RecycleOutputOnRelease(owned.Value);
        }
        else if (next.GradFn is null)
        {
            Buffers.BufferPool.Return(owned.Value); // no graph was recorded, so no node saved it
        }
    }

    /// <summary>One line per layer, indented, as PyTorch prints a Sequential.</summary>
    public override string ToString()
        => "Sequential(\n" + string.Concat(_layers.Select((l, i) => $"  ({i}): {l.ToString().Replace("\n", "\n  ", StringComparison.Ordinal)}\n")) + ")";
}
