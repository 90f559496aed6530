namespace AutoGrad.Optim;

/// <summary>How <see cref="OneCycleLr"/> moves between two values within a phase.</summary>
public enum AnnealStrategy
{
    /// <summary>Half a cosine: end + (start - end) (1 + cos(pi pct)) / 2.</summary>
    Cos,

    /// <summary>A straight line: start + (end - start) pct.</summary>
    Linear,
}

/// <summary>
/// The 1cycle policy (torch's OneCycleLR), stepped once per batch: the rate rises from max_lr / divFactor to max_lr
/// over the first <c>pctStart</c> of the steps, then falls to initial / finalDivFactor; with <c>threePhase</c> it
/// first falls back to the initial rate and only then anneals to the minimum. With <c>cycleMomentum</c> the momentum
/// (SGD, RMSprop) or beta1 (Adam, AdamW, NAdam) moves the opposite way between maxMomentum and baseMomentum, through
/// <see cref="ParamGroup.Momentum"/>; <c>baseMomenta</c> and <c>maxMomenta</c> give each group limits of its own (PyTorch's
/// lists for base_momentum and max_momentum). The groups' initial_lr becomes max_lr / divFactor, as in PyTorch.
/// </summary>
/// <remarks>
/// Everything is a function of the step, so loading the schedule's state restores the momentum too. Stepping more
/// than the total number of steps throws, as in PyTorch.
/// </remarks>
public sealed class OneCycleLr(Optimizer optimizer, IReadOnlyList<float> maxLearningRates, int? totalSteps = null, int? epochs = null,
    int? stepsPerEpoch = null, float pctStart = 0.3f, AnnealStrategy annealStrategy = AnnealStrategy.Cos, bool cycleMomentum = true,
    float baseMomentum = 0.85f, float maxMomentum = 0.95f, float divFactor = 25f, float finalDivFactor = 1e4f, bool threePhase = false,
    IReadOnlyList<float>? baseMomenta = null, IReadOnlyList<float>? maxMomenta = null)
    : LrScheduler(optimizer)
{
    /// <summary>The same max_lr for every group.</summary>
    public OneCycleLr(Optimizer optimizer, float maxLearningRate, int? totalSteps = null, int? epochs = null, int? stepsPerEpoch = null,
        float pctStart = 0.3f, AnnealStrategy annealStrategy = AnnealStrategy.Cos, bool cycleMomentum = true, float baseMomentum = 0.85f,
        float maxMomentum = 0.95f, float divFactor = 25f, float finalDivFactor = 1e4f, bool threePhase = false,
        IReadOnlyList<float>? baseMomenta = null, IReadOnlyList<float>? maxMomenta = null)
        : this(optimizer, Enumerable.Repeat(maxLearningRate, optimizer?.ParamGroups.Count ?? 0).ToArray(), totalSteps, epochs,
            stepsPerEpoch, pctStart, annealStrategy, cycleMomentum, baseMomentum, maxMomentum, divFactor, finalDivFactor, threePhase,
            baseMomenta, maxMomenta)
    {
    }

    // Field initializers run in order and before the base constructor, which reads the initial rates set here and
    // applies step 0 through Apply.
    private readonly int _totalSteps = TotalSteps(totalSteps, epochs, stepsPerEpoch);

    private readonly Phase[] _phases = Phases(TotalSteps(totalSteps, epochs, stepsPerEpoch), pctStart, threePhase);

    private readonly AnnealStrategy _anneal = Enum.IsDefined(annealStrategy)
        ? annealStrategy
        : throw new ArgumentOutOfRangeException(nameof(annealStrategy), annealStrategy, "OneCycleLr: annealStrategy must be Cos or Linear.");

    private readonly (float Base, float Max)[]? _momentum = Momentum(optimizer, cycleMomentum, baseMomentum, maxMomentum, baseMomenta, maxMomenta);

    private readonly float[] _maxRates = Prepare(optimizer, maxLearningRates, divFactor, finalDivFactor);

    private readonly double _finalDivFactor = finalDivFactor;

    /// <summary>The number of steps the cycle lasts.</summary>
    public int TotalStepCount => _totalSteps;

    /// <inheritdoc/>
    private protected override int LastEpoch => _totalSteps;

    // A phase runs until EndStep, from one of the three rates (0 initial, 1 max, 2 min) to another, and the momentum
    // from max (true) or base (false) to the other.
    private readonly record struct Phase(double EndStep, int StartRate, int EndRate, bool StartMomentumMax, bool EndMomentumMax);

    private static int TotalSteps(int? totalSteps, int? epochs, int? stepsPerEpoch)
    {
        if (totalSteps is { } total)
        {
            return total > 0 ? total : throw new ArgumentOutOfRangeException(nameof(totalSteps), total, "OneCycleLr: totalSteps must be > 0.");
        }
        if (epochs is not { } e || stepsPerEpoch is not { } s)
        {
            throw new ArgumentException("OneCycleLr: give either totalSteps or both epochs and stepsPerEpoch.");
        }
        if (e <= 0 || s <= 0)
        {
            throw new ArgumentOutOfRangeException(e <= 0 ? nameof(epochs) : nameof(stepsPerEpoch), e <= 0 ? e : s, "OneCycleLr: epochs and stepsPerEpoch must be > 0.");
        }
        return checked(e * s);
    }

    private static Phase[] Phases(int totalSteps, float pctStart, bool threePhase)
    {
        if (!(pctStart >= 0f && pctStart <= 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(pctStart), pctStart, "OneCycleLr: pctStart must be in [0, 1].");
        }
        // PyTorch's end steps, in its arithmetic (Python floats from the float pct_start).
        double rise = (double)pctStart * totalSteps - 1;
        return threePhase
            ? [new(rise, 0, 1, true, false), new(2 * (double)pctStart * totalSteps - 2, 1, 0, false, true), new(totalSteps - 1, 0, 2, true, true)]
            : [new(rise, 0, 1, true, false), new(totalSteps - 1, 1, 2, false, true)];
    }

    /// <summary>Each group's (base, max) momentum, or null when the momentum does not cycle.</summary>
    private static (float, float)[]? Momentum(Optimizer optimizer, bool cycle, float baseMomentum, float maxMomentum,
        IReadOnlyList<float>? baseMomenta, IReadOnlyList<float>? maxMomenta)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        int groups = optimizer.ParamGroups.Count;
        foreach (var (list, name) in new[] { (baseMomenta, nameof(baseMomenta)), (maxMomenta, nameof(maxMomenta)) })
        {
            if (list is not null && list.Count != groups)
            {
                throw new ArgumentException($"OneCycleLr: expected {groups} values in {name} (one per group), got {list.Count}.", name);
            }
        }
        if (!cycle)
        {
            return null;
        }
        if (optimizer.DefaultMomentum is null)
        {
            throw new ArgumentException($"OneCycleLr: {optimizer.Name} has no momentum or beta1 to cycle; pass cycleMomentum: false.", nameof(optimizer));
        }
        var limits = new (float, float)[groups];
        for (int g = 0; g < groups; g++)
        {
            float low = baseMomenta?[g] ?? baseMomentum, high = maxMomenta?[g] ?? maxMomentum;
            if (!(low >= 0f && low <= high && high < 1f))
            {
                throw new ArgumentOutOfRangeException(nameof(baseMomentum), low,
                    $"OneCycleLr: need 0 <= baseMomentum <= maxMomentum < 1; got {low} and {high} for group {g}.");
            }
            limits[g] = (low, high);
        }
        return limits;
    }

    private static float[] Prepare(Optimizer optimizer, IReadOnlyList<float> maxRates, float divFactor, float finalDivFactor)
    {
        ArgumentNullException.ThrowIfNull(maxRates);
        var groups = optimizer.ParamGroups;
        if (maxRates.Count != groups.Count)
        {
            throw new ArgumentException($"OneCycleLr: expected {groups.Count} max rates (one per group), got {maxRates.Count}.", nameof(maxRates));
        }
        if (!(divFactor > 0f) || !float.IsFinite(divFactor) || !(finalDivFactor > 0f) || !float.IsFinite(finalDivFactor))
        {
            throw new ArgumentOutOfRangeException(nameof(divFactor), $"OneCycleLr: divFactor and finalDivFactor must be finite and > 0; got {divFactor} and {finalDivFactor}.");
        }
        foreach (float rate in maxRates)
        {
            if (!(rate >= 0f) || !float.IsFinite(rate))
            {
                throw new ArgumentOutOfRangeException(nameof(maxRates), rate, "OneCycleLr: every max rate must be finite and >= 0.");
            }
        }
        for (int g = 0; g < groups.Count; g++)
        {
            groups[g].InitialLearningRate = (float)(maxRates[g] / (double)divFactor);
        }
        return maxRates.ToArray();
    }

    /// <inheritdoc/>
    private protected override double RateAt(int group, double baseRate, int epoch)
    {
        // max_lr stays as given; a loaded base rate (initial_lr) sets the others, as PyTorch reads them from the group.
        double[] rates = [baseRate, _maxRates[group], baseRate / _finalDivFactor];
        var (phase, pct) = Locate(epoch);
        // The step after the last (which PyTorch allows) extrapolates past the minimum; linearly that can go below 0,
        // which no group accepts, so the rate stops at 0 there. Every step the cycle uses is unaffected.
        return Math.Max(0, Anneal(rates[phase.StartRate], rates[phase.EndRate], pct));
    }

    /// <inheritdoc/>
    private protected override void Apply()
    {
        base.Apply();
        if (_momentum is { } limits)
        {
            var (phase, pct) = Locate(Epoch);
            var groups = Optimizer.ParamGroups;
            for (int g = 0; g < groups.Count; g++)
            {
                var (low, high) = limits[g];
                groups[g].Momentum = (float)Anneal(phase.StartMomentumMax ? high : low, phase.EndMomentumMax ? high : low, pct);
            }
        }
    }

    private (Phase Phase, double Pct) Locate(int step)
    {
        double start = 0;
        for (int i = 0; ; i++)
        {
            var phase = _phases[i];
            if (step <= phase.EndStep || i == _phases.Length - 1)
            {
                return (phase, (step - start) / (phase.EndStep - start));
            }
            start = phase.EndStep;
        }
    }

    private double Anneal(double start, double end, double pct)
        => _anneal == AnnealStrategy.Cos ? end + (start - end) / 2.0 * (Math.Cos(Math.PI * pct) + 1) : (end - start) * pct + start;
}
