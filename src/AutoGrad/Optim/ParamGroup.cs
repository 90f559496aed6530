namespace AutoGrad.Optim;

/// <summary>
/// A set of parameters that share a learning rate and weight decay (PyTorch's param_groups entry). Schedulers change
/// <see cref="LearningRate"/> between steps.
/// </summary>
public sealed class ParamGroup
{
    /// <summary>A group; null hyperparameters take the optimizer's defaults.</summary>
    public ParamGroup(IEnumerable<Variable> parameters, float? learningRate = null, float? weightDecay = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Parameters = parameters.ToArray();
        RequestedLearningRate = learningRate;
        RequestedWeightDecay = weightDecay;
    }

    /// <summary>The parameters (leaf variables) this group updates.</summary>
    public IReadOnlyList<Variable> Parameters { get; }

    /// <summary>The current learning rate.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to a value that is not finite and &gt;= 0.</exception>
    public float LearningRate
    {
        get;
        set => field = Check(value, "lr");
    }

    /// <summary>The weight decay (L2 penalty, or decoupled decay in AdamW).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to a value that is not finite and &gt;= 0.</exception>
    public float WeightDecay
    {
        get;
        set => field = Check(value, "weight_decay");
    }

    /// <summary>The learning rate the schedule starts from (PyTorch's initial_lr).</summary>
    public float InitialLearningRate
    {
        get;
        internal set => field = Check(value, "initial_lr");
    }

    /// <summary>
    /// The group's own momentum (SGD, RMSprop) or beta1 (Adam, AdamW, NAdam), as PyTorch's group['momentum'] or
    /// group['betas'][0]; null (the default) uses the optimizer's. <see cref="OneCycleLr"/> sets it every step.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to a value outside [0, 1).</exception>
    public float? Momentum
    {
        get;
        set => field = value is not { } m || m >= 0f && m < 1f
            ? value
            : throw new ArgumentOutOfRangeException("momentum", value, $"ParamGroup: momentum (or beta1) must be in [0, 1); got {value}.");
    }

    private static float Check(float value, string name)
        => value >= 0f && !float.IsInfinity(value)
            ? value
            : throw new ArgumentOutOfRangeException(name, value, $"ParamGroup: {name} must be finite and >= 0; got {value}.");

    internal float? RequestedLearningRate { get; }

    internal float? RequestedWeightDecay { get; }
}
