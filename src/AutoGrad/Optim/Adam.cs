using System.Numerics;

namespace AutoGrad.Optim;

/// <summary>
/// Adam (torch.optim.Adam), with optional L2 weight decay added to the gradient and the AMSGrad variant:
/// m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
/// </summary>
public class Adam : Optimizer
{
    /// <summary>One group over <paramref name="parameters"/>.</summary>
    public Adam(IEnumerable<Variable> parameters, float lr = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f,
        float weightDecay = 0f, bool amsgrad = false)
        : this(SingleGroup(parameters), lr, beta1, beta2, eps, weightDecay, amsgrad)
    {
    }

    /// <summary>Several groups; each may override lr and weight decay.</summary>
    public Adam(IEnumerable<ParamGroup> groups, float lr = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f,
        float weightDecay = 0f, bool amsgrad = false)
        : base(groups, lr, weightDecay)
    {
        CheckUnitInterval(beta1, "beta1");
        CheckUnitInterval(beta2, "beta2");
        CheckNonNegative(eps, nameof(eps));
        (Beta1, Beta2, Eps, AmsGrad) = (beta1, beta2, eps, amsgrad);
    }

    /// <summary>The decay of the first-moment average.</summary>
    public float Beta1 { get; }

    /// <summary>The decay of the second-moment average.</summary>
    public float Beta2 { get; }

    /// <summary>Added to the denominator for stability.</summary>
    public float Eps { get; }

    /// <summary>Whether the running maximum of the second moment is used (AMSGrad).</summary>
    public bool AmsGrad { get; }

    /// <summary>True when weight decay shrinks the parameters directly (AdamW) instead of joining the gradient.</summary>
    protected virtual bool DecoupledWeightDecay => false;

    /// <inheritdoc/>
    protected override IReadOnlyList<string> StateNames => AmsGrad
        ? [ParameterState.StepName, "exp_avg", "exp_avg_sq", "max_exp_avg_sq"]
        : [ParameterState.StepName, "exp_avg", "exp_avg_sq"];

    /// <inheritdoc/>
    protected override IReadOnlyList<string> NonNegativeStateNames => ["exp_avg_sq", "max_exp_avg_sq"];

    /// <inheritdoc/>
    internal override float? DefaultMomentum => Beta1;

    /// <inheritdoc/>
    protected override void Update(Span<float> p, ReadOnlySpan<float> grad, ParamGroup group, ParameterState state)
    {
        int step = state.NextStep();
        var m = state.Get("exp_avg");
        var v = state.Get("exp_avg_sq");
        var vMax = AmsGrad ? state.Get("max_exp_avg_sq") : default;
        float lr = group.LearningRate, wd = group.WeightDecay;
        float b1 = MomentumOf(group), b2 = Beta2, eps = Eps;
        // Scalars in double, as PyTorch computes them in Python floats.
        float stepSize = (float)(lr / (1.0 - Math.Pow(b1, step)));
        float correction2Sqrt = (float)Math.Sqrt(1.0 - Math.Pow(b2, step));
        float decay = DecoupledWeightDecay ? 1f - lr * wd : 1f;
        bool l2 = !DecoupledWeightDecay && wd != 0f;
        bool decoupled = DecoupledWeightDecay, amsgrad = AmsGrad;

        // The vector loop applies exactly the scalar formulas lane by lane (no fused multiply-add), so both loops
        // round identically and results do not depend on the vector width.
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vb1 = new Vector<float>(1f - b1);
            var vb2 = new Vector<float>(b2);
            var vb2c = new Vector<float>(1f - b2);
            var vwd = new Vector<float>(wd);
            var vdecay = new Vector<float>(decay);
            var vstep = new Vector<float>(-stepSize);
            var vcorr = new Vector<float>(correction2Sqrt);
            var veps = new Vector<float>(eps);
            for (; i <= p.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var vp = new Vector<float>(p[i..]);
                var g = new Vector<float>(grad[i..]);
                if (l2)
                {
                    g += vwd * vp;
                }
                if (decoupled)
                {
                    vp *= vdecay;
                }
                var vm = new Vector<float>(m[i..]);
                vm += (g - vm) * vb1;
                var vv = new Vector<float>(v[i..]) * vb2 + vb2c * g * g;
                var second = vv;
                if (amsgrad)
                {
                    second = Vector.Max(new Vector<float>(vMax[i..]), vv);
                    second.CopyTo(vMax[i..]);
                }
                var denom = Vector.SquareRoot(second) / vcorr + veps;
                vp += vstep * (vm / denom);
                vm.CopyTo(m[i..]);
                vv.CopyTo(v[i..]);
                vp.CopyTo(p[i..]);
            }
        }
        for (; i < p.Length; i++)
        {
            float g = l2 ? grad[i] + wd * p[i] : grad[i];
            if (decoupled)
            {
                p[i] *= decay;
            }
            m[i] += (g - m[i]) * (1f - b1);
            v[i] = v[i] * b2 + (1f - b2) * g * g;
            float second = v[i];
            if (amsgrad)
            {
                vMax[i] = MathF.Max(vMax[i], v[i]);
                second = vMax[i];
            }
            float denom = MathF.Sqrt(second) / correction2Sqrt + eps;
            p[i] += -stepSize * (m[i] / denom);
        }
    }
}

/// <summary>
/// AdamW (torch.optim.AdamW): Adam with decoupled weight decay, p *= 1 - lr wd before the Adam step.
/// The default weight decay is 0.01, as in PyTorch.
/// </summary>
public sealed class AdamW : Adam
{
    /// <summary>One group over <paramref name="parameters"/>.</summary>
    public AdamW(IEnumerable<Variable> parameters, float lr = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f,
        float weightDecay = 1e-2f, bool amsgrad = false)
        : base(parameters, lr, beta1, beta2, eps, weightDecay, amsgrad)
    {
    }

    /// <summary>Several groups; each may override lr and weight decay.</summary>
    public AdamW(IEnumerable<ParamGroup> groups, float lr = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f,
        float weightDecay = 1e-2f, bool amsgrad = false)
        : base(groups, lr, beta1, beta2, eps, weightDecay, amsgrad)
    {
    }

    /// <inheritdoc/>
    protected override bool DecoupledWeightDecay => true;
}
