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
    public int Epoch { get; private set; }

    /// <summary>The first group's current learning rate.</summary>
    public float CurrentLearningRate => Optimizer.ParamGroups[0].LearningRate;

    /// <summary>Every group's current learning rate (PyTorch's get_last_lr()).</summary>
    public IReadOnlyList<float> LastLearningRates => Optimizer.ParamGroups.Select(g => g.LearningRate).ToArray();

    /// <summary>Advances one epoch and sets the new rates.</summary>
    public void Step()
    {
        Epoch++;
        Apply();
    }

    /// <summary>The rate for a group starting at <paramref name="baseRate"/> at <paramref name="epoch"/>.</summary>
    protected abstract double RateAt(double baseRate, int epoch);

    private void Apply()
    {
        for (int g = 0; g < _baseRates.Length; g++)
        {
            Optimizer.ParamGroups[g].LearningRate = (float)RateAt(_baseRates[g], Epoch);
        }
    }

    /// <summary>The schedule's position: <c>last_epoch</c>.</summary>
    public StateDict StateDict()
    {
        var dict = new StateDict();
        dict.Add("last_epoch", Tensor.Scalar(Epoch));
        return dict;
    }

    /// <summary>Restores the position saved by <see cref="StateDict"/> and re-applies its rates.</summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (!state.TryGetValue("last_epoch", out var t) || t.Length != 1 || t.AsReadOnlySpan()[0] < 0 || t.AsReadOnlySpan()[0] % 1 != 0)
        {
            throw new ArgumentException($"{GetType().Name}.LoadStateDict: expected a non-negative integer scalar 'last_epoch'.", nameof(state));
        }
        Epoch = (int)t.AsReadOnlySpan()[0];
        Apply();
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
