using AutoGrad.Nn;

namespace AutoGrad.Optim;

/// <summary>
/// The base of the optimizers (torch.optim.Optimizer): parameter groups, per-parameter state named after the math
/// (step, exp_avg, exp_avg_sq, ...), ZeroGrad, Step and a state dict that round-trips through safetensors.
/// </summary>
public abstract class Optimizer
{
    private readonly List<ParamGroup> _groups = [];
    private readonly List<OrderedDictionary<string, Tensor>> _state = [];

    /// <summary>Validates and stores the groups; null per-group hyperparameters take the given defaults.</summary>
    protected Optimizer(IEnumerable<ParamGroup> groups, float learningRate, float weightDecay)
    {
        ArgumentNullException.ThrowIfNull(groups);
        var seen = new HashSet<Variable>(ReferenceEqualityComparer.Instance);
        foreach (var group in groups)
        {
            ArgumentNullException.ThrowIfNull(group);
            CheckNonNegative(group.RequestedLearningRate ?? learningRate, "lr");
            CheckNonNegative(group.RequestedWeightDecay ?? weightDecay, "weight_decay");
            group.LearningRate = group.RequestedLearningRate ?? learningRate;
            group.WeightDecay = group.RequestedWeightDecay ?? weightDecay;
            group.InitialLearningRate = group.LearningRate;
            foreach (var p in group.Parameters)
            {
                if (p is null || !p.IsLeaf || !p.RequiresGrad)
                {
                    throw new ArgumentException($"{Name}: every parameter must be a leaf variable that requires grad; got {p?.ToString() ?? "null"}.");
                }
                if (!seen.Add(p))
                {
                    throw new ArgumentException($"{Name}: parameter {p.Name ?? Shapes.Format(p.Shape)} appears in more than one group or twice in one.");
                }
                _state.Add(new OrderedDictionary<string, Tensor>(StringComparer.Ordinal));
            }
            _groups.Add(group);
        }
        if (_state.Count == 0)
        {
            throw new ArgumentException($"{Name}: got an empty parameter list.");
        }
    }

    /// <summary>One group holding <paramref name="parameters"/>.</summary>
    protected static IEnumerable<ParamGroup> SingleGroup(IEnumerable<Variable> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return [new ParamGroup(parameters)];
    }

    /// <summary>The optimizer's name in messages (SGD, Adam, ...).</summary>
    public virtual string Name => GetType().Name;

    /// <summary>The parameter groups, in order.</summary>
    public IReadOnlyList<ParamGroup> ParamGroups => _groups;

    /// <summary>The first group's current learning rate.</summary>
    public float LearningRate => _groups[0].LearningRate;

    /// <summary>
    /// Clears every parameter's gradient: to null (the default, as PyTorch 2) or to zeros in place (PyTorch 1.13's
    /// default). Either way the next backward allocates no new gradient buffer: a nulled gradient's buffer goes back to
    /// the pool (so a gradient tensor kept past ZeroGrad throws when read; Clone() it to keep it).
    /// </summary>
    public void ZeroGrad(bool setToNull = true)
    {
        foreach (var group in _groups)
        {
            foreach (var p in group.Parameters)
            {
                if (setToNull)
                {
                    // the pooled buffer a backward handed over goes back, for the next backward to take (a gradient
                    // the caller kept past this throws when read; Clone() it to keep it)
                    p.DropGrad();
                }
                else
                {
                    p.ZeroGrad();
                }
            }
        }
    }

    /// <summary>Updates every parameter that has a gradient (those without one are skipped, as in PyTorch).</summary>
    public void Step()
    {
        using var _ = GradMode.NoGrad();
        int index = 0;
        foreach (var group in _groups)
        {
            foreach (var p in group.Parameters)
            {
                if (p.Grad is { } grad)
                {
                    Update(p.Value.AsSpan(), grad.AsReadOnlySpan(), group, new ParameterState(_state[index], p.Value));
                }
                index++;
            }
        }
    }

    /// <summary>The rule for one parameter: updates <paramref name="parameter"/> in place from <paramref name="grad"/>.</summary>
    protected abstract void Update(Span<float> parameter, ReadOnlySpan<float> grad, ParamGroup group, ParameterState state);

    /// <summary>
    /// The optimizer's state: <c>state.{i}.{name}</c> for parameter i (counted across groups) and
    /// <c>param_groups.{g}.lr</c> / <c>.weight_decay</c> / <c>.initial_lr</c>. Tensors are live; clone to snapshot.
    /// </summary>
    public StateDict StateDict()
    {
        var dict = new StateDict();
        for (int g = 0; g < _groups.Count; g++)
        {
            dict.Add($"param_groups.{g}.lr", Tensor.Scalar(_groups[g].LearningRate));
            dict.Add($"param_groups.{g}.initial_lr", Tensor.Scalar(_groups[g].InitialLearningRate));
            dict.Add($"param_groups.{g}.weight_decay", Tensor.Scalar(_groups[g].WeightDecay));
        }
        for (int i = 0; i < _state.Count; i++)
        {
            foreach (var (name, tensor) in _state[i])
            {
                dict.Add($"state.{i}.{name}", tensor);
            }
        }
        return dict;
    }

    /// <summary>
    /// The state one parameter holds once it has been stepped, by name, e.g. <c>step</c>, <c>exp_avg</c> and
    /// <c>exp_avg_sq</c> for Adam. <see cref="LoadStateDict"/> accepts for each parameter either none of it (never
    /// stepped) or all of it, and nothing else. Null (the default, for optimizers that do not declare their state)
    /// accepts any names whose tensors have the parameter's shape.
    /// </summary>
    protected virtual IReadOnlyList<string>? StateNames => null;

    /// <summary>State that can never be negative (running averages of squares); a checkpoint with a negative value is rejected.</summary>
    protected virtual IReadOnlyList<string> NonNegativeStateNames => [];

    /// <summary>State kept as one number per parameter (rank 0, like the step count), e.g. NAdam's mu_product.</summary>
    protected virtual IReadOnlyList<string> ScalarStateNames => [ParameterState.StepName];

    /// <summary>
    /// The optimizer's momentum (SGD, RMSprop) or beta1 (Adam, AdamW, NAdam), which <see cref="OneCycleLr"/> cycles
    /// through <see cref="ParamGroup.Momentum"/>; null for optimizers without one (PyTorch: neither 'momentum' nor 'betas').
    /// </summary>
    internal virtual float? DefaultMomentum => null;

    /// <summary>The momentum (or beta1) that applies to <paramref name="group"/>: its cycled value, else the optimizer's.</summary>
    private protected float MomentumOf(ParamGroup group) => group.Momentum ?? DefaultMomentum ?? 0f;

    /// <summary>
    /// Restores a state saved by <see cref="StateDict"/> from an optimizer of the same kind over the same parameters:
    /// every group's lr, initial_lr and weight_decay (finite and &gt;= 0) and every parameter's state (the names the
    /// optimizer keeps, the parameter's shape, finite values, integer step counts). Nothing changes unless all of it
    /// is valid.
    /// </summary>
    /// <exception cref="ArgumentException">A key is missing, unexpected or mis-shaped, or a value is out of range; all problems are listed.</exception>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var commit = PrepareLoadStateDict(state, out var problems);
        if (commit is null)
        {
            throw new ArgumentException($"{Name}.LoadStateDict: {problems}.", nameof(state));
        }
        commit();
    }

    /// <summary>
    /// Checks <paramref name="state"/> completely without changing anything; returns the action that applies it, or
    /// null with every problem in <paramref name="problems"/>.
    /// </summary>
    internal Action? PrepareLoadStateDict(IReadOnlyDictionary<string, Tensor> state, out string problems)
    {
        var found = new List<string>();
        var groupValues = new float[_groups.Count, 3];
        var parameterShapes = _groups.SelectMany(g => g.Parameters).Select(p => p.Value.Shape.ToArray()).ToArray();
        var newState = parameterShapes.Select(_ => new OrderedDictionary<string, Tensor>(StringComparer.Ordinal)).ToArray();
        string[] groupFields = ["lr", "initial_lr", "weight_decay"];
        for (int g = 0; g < _groups.Count; g++)
        {
            for (int f = 0; f < groupFields.Length; f++)
            {
                string key = $"param_groups.{g}.{groupFields[f]}";
                if (!state.TryGetValue(key, out var t) || t.Length != 1)
                {
                    found.Add($"missing or non-scalar '{key}'");
                    continue;
                }
                float value = t.AsReadOnlySpan()[0];
                if (!(value >= 0f) || float.IsInfinity(value))
                {
                    found.Add($"'{key}' is {value}; it must be finite and >= 0");
                }
                groupValues[g, f] = value;
            }
        }
        var names = StateNames;
        var nonNegative = NonNegativeStateNames;
        foreach (var (key, tensor) in state)
        {
            if (key.StartsWith("param_groups.", StringComparison.Ordinal))
            {
                if (!IsGroupKey(key, _groups.Count, groupFields))
                {
                    found.Add($"unexpected key '{key}'");
                }
                continue;
            }
            var parts = key.Split('.', 3);
            if (parts.Length != 3 || parts[0] != "state" || !int.TryParse(parts[1], System.Globalization.NumberStyles.None, null, out int i)
                || i >= newState.Length || names is not null && !names.Contains(parts[2]))
            {
                found.Add($"unexpected key '{key}'{(names is null ? "" : $" ({Name} keeps {string.Join(", ", names.DefaultIfEmpty("no state"))})")}");
                continue;
            }
            if (!IsValidStateShape(ScalarStateNames.Contains(parts[2]), tensor.Shape, parameterShapes[i]))
            {
                found.Add($"'{key}' has shape {Shapes.Format(tensor.Shape)}, parameter {i} is {Shapes.Format(parameterShapes[i])}");
                continue;
            }
            if (CheckValues(parts[2], tensor.AsReadOnlySpan(), nonNegative.Contains(parts[2])) is { } problem)
            {
                found.Add($"'{key}' {problem}");
                continue;
            }
            newState[i].Add(parts[2], tensor.Clone());
        }
        if (names is not null)
        {
            for (int i = 0; i < newState.Length; i++)
            {
                if (newState[i].Count > 0 && newState[i].Count < names.Count)
                {
                    found.Add($"parameter {i} has state {string.Join(", ", newState[i].Keys)} but lacks {string.Join(", ", names.Except(newState[i].Keys))}");
                }
            }
        }
        problems = string.Join("; ", found);
        if (found.Count > 0)
        {
            return null;
        }
        return () =>
        {
            for (int g = 0; g < _groups.Count; g++)
            {
                _groups[g].LearningRate = groupValues[g, 0];
                _groups[g].InitialLearningRate = groupValues[g, 1];
                _groups[g].WeightDecay = groupValues[g, 2];
            }
            for (int i = 0; i < newState.Length; i++)
            {
                _state[i] = newState[i];
            }
        };
    }

    private static string? CheckValues(string name, ReadOnlySpan<float> values, bool nonNegative)
    {
        if (name == ParameterState.StepName)
        {
            float step = values[0];
            return step >= 0f && step <= 1 << 24 && step == MathF.Floor(step) ? null : $"is {step}; a step count is an integer in [0, 2^24]";
        }
        for (int j = 0; j < values.Length; j++)
        {
            if (!float.IsFinite(values[j]) || nonNegative && values[j] < 0f)
            {
                return $"holds {values[j]} at element {j}; {(nonNegative ? "it must be finite and >= 0" : "it must be finite")}";
            }
        }
        return null;
    }

    private static bool IsGroupKey(string key, int groupCount, string[] fields)
    {
        var parts = key.Split('.');
        return parts.Length == 3 && int.TryParse(parts[1], System.Globalization.NumberStyles.None, null, out int g) && g < groupCount
            && fields.Contains(parts[2]);
    }

    // Scalars (the step count, NAdam's mu_product) are rank 0; every other state tensor has its parameter's shape.
    private static bool IsValidStateShape(bool scalar, ReadOnlySpan<int> shape, int[] parameterShape)
        => scalar ? shape.Length == 0 : shape.SequenceEqual(parameterShape);

    /// <summary>Throws unless <paramref name="value"/> is finite and &gt;= 0.</summary>
    protected void CheckNonNegative(float value, string name)
    {
        if (!(value >= 0f) || float.IsInfinity(value))
        {
            throw new ArgumentOutOfRangeException(name, value, $"{Name}: {name} must be finite and >= 0; got {value}.");
        }
    }

    /// <summary>Throws unless 0 &lt;= <paramref name="value"/> &lt; 1.</summary>
    protected void CheckUnitInterval(float value, string name)
    {
        if (!(value >= 0f && value < 1f))
        {
            throw new ArgumentOutOfRangeException(name, value, $"{Name}: {name} must be in [0, 1); got {value}.");
        }
    }
}

/// <summary>The state tensors of one parameter, created as zeros on first use.</summary>
public readonly struct ParameterState
{
    internal const string StepName = "step";
    private readonly OrderedDictionary<string, Tensor> _tensors;
    private readonly Tensor _parameter;

    internal ParameterState(OrderedDictionary<string, Tensor> tensors, Tensor parameter)
    {
        _tensors = tensors;
        _parameter = parameter;
    }

    /// <summary>True when the named state exists (e.g. a momentum buffer after the first step).</summary>
    public bool Has(string name) => _tensors.ContainsKey(name);

    /// <summary>The named state, of the parameter's shape, zero on first use.</summary>
    public Span<float> Get(string name)
    {
        if (!_tensors.TryGetValue(name, out var t))
        {
            t = Tensor.ZerosOwned((int[])_parameter.ShapeArray.Clone());
            _tensors.Add(name, t);
        }
        return t.AsSpan();
    }

    /// <summary>Increments and returns the step count (stored as a float scalar, as PyTorch does).</summary>
    public int NextStep()
    {
        var span = GetScalar(StepName, 0f);
        span[0] += 1f;
        return (int)span[0];
    }

    /// <summary>The named rank-0 state (one element), <paramref name="initial"/> on first use.</summary>
    public Span<float> GetScalar(string name, float initial)
    {
        if (!_tensors.TryGetValue(name, out var t))
        {
            t = Tensor.Scalar(initial);
            _tensors.Add(name, t);
        }
        return t.AsSpan();
    }
}
