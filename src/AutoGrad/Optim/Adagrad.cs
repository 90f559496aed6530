namespace AutoGrad.Optim;

/// <summary>
/// Adagrad (torch.optim.Adagrad): g += wd p (g negated first with <c>maximize</c>); clr = lr / (1 + (t - 1) lr_decay);
/// sum += g^2; p -= clr g / (sqrt(sum) + eps). The sum starts at <c>initial_accumulator_value</c>.
/// </summary>
public sealed class Adagrad : Optimizer
{
    /// <summary>One group over <paramref name="parameters"/>.</summary>
    public Adagrad(IEnumerable<Variable> parameters, float lr = 1e-2f, float lrDecay = 0f, float weightDecay = 0f,
        float initialAccumulatorValue = 0f, float eps = 1e-10f, bool maximize = false)
        : this(SingleGroup(parameters), lr, lrDecay, weightDecay, initialAccumulatorValue, eps, maximize)
    {
    }

    /// <summary>Several groups; each may override lr and weight decay.</summary>
    public Adagrad(IEnumerable<ParamGroup> groups, float lr = 1e-2f, float lrDecay = 0f, float weightDecay = 0f,
        float initialAccumulatorValue = 0f, float eps = 1e-10f, bool maximize = false)
        : base(groups, lr, weightDecay)
    {
        CheckNonNegative(lrDecay, "lr_decay");
        CheckNonNegative(initialAccumulatorValue, "initial_accumulator_value");
        CheckNonNegative(eps, nameof(eps));
        (LrDecay, InitialAccumulatorValue, Eps, Maximize) = (lrDecay, initialAccumulatorValue, eps, maximize);
    }

    /// <summary>How fast the step size decays with the step count.</summary>
    public float LrDecay { get; }

    /// <summary>The value the sum of squared gradients starts from.</summary>
    public float InitialAccumulatorValue { get; }

    /// <summary>Added to the denominator for stability.</summary>
    public float Eps { get; }

    /// <summary>Whether the objective is maximized (the gradient is ascended).</summary>
    public bool Maximize { get; }

    /// <inheritdoc/>
    protected override IReadOnlyList<string> StateNames => [ParameterState.StepName, "sum"];

    /// <inheritdoc/>
    protected override IReadOnlyList<string> NonNegativeStateNames => ["sum"];

    /// <inheritdoc/>
    protected override void Update(Span<float> p, ReadOnlySpan<float> grad, ParamGroup group, ParameterState state)
    {
        bool fresh = !state.Has("sum");
        var sum = state.Get("sum");
        if (fresh)
        {
            // PyTorch fills the sum when the optimizer is built; it is first read here, so the result is the same.
            sum.Fill(InitialAccumulatorValue);
        }
        int step = state.NextStep();
        float wd = group.WeightDecay, eps = Eps, sign = Maximize ? -1f : 1f;
        // In double, as PyTorch computes it in Python floats.
        float clr = (float)(group.LearningRate / (1.0 + (step - 1) * (double)LrDecay));
        for (int i = 0; i < p.Length; i++)
        {
            float g = sign * grad[i];
            if (wd != 0f)
            {
                g += wd * p[i];
            }
            sum[i] += g * g;
            p[i] += -clr * (g / (MathF.Sqrt(sum[i]) + eps));
        }
    }
}
