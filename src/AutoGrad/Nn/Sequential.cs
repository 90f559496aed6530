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
        Plan();
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
                AutoGrad.Buffers.BufferPool.Return(x.Value); // no graph: nothing reads x after the layer that just consumed it
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
    /// One fusion: a run of layer types and its fused forward (null where the input does not fit the fused node, e.g. a
    /// pooling geometry it does not take). <see cref="Exclusive"/>: when the rule matches but its node does not fit, the
    /// first layer runs alone rather than trying the later rules (a Conv2d before ReLU and MaxPool2d then leaves the ReLU
    /// to the pooling node, so the convolution's backward needs no mask pass).
    /// </summary>
    private sealed record FusionRule(Type[] Pattern, Func<Module[], Variable, Variable?> Forward, bool Exclusive = false)
    {
        public bool Matches(List<Module> layers, int i)
        {
            if (i + Pattern.Length > layers.Count)
            {
                return false;
            }
            for (int k = 0; k < Pattern.Length; k++)
            {
                if (layers[i + k].GetType() != Pattern[k])
                {
                    return false;
                }
            }
            return true;
        }
    }

    /// <summary>The fusions, in priority order: the one table, built once, that every Sequential plans from.</summary>
    private static readonly FusionRule[] Rules =
    [
        new([typeof(Conv2d), typeof(ReLU), typeof(MaxPool2d)], (m, x) => ((Conv2d)m[0]).ForwardWithReluAndPool(x, (MaxPool2d)m[2]), Exclusive: true),
        new([typeof(ReLU), typeof(MaxPool2d)], (m, x) => ((MaxPool2d)m[1]).ForwardAfterRelu(x)),
        new([typeof(Linear), typeof(ReLU)], (m, x) => ((Linear)m[0]).Forward(x, Activation.Relu)),
        new([typeof(Conv2d), typeof(ReLU)], (m, x) => ((Conv2d)m[0]).Forward(x, Activation.Relu)),
    ];

    // For each layer, the rules that may start there (by type; planned when a layer is added, not on every forward).
    private readonly List<(FusionRule Rule, Module[] Span)[]> _plan = [];

    private void Plan()
    {
        _plan.Clear();
        for (int i = 0; i < _layers.Count; i++)
        {
            var candidates = new List<(FusionRule, Module[])>();
            foreach (var rule in Rules)
            {
                if (rule.Matches(_layers, i))
                {
                    candidates.Add((rule, _layers.GetRange(i, rule.Pattern.Length).ToArray()));
                    if (rule.Exclusive)
                    {
                        break;
                    }
                }
            }
            _plan.Add([.. candidates]);
        }
    }

    /// <summary>
    /// The layers from <paramref name="i"/> on as one node where a planned fusion applies and none of its layers has
    /// hooks (a hook must see every layer's own tensors), else null; <paramref name="extra"/> is how many layers after
    /// <paramref name="i"/> the node took.
    /// </summary>
    private Variable? FusedForward(int i, Variable x, out int extra)
    {
        extra = 0;
        foreach (var (rule, span) in _plan[i])
        {
            if (Array.Exists(span, layer => layer.HasHooks))
            {
                continue;
            }
            if (rule.Forward(span, x) is { } fused)
            {
                extra = span.Length - 1;
                return fused;
            }
            if (rule.Exclusive)
            {
                return null;
            }
        }
        return null;
    }

    /// <summary>One line per layer, indented, as PyTorch prints a Sequential.</summary>
    public override string ToString()
        => "Sequential(\n" + string.Concat(_layers.Select((l, i) => $"  ({i}): {l.ToString().Replace("\n", "\n  ", StringComparison.Ordinal)}\n")) + ")";
}
