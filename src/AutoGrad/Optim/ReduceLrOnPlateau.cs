using AutoGrad.Nn;

namespace AutoGrad.Optim;

/// <summary>Whether <see cref="ReduceLrOnPlateau"/> watches a metric that should fall (a loss) or rise (an accuracy).</summary>
public enum PlateauMode
{
    /// <summary>Lower is better.</summary>
    Min,

    /// <summary>Higher is better.</summary>
    Max,
}

/// <summary>How <see cref="ReduceLrOnPlateau"/> measures an improvement against the best value so far.</summary>
public enum ThresholdMode
{
    /// <summary>Relative: better than best * (1 -/+ threshold).</summary>
    Rel,

    /// <summary>Absolute: better than best -/+ threshold.</summary>
    Abs,
}

/// <summary>
/// Cuts the rate by <c>factor</c> when a metric has not improved for more than <c>patience</c> epochs (torch's
/// ReduceLROnPlateau): call <see cref="Step(float)"/> once per epoch with the validation metric. After a cut it waits
/// <c>cooldown</c> epochs before counting again; a rate never goes below its group's min_lr, and a cut smaller than
/// <c>eps</c> is skipped.
/// </summary>
/// <remarks>
/// The rates are the optimizer's (not a function of the epoch), so resuming restores them with the optimizer's state;
/// the schedule's state dict holds last_epoch, best, num_bad_epochs and cooldown_counter; the settings are the
/// constructor's, as for the other schedules.
/// </remarks>
public sealed class ReduceLrOnPlateau(Optimizer optimizer, IReadOnlyList<float> minLearningRates, PlateauMode mode = PlateauMode.Min,
    float factor = 0.1f, int patience = 10, float threshold = 1e-4f, ThresholdMode thresholdMode = ThresholdMode.Rel, int cooldown = 0,
    float eps = 1e-8f) : LrScheduler(optimizer)
{
    /// <summary>The same min_lr (default 0) for every group.</summary>
    public ReduceLrOnPlateau(Optimizer optimizer, PlateauMode mode = PlateauMode.Min, float factor = 0.1f, int patience = 10,
        float threshold = 1e-4f, ThresholdMode thresholdMode = ThresholdMode.Rel, int cooldown = 0, float minLr = 0f, float eps = 1e-8f)
        : this(optimizer, Enumerable.Repeat(minLr, optimizer?.ParamGroups.Count ?? 0).ToArray(), mode, factor, patience, threshold,
            thresholdMode, cooldown, eps)
    {
    }

    private const string BestKey = "best", BadEpochsKey = "num_bad_epochs", CooldownKey = "cooldown_counter";

    private readonly float[] _minRates = CheckMinRates(optimizer, minLearningRates);

    private readonly PlateauMode _mode = Enum.IsDefined(mode)
        ? mode
        : throw new ArgumentOutOfRangeException(nameof(mode), mode, "ReduceLrOnPlateau: mode must be Min or Max.");

    private readonly float _factor = factor >= 0f && factor < 1f
        ? factor
        : throw new ArgumentOutOfRangeException(nameof(factor), factor, "ReduceLrOnPlateau: factor must be in [0, 1) (PyTorch: 'Factor should be < 1.0').");

    private readonly int _patience = patience >= 0
        ? patience
        : throw new ArgumentOutOfRangeException(nameof(patience), patience, "ReduceLrOnPlateau: patience must be >= 0.");

    private readonly float _threshold = threshold >= 0f && float.IsFinite(threshold)
        ? threshold
        : throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "ReduceLrOnPlateau: threshold must be finite and >= 0.");

    private readonly ThresholdMode _thresholdMode = Enum.IsDefined(thresholdMode)
        ? thresholdMode
        : throw new ArgumentOutOfRangeException(nameof(thresholdMode), thresholdMode, "ReduceLrOnPlateau: thresholdMode must be Rel or Abs.");

    private readonly int _cooldown = cooldown >= 0
        ? cooldown
        : throw new ArgumentOutOfRangeException(nameof(cooldown), cooldown, "ReduceLrOnPlateau: cooldown must be >= 0.");

    private readonly float _eps = eps >= 0f && float.IsFinite(eps)
        ? eps
        : throw new ArgumentOutOfRangeException(nameof(eps), eps, "ReduceLrOnPlateau: eps must be finite and >= 0.");

    /// <summary>The best metric so far (+infinity in Min mode, -infinity in Max mode before the first step).</summary>
    public float Best { get; private set; } = mode == PlateauMode.Max ? float.NegativeInfinity : float.PositiveInfinity;

    /// <summary>Epochs since the last improvement (PyTorch's num_bad_epochs).</summary>
    public int BadEpochs { get; private set; }

    /// <summary>Epochs of cooldown left after a cut (PyTorch's cooldown_counter).</summary>
    public int CooldownCounter { get; private set; }

    private float Worst => _mode == PlateauMode.Max ? float.NegativeInfinity : float.PositiveInfinity;

    /// <summary>Not for this schedule: it needs the metric.</summary>
    /// <exception cref="InvalidOperationException">Always: call <see cref="Step(float)"/> with the metric.</exception>
    public override void Step()
        => throw new InvalidOperationException("ReduceLrOnPlateau: Step needs the metric it watches; call Step(metric), e.g. Step(validationLoss).");

    /// <summary>Ends an epoch whose metric was <paramref name="metric"/>; cuts the rates after too long a plateau.</summary>
    /// <exception cref="ArgumentException"><paramref name="metric"/> is NaN.</exception>
    public void Step(float metric)
    {
        if (float.IsNaN(metric))
        {
            throw new ArgumentException("ReduceLrOnPlateau: the metric is NaN.", nameof(metric));
        }
        Epoch++;
        if (IsBetter(metric))
        {
            Best = metric;
            BadEpochs = 0;
        }
        else
        {
            BadEpochs++;
        }
        if (CooldownCounter > 0)
        {
            CooldownCounter--;
            BadEpochs = 0;
        }
        if (BadEpochs > _patience)
        {
            Reduce();
            CooldownCounter = _cooldown;
            BadEpochs = 0;
        }
    }

    // PyTorch compares in Python floats; so does this, in double.
    private bool IsBetter(float metric) => (_mode, _thresholdMode) switch
    {
        (PlateauMode.Min, ThresholdMode.Rel) => metric < Best * (1.0 - _threshold),
        (PlateauMode.Min, _) => metric < Best - (double)_threshold,
        (_, ThresholdMode.Rel) => metric > Best * (_threshold + 1.0),
        _ => metric > Best + (double)_threshold,
    };

    private void Reduce()
    {
        var groups = Optimizer.ParamGroups;
        for (int g = 0; g < groups.Count; g++)
        {
            double old = groups[g].LearningRate;
            double cut = Math.Max(old * _factor, _minRates[g]);
            if (old - cut > _eps)
            {
                groups[g].LearningRate = (float)cut;
            }
        }
    }

    private static float[] CheckMinRates(Optimizer optimizer, IReadOnlyList<float> minRates)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(minRates);
        if (minRates.Count != optimizer.ParamGroups.Count)
        {
            throw new ArgumentException($"ReduceLrOnPlateau: expected {optimizer.ParamGroups.Count} min rates (one per group), got {minRates.Count}.", nameof(minRates));
        }
        foreach (float rate in minRates)
        {
            if (!(rate >= 0f) || !float.IsFinite(rate))
            {
                throw new ArgumentOutOfRangeException(nameof(minRates), rate, "ReduceLrOnPlateau: every min rate must be finite and >= 0.");
            }
        }
        return minRates.ToArray();
    }

    /// <inheritdoc/>
    private protected override void Apply()
    {
        // The rates live in the optimizer's groups and change only in Reduce.
    }

    /// <inheritdoc/>
    private protected override IReadOnlyList<string> OwnStateKeys => [BestKey, BadEpochsKey, CooldownKey];

    /// <inheritdoc/>
    private protected override void AddOwnState(StateDict dict)
    {
        dict.Add(BestKey, Tensor.Scalar(Best));
        dict.Add(BadEpochsKey, Tensor.Scalar(BadEpochs));
        dict.Add(CooldownKey, Tensor.Scalar(CooldownCounter));
    }

    /// <inheritdoc/>
    private protected override Action? PrepareOwnState(IReadOnlyDictionary<string, float> values, List<string> found)
    {
        int before = found.Count;
        float best = values[BestKey];
        if (!float.IsFinite(best) && best != Worst)
        {
            found.Add($"'{BestKey}' is {best}; it must be finite, or {(_mode == PlateauMode.Max ? "-Infinity" : "Infinity")} before the first step in {_mode} mode");
        }
        float bad = values[BadEpochsKey], cooldown = values[CooldownKey];
        if (!(bad >= 0f && bad <= _patience && bad % 1 == 0))
        {
            found.Add($"'{BadEpochsKey}' is {bad}; it must be an integer in [0, patience {_patience}]");
        }
        if (!(cooldown >= 0f && cooldown <= _cooldown && cooldown % 1 == 0))
        {
            found.Add($"'{CooldownKey}' is {cooldown}; it must be an integer in [0, cooldown {_cooldown}]");
        }
        if (found.Count > before)
        {
            return null;
        }
        return () => (Best, BadEpochs, CooldownCounter) = (best, (int)bad, (int)cooldown);
    }
}
