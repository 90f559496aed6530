namespace AutoGrad.Optim;

/// <summary>
/// NAdam (torch.optim.NAdam, as PyTorch 1.13 computes it): g += wd p; mu_t = b1 (1 - 0.96^(t psi) / 2) with psi the
/// momentum decay; prod *= mu_t; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; d = sqrt(v / (1 - b2^t)) + eps;
/// p -= lr (1 - mu_t) / (1 - prod) g / d + lr mu_{t+1} / (1 - prod mu_t mu_{t+1}) m / d.
/// </summary>
/// <remarks>
/// The second term's denominator multiplies mu_t in twice: PyTorch 1.13 does (later versions drop the extra factor),
/// and parity with 1.13 is the contract here. prod is state <c>mu_product</c>, kept in float32 as PyTorch keeps it.
/// </remarks>
public sealed class NAdam : Optimizer
{
    /// <summary>One group over <paramref name="parameters"/>.</summary>
    public NAdam(IEnumerable<Variable> parameters, float lr = 2e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f,
        float weightDecay = 0f, float momentumDecay = 4e-3f)
        : this(SingleGroup(parameters), lr, beta1, beta2, eps, weightDecay, momentumDecay)
    {
    }

    /// <summary>Several groups; each may override lr and weight decay.</summary>
    public NAdam(IEnumerable<ParamGroup> groups, float lr = 2e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f,
        float weightDecay = 0f, float momentumDecay = 4e-3f)
        : base(groups, lr, weightDecay)
    {
        CheckUnitInterval(beta1, "beta1");
        CheckUnitInterval(beta2, "beta2");
        CheckNonNegative(eps, nameof(eps));
        CheckNonNegative(momentumDecay, "momentum_decay");
        (Beta1, Beta2, Eps, MomentumDecay) = (beta1, beta2, eps, momentumDecay);
    }

    /// <summary>The decay of the first-moment average (and the scale of the momentum schedule).</summary>
    public float Beta1 { get; }

    /// <summary>The decay of the second-moment average.</summary>
    public float Beta2 { get; }

    /// <summary>Added to the denominator for stability.</summary>
    public float Eps { get; }

    /// <summary>How fast the momentum schedule mu_t rises towards beta1 (PyTorch's momentum_decay, psi).</summary>
    public float MomentumDecay { get; }

    /// <inheritdoc/>
    protected override IReadOnlyList<string> StateNames => [ParameterState.StepName, MuProduct, "exp_avg", "exp_avg_sq"];

    /// <inheritdoc/>
    protected override IReadOnlyList<string> NonNegativeStateNames => [MuProduct, "exp_avg_sq"];

    /// <inheritdoc/>
    protected override IReadOnlyList<string> ScalarStateNames => [ParameterState.StepName, MuProduct];

    /// <inheritdoc/>
    internal override float? DefaultMomentum => Beta1;

    private const string MuProduct = "mu_product";

    /// <inheritdoc/>
    protected override void Update(Span<float> p, ReadOnlySpan<float> grad, ParamGroup group, ParameterState state)
    {
        int step = state.NextStep();
        var product = state.GetScalar(MuProduct, 1f);
        var m = state.Get("exp_avg");
        var v = state.Get("exp_avg_sq");
        float b1 = MomentumOf(group), b2 = Beta2, eps = Eps, wd = group.WeightDecay;
        // Scalars in double as PyTorch's Python floats; the product rounds to float32 as its tensor does.
        double lr = group.LearningRate;
        float correction2 = (float)(1.0 - Math.Pow(b2, step));
        double mu = b1 * (1.0 - 0.5 * Math.Pow(0.96, step * (double)MomentumDecay));
        double muNext = b1 * (1.0 - 0.5 * Math.Pow(0.96, (step + 1) * (double)MomentumDecay));
        product[0] = (float)(product[0] * mu);
        float productNext = (float)((float)(product[0] * mu) * muNext);
        float gradScale = (float)(-lr * (1.0 - mu) / (1.0 - product[0]));
        float avgScale = (float)(-lr * muNext / (1.0 - productNext));
        for (int i = 0; i < p.Length; i++)
        {
            float g = wd != 0f ? grad[i] + wd * p[i] : grad[i];
            m[i] = m[i] * b1 + (1f - b1) * g;
            v[i] = v[i] * b2 + (1f - b2) * g * g;
            float denom = MathF.Sqrt(v[i] / correction2) + eps;
            p[i] += gradScale * (g / denom);
            p[i] += avgScale * (m[i] / denom);
        }
    }
}
