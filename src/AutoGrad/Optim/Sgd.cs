using System.Numerics;

namespace AutoGrad.Optim;

/// <summary>
/// Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and L2 weight decay, step for
/// step as torch.optim.SGD: d = g + wd p; b = momentum b + (1 - dampening) d (b = d on the first step);
/// d = nesterov ? d + momentum b : b; p -= lr d.
/// </summary>
public sealed class Sgd : Optimizer
{
    /// <summary>One group over <paramref name="parameters"/>.</summary>
    public Sgd(IEnumerable<Variable> parameters, float lr, float momentum = 0f, float dampening = 0f, float weightDecay = 0f, bool nesterov = false)
        : this(SingleGroup(parameters), lr, momentum, dampening, weightDecay, nesterov)
    {
    }

    /// <summary>Several groups; each may override lr and weight decay.</summary>
    public Sgd(IEnumerable<ParamGroup> groups, float lr, float momentum = 0f, float dampening = 0f, float weightDecay = 0f, bool nesterov = false)
        : base(groups, lr, weightDecay)
    {
        CheckNonNegative(momentum, nameof(momentum));
        CheckNonNegative(dampening, nameof(dampening));
        if (nesterov && (momentum <= 0f || dampening != 0f))
        {
            throw new ArgumentException($"SGD: Nesterov momentum needs momentum > 0 and dampening 0; got momentum {momentum}, dampening {dampening}.");
        }
        (Momentum, Dampening, Nesterov) = (momentum, dampening, nesterov);
    }

    /// <inheritdoc/>
    public override string Name => "SGD";

    /// <summary>The momentum factor.</summary>
    public float Momentum { get; }

    /// <summary>The dampening of the momentum's gradient term.</summary>
    public float Dampening { get; }

    /// <summary>Whether Nesterov momentum is used.</summary>
    public bool Nesterov { get; }

    /// <inheritdoc/>
    protected override IReadOnlyList<string> StateNames => ParamGroups.Any(g => MomentumOf(g) != 0f) ? ["momentum_buffer"] : [];

    /// <inheritdoc/>
    internal override float? DefaultMomentum => Momentum;

    /// <inheritdoc/>
    protected override void Update(Span<float> p, ReadOnlySpan<float> grad, ParamGroup group, ParameterState state)
    {
        float lr = group.LearningRate, wd = group.WeightDecay, momentum = MomentumOf(group), keep = 1f - Dampening;
        bool first = !state.Has("momentum_buffer");
        var buffer = momentum != 0f ? state.Get("momentum_buffer") : default;
        bool nesterov = Nesterov;

        // Lane-by-lane the same formulas as the scalar loop below (no fused multiply-add): identical rounding.
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vlr = new Vector<float>(lr);
            var vwd = new Vector<float>(wd);
            var vmomentum = new Vector<float>(momentum);
            var vkeep = new Vector<float>(keep);
            for (; i <= p.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var vp = new Vector<float>(p[i..]);
                var d = new Vector<float>(grad[i..]);
                if (wd != 0f)
                {
                    d += vwd * vp;
                }
                if (momentum != 0f)
                {
                    var b = first ? d : vmomentum * new Vector<float>(buffer[i..]) + vkeep * d;
                    b.CopyTo(buffer[i..]);
                    d = nesterov ? d + vmomentum * b : b;
                }
                (vp - vlr * d).CopyTo(p[i..]);
            }
        }
        for (; i < p.Length; i++)
        {
            float d = wd != 0f ? grad[i] + wd * p[i] : grad[i];
            if (momentum != 0f)
            {
                float b = first ? d : momentum * buffer[i] + keep * d;
                buffer[i] = b;
                d = nesterov ? d + momentum * b : b;
            }
            p[i] -= lr * d;
        }
    }
}
