using AutoGrad.Nn;

namespace AutoGrad.Optim;

/// <summary>
/// A learning-rate schedule over epochs (torch.optim.lr_scheduler): construction sets epoch 0's rate; call
/// <see cref="Step"/> once per epoch, after the optimizer's steps. Rates follow the closed form of each schedule.
/// </summary>
public abstract class LrScheduler
{
    private readonly float[] _baseRates;

    /// <summary>Attaches to <paramref name="optimizer"/> and applies epoch 0's rate.</summary>
    protected LrScheduler(Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        Optimizer = optimizer;
        _baseRates = optimizer.ParamGroups.Select(g => g.InitialLearningRate).ToArray();
        Apply();
    }

    /// <summary>The optimizer whose rates this schedule sets.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>The number of Step calls so far (PyTorch's last_epoch).</summary>
    public int Epoch { get; private protected set; }

    /// <summary>The first group's current learning rate.</summary>
    public float CurrentLearningRate => Optimizer.ParamGroups[0].LearningRate;

    /// <summary>Every group's current learning rate (PyTorch's get_last_lr()).</summary>
    public IReadOnlyList<float> LastLearningRates => Optimizer.ParamGroups.Select(g => g.LearningRate).ToArray();

    /// <summary>Advances one epoch and sets the new rates.</summary>
    /// <exception cref="InvalidOperationException">The schedule has a last epoch (OneCycleLr's total steps) and is past it.</exception>
    public virtual void Step()
    {
        if (Epoch >= LastEpoch)
        {
            throw new InvalidOperationException($"{GetType().Name}: tried to step {Epoch + 1} times; the schedule has {LastEpoch} steps.");
        }
        Epoch++;
        Apply();
    }

    /// <summary>
    /// The rate for a group starting at <paramref name="baseRate"/> at <paramref name="epoch"/>. The default keeps the
    /// base rate; every schedule overrides it.
    /// </summary>
    protected virtual double RateAt(double baseRate, int epoch) => baseRate;

    /// <summary>The rate of group <paramref name="group"/>: for schedules whose groups differ by more than their base rate (LambdaLr's lambdas).</summary>
    private protected virtual double RateAt(int group, double baseRate, int epoch) => RateAt(baseRate, epoch);

    /// <summary>The last epoch the schedule defines (int.MaxValue: none); stepping past it throws.</summary>
    private protected virtual int LastEpoch => int.MaxValue;

    /// <summary>Sets the groups' rates (and whatever else the schedule drives) for <see cref="Epoch"/>.</summary>
    private protected virtual void Apply()
    {
        for (int g = 0; g < _baseRates.Length; g++)
        {
            Optimizer.ParamGroups[g].LearningRate = (float)RateAt(g, _baseRates[g], Epoch);
        }
    }

    /// <summary>The schedule's own state keys beyond last_epoch and base_lrs (ReduceLrOnPlateau's best, ...).</summary>
    private protected virtual IReadOnlyList<string> OwnStateKeys => [];

    /// <summary>Adds the values of <see cref="OwnStateKeys"/> to a state dict.</summary>
    private protected virtual void AddOwnState(StateDict dict)
    {
    }

    /// <summary>Checks the values of <see cref="OwnStateKeys"/> (each present and scalar); returns what applies them, or null after adding to <paramref name="found"/>.</summary>
    private protected virtual Action? PrepareOwnState(IReadOnlyDictionary<string, float> values, List<string> found) => () => { };

    /// <summary>The rates the schedule starts from, one per group (PyTorch's base_lrs).</summary>
    public IReadOnlyList<float> BaseLearningRates => _baseRates;

    /// <summary>The schedule's position: <c>last_epoch</c>, and each group's <c>base_lrs.{g}</c>.</summary>
    public StateDict StateDict()
    {
        var dict = new StateDict();
        dict.Add("last_epoch", Tensor.Scalar(Epoch));
        for (int g = 0; g < _baseRates.Length; g++)
        {
            dict.Add($"base_lrs.{g}", Tensor.Scalar(_baseRates[g]));
        }
        AddOwnState(dict);
        return dict;
    }

    /// <summary>
    /// Restores the position and the base rates saved by <see cref="StateDict"/> (as PyTorch restores last_epoch and
    /// base_lrs) and re-applies the rate of that epoch. A state without base_lrs (saved before they were kept) takes
    /// them from the groups' <see cref="ParamGroup.InitialLearningRate"/>, which loading the optimizer's state restores.
    /// </summary>
    /// <exception cref="ArgumentException">last_epoch is not a non-negative integer, or a base rate is missing, not finite or negative.</exception>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var commit = PrepareLoadStateDict(state, initialRates: null, out var problems);
        if (commit is null)
        {
            throw new ArgumentException($"{GetType().Name}.LoadStateDict: {problems}.", nameof(state));
        }
        commit();
    }

    /// <summary>
    /// Checks <paramref name="state"/> without changing anything; returns the action that applies it, or null with the
    /// problems. <paramref name="initialRates"/> stands in for the groups' initial rates when base_lrs are absent
    /// (the values an optimizer load about to be applied will set).
    /// </summary>
    internal Action? PrepareLoadStateDict(IReadOnlyDictionary<string, Tensor> state, IReadOnlyList<float>? initialRates, out string problems)
    {
        var found = new List<string>();
        int epoch = 0;
        if (!state.TryGetValue("last_epoch", out var t) || t.Length != 1 || !(t.AsReadOnlySpan()[0] >= 0)
            || t.AsReadOnlySpan()[0] > int.MaxValue || t.AsReadOnlySpan()[0] % 1 != 0)
        {
            found.Add($"expected a non-negative integer scalar 'last_epoch'{(t is { Length: 1 } ? $", got {t.AsReadOnlySpan()[0]}" : "")}");
        }
        else
        {
            epoch = (int)t.AsReadOnlySpan()[0];
        }
        var groups = Optimizer.ParamGroups;
        var bases = new float[_baseRates.Length];
        bool hasBases = state.Keys.Any(k => k.StartsWith("base_lrs.", StringComparison.Ordinal));
        for (int g = 0; g < bases.Length; g++)
        {
            if (!hasBases)
            {
                bases[g] = initialRates?[g] ?? groups[g].InitialLearningRate;
            }
            else if (!state.TryGetValue($"base_lrs.{g}", out var b) || b.Length != 1)
            {
                found.Add($"missing or non-scalar 'base_lrs.{g}'");
            }
            else if (!(b.AsReadOnlySpan()[0] >= 0f) || float.IsInfinity(b.AsReadOnlySpan()[0]))
            {
                found.Add($"'base_lrs.{g}' is {b.AsReadOnlySpan()[0]}; it must be finite and >= 0");
            }
            else
            {
                bases[g] = b.AsReadOnlySpan()[0];
            }
        }
        var own = new Dictionary<string, float>(StringComparer.Ordinal);
        foreach (var key in OwnStateKeys)
        {
            if (!state.TryGetValue(key, out var v) || v.Length != 1)
            {
                found.Add($"missing or non-scalar '{key}'");
            }
            else
            {
                own.Add(key, v.AsReadOnlySpan()[0]);
            }
        }
        if (epoch > LastEpoch)
        {
            found.Add($"last_epoch {epoch} is past the schedule's {LastEpoch} steps");
        }
        foreach (var key in state.Keys)
        {
            if (key != "last_epoch" && !OwnStateKeys.Contains(key) && !(key.StartsWith("base_lrs.", StringComparison.Ordinal)
                && int.TryParse(key.AsSpan("base_lrs.".Length), System.Globalization.NumberStyles.None, null, out int g) && g < bases.Length))
            {
                found.Add($"unexpected key '{key}'");
            }
        }
        var applyOwn = found.Count == 0 ? PrepareOwnState(own, found) : null;
        if (found.Count == 0)
        {
            // The rates must be settable: a schedule whose closed form overflows at that epoch is rejected here, not halfway.
            for (int g = 0; g < bases.Length; g++)
            {
                double rate = RateAt(g, bases[g], epoch);
                if (!((float)rate >= 0f) || float.IsInfinity((float)rate))
                {
                    found.Add($"epoch {epoch} gives group {g} the rate {rate}");
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
            bases.CopyTo(_baseRates, 0);
            Epoch = epoch;
            applyOwn!();
            Apply();
        };
    }
}

// Derived schedules keep their settings in field initializers, which C# runs before the base constructor applies
// epoch 0's rate through RateAt.

/// <summary>
/// Multiplies the rate by <c>factor</c> for the first <c>totalIters</c> epochs, then restores it (torch's ConstantLR;
/// with factor 1 the rate is constant).
/// </summary>
public sealed class ConstantLr(Optimizer optimizer, float factor = 1f / 3f, int totalIters = 5) : LrScheduler(optimizer)
{
    private readonly float _factor = factor >= 0f && factor <= 1f
        ? factor
        : throw new ArgumentOutOfRangeException(nameof(factor), factor, "ConstantLr: factor must be in [0, 1].");

    private readonly int _totalIters = totalIters >= 0
        ? totalIters
        : throw new ArgumentOutOfRangeException(nameof(totalIters), totalIters, "ConstantLr: totalIters must be >= 0.");

    /// <inheritdoc/>
    protected override double RateAt(double baseRate, int epoch) => epoch < _totalIters ? baseRate * _factor : baseRate;
}

/// <summary>lr = base * gamma^epoch (torch's ExponentialLR).</summary>
public sealed class ExponentialLr(Optimizer optimizer, float gamma) : LrScheduler(optimizer)
{
    private readonly float _gamma = gamma > 0f && float.IsFinite(gamma)
        ? gamma
        : throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "ExponentialLr: gamma must be finite and > 0.");

    /// <inheritdoc/>
    protected override double RateAt(double baseRate, int epoch) => baseRate * Math.Pow(_gamma, epoch);
}

/// <summary>lr = base * gamma^(epoch / stepSize) with integer division (torch's StepLR).</summary>
public sealed class StepLr(Optimizer optimizer, int stepSize, float gamma = 0.1f) : LrScheduler(optimizer)
{
    private readonly int _stepSize = stepSize > 0
        ? stepSize
        : throw new ArgumentOutOfRangeException(nameof(stepSize), stepSize, "StepLr: stepSize must be > 0.");

    private readonly float _gamma = gamma > 0f && float.IsFinite(gamma)
        ? gamma
        : throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "StepLr: gamma must be finite and > 0.");

    /// <inheritdoc/>
    protected override double RateAt(double baseRate, int epoch) => baseRate * Math.Pow(_gamma, epoch / _stepSize);
}

/// <summary>
/// lr = etaMin + (base - etaMin) (1 + cos(pi epoch / tMax)) / 2 (torch's CosineAnnealingLR, without restarts).
/// </summary>
public sealed class CosineAnnealingLr(Optimizer optimizer, int tMax, float etaMin = 0f) : LrScheduler(optimizer)
{
    private readonly int _tMax = tMax > 0
        ? tMax
        : throw new ArgumentOutOfRangeException(nameof(tMax), tMax, "CosineAnnealingLr: tMax must be > 0.");

    private readonly float _etaMin = etaMin >= 0f
        ? etaMin
        : throw new ArgumentOutOfRangeException(nameof(etaMin), etaMin, "CosineAnnealingLr: etaMin must be >= 0.");

    /// <inheritdoc/>
    protected override double RateAt(double baseRate, int epoch)
        => _etaMin + (baseRate - _etaMin) * (1 + Math.Cos(Math.PI * epoch / _tMax)) / 2;
}
