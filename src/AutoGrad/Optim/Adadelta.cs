namespace AutoGrad.Optim;

/// <summary>
/// Adadelta (torch.optim.Adadelta): g += wd p (g negated first with <c>maximize</c>); v = rho v + (1 - rho) g^2;
/// d = sqrt(u + eps) / sqrt(v + eps) g; u = rho u + (1 - rho) d^2; p -= lr d. v is square_avg, u is acc_delta.
/// </summary>
public sealed class Adadelta : Optimizer
{
    /// <summary>One group over <paramref name="parameters"/>.</summary>
    public Adadelta(IEnumerable<Variable> parameters, float lr = 1f, float rho = 0.9f, float eps = 1e-6f, float weightDecay = 0f,
        bool maximize = false)
        : this(SingleGroup(parameters), lr, rho, eps, weightDecay, maximize)
    {
    }

    /// <summary>Several groups; each may override lr and weight decay.</summary>
    public Adadelta(IEnumerable<ParamGroup> groups, float lr = 1f, float rho = 0.9f, float eps = 1e-6f, float weightDecay = 0f,
        bool maximize = false)
        : base(groups, lr, weightDecay)
    {
        if (!(rho >= 0f && rho <= 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(rho), rho, $"Adadelta: rho must be in [0, 1]; got {rho}.");
        }
        CheckNonNegative(eps, nameof(eps));
        (Rho, Eps, Maximize) = (rho, eps, maximize);
    }

    /// <summary>The decay of both running averages.</summary>
    public float Rho { get; }

    /// <summary>Added inside both square roots for stability.</summary>
    public float Eps { get; }

    /// <summary>Whether the objective is maximized (the gradient is ascended).</summary>
    public bool Maximize { get; }

    /// <inheritdoc/>
    protected override IReadOnlyList<string> StateNames => [ParameterState.StepName, "square_avg", "acc_delta"];

    /// <inheritdoc/>
    protected override IReadOnlyList<string> NonNegativeStateNames => ["square_avg", "acc_delta"];

    /// <inheritdoc/>
    protected override void Update(Span<float> p, ReadOnlySpan<float> grad, ParamGroup group, ParameterState state)
    {
        state.NextStep();
        var square = state.Get("square_avg");
        var accDelta = state.Get("acc_delta");
        float lr = group.LearningRate, wd = group.WeightDecay, rho = Rho, eps = Eps, sign = Maximize ? -1f : 1f;
        for (int i = 0; i < p.Length; i++)
        {
            float g = sign * grad[i];
            if (wd != 0f)
            {
                g += wd * p[i];
            }
            square[i] = square[i] * rho + (1f - rho) * g * g;
            float delta = MathF.Sqrt(accDelta[i] + eps) / MathF.Sqrt(square[i] + eps) * g;
            accDelta[i] = accDelta[i] * rho + (1f - rho) * delta * delta;
            p[i] += -lr * delta;
        }
    }
}
