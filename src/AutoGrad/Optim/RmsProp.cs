namespace AutoGrad.Optim;

/// <summary>
/// RMSprop (torch.optim.RMSprop): s = a s + (1 - a) g^2; with <c>centered</c> the running mean of g is subtracted
/// (avg = sqrt(s - gbar^2) + eps, else sqrt(s) + eps); with momentum b = mu b + g / avg and p -= lr b, else p -= lr g / avg.
/// </summary>
public sealed class RmsProp : Optimizer
{
    /// <summary>One group over <paramref name="parameters"/>.</summary>
    public RmsProp(IEnumerable<Variable> parameters, float lr = 1e-2f, float alpha = 0.99f, float eps = 1e-8f, float weightDecay = 0f,
        float momentum = 0f, bool centered = false)
        : this(SingleGroup(parameters), lr, alpha, eps, weightDecay, momentum, centered)
    {
    }

    /// <summary>Several groups; each may override lr and weight decay.</summary>
    public RmsProp(IEnumerable<ParamGroup> groups, float lr = 1e-2f, float alpha = 0.99f, float eps = 1e-8f, float weightDecay = 0f,
        float momentum = 0f, bool centered = false)
        : base(groups, lr, weightDecay)
    {
        CheckNonNegative(alpha, nameof(alpha));
        CheckNonNegative(eps, nameof(eps));
        CheckNonNegative(momentum, nameof(momentum));
        (Alpha, Eps, Momentum, Centered) = (alpha, eps, momentum, centered);
    }

    /// <inheritdoc/>
    public override string Name => "RMSprop";

    /// <summary>The smoothing constant of the squared-gradient average.</summary>
    public float Alpha { get; }

    /// <summary>Added to the denominator for stability.</summary>
    public float Eps { get; }

    /// <summary>The momentum factor.</summary>
    public float Momentum { get; }

    /// <summary>Whether the gradient's variance (not its raw second moment) normalizes the step.</summary>
    public bool Centered { get; }

    /// <inheritdoc/>
    protected override IReadOnlyList<string> StateNames =>
        [ParameterState.StepName, "square_avg", .. Centered ? ["grad_avg"] : Array.Empty<string>(), .. ParamGroups.Any(g => MomentumOf(g) > 0f) ? ["momentum_buffer"] : Array.Empty<string>()];

    /// <inheritdoc/>
    protected override IReadOnlyList<string> NonNegativeStateNames => ["square_avg"];

    /// <inheritdoc/>
    internal override float? DefaultMomentum => Momentum;

    /// <inheritdoc/>
    protected override void Update(Span<float> p, ReadOnlySpan<float> grad, ParamGroup group, ParameterState state)
    {
        state.NextStep();
        var square = state.Get("square_avg");
        var mean = Centered ? state.Get("grad_avg") : default;
        float lr = group.LearningRate, wd = group.WeightDecay, a = Alpha, eps = Eps, mu = MomentumOf(group);
        var buffer = mu > 0f ? state.Get("momentum_buffer") : default;
        for (int i = 0; i < p.Length; i++)
        {
            float g = wd != 0f ? grad[i] + wd * p[i] : grad[i];
            square[i] = square[i] * a + (1f - a) * g * g;
            float avg;
            if (Centered)
            {
                mean[i] += (g - mean[i]) * (1f - a);
                avg = MathF.Sqrt(square[i] - mean[i] * mean[i]) + eps;
            }
            else
            {
                avg = MathF.Sqrt(square[i]) + eps;
            }
            if (mu > 0f)
            {
                buffer[i] = buffer[i] * mu + g / avg;
                p[i] -= lr * buffer[i];
            }
            else
            {
                p[i] -= lr * (g / avg);
            }
        }
    }
}
