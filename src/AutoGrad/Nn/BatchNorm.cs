namespace AutoGrad.Nn;

/// <summary>
/// Batch normalization per channel of [N, C, *] (PyTorch's _BatchNorm), under PyTorch's names: parameters weight
/// (ones) and bias (zeros) when affine; buffers running_mean (zeros), running_var (ones) and num_batches_tracked when
/// tracking running statistics. Training mode normalizes with the batch's statistics and updates the running ones;
/// evaluation mode uses the running ones (or the batch's when none are tracked).
/// </summary>
public abstract class BatchNorm : Module
{
    private readonly Tensor? _runningMean, _runningVar, _numBatchesTracked;

    /// <summary>
    /// Creates the layer for <paramref name="numFeatures"/> channels. A null <paramref name="momentum"/> makes the
    /// running statistics a cumulative average (momentum 1 / num_batches_tracked), as in PyTorch.
    /// </summary>
    protected BatchNorm(int numFeatures, float eps, float? momentum, bool affine, bool trackRunningStats)
    {
        if (numFeatures <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(numFeatures), numFeatures, $"{GetType().Name}: num_features must be positive.");
        }
        if (momentum is { } m && !(m >= 0f && m <= 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, $"{GetType().Name}: momentum must be in [0, 1] or null.");
        }
        (NumFeatures, Eps, Momentum, Affine, TrackRunningStats) = (numFeatures, eps, momentum, affine, trackRunningStats);
        if (affine)
        {
            Weight = RegisterParameter("weight", new Parameter(Tensor.Ones(numFeatures)));
            Bias = RegisterParameter("bias", new Parameter(Tensor.Zeros(numFeatures)));
        }
        if (trackRunningStats)
        {
            _runningMean = RegisterBuffer("running_mean", Tensor.Zeros(numFeatures));
            _runningVar = RegisterBuffer("running_var", Tensor.Ones(numFeatures));
            _numBatchesTracked = RegisterBuffer("num_batches_tracked", Tensor.Scalar(0f));
        }
    }

    /// <summary>The number of channels C.</summary>
    public int NumFeatures { get; }

    /// <summary>Added to the variance before the square root.</summary>
    public float Eps { get; }

    /// <summary>The running statistics' update factor; null for a cumulative average.</summary>
    public float? Momentum { get; }

    /// <summary>Whether the layer has a learnable weight and bias.</summary>
    public bool Affine { get; }

    /// <summary>Whether the layer keeps running statistics for evaluation mode.</summary>
    public bool TrackRunningStats { get; }

    /// <summary>The per-channel scale (null unless affine).</summary>
    public Parameter? Weight { get; }

    /// <summary>The per-channel shift (null unless affine).</summary>
    public Parameter? Bias { get; }

    /// <summary>The running mean per channel (null unless tracked).</summary>
    public Tensor? RunningMean => _runningMean;

    /// <summary>The running unbiased variance per channel (null unless tracked).</summary>
    public Tensor? RunningVar => _runningVar;

    /// <summary>How many training batches updated the running statistics (null unless tracked).</summary>
    public Tensor? NumBatchesTracked => _numBatchesTracked;

    /// <summary>Refuses an input of a rank this layer is not for, naming the layer and the shape.</summary>
    private protected abstract void CheckRank(Variable input);

    /// <inheritdoc/>
    public override Variable Forward(Variable input)
    {
        ArgumentNullException.ThrowIfNull(input);
        CheckRank(input);
        float factor = Momentum ?? 0f;
        if (Training && _numBatchesTracked is not null)
        {
            var count = _numBatchesTracked.AsSpan(); // an in-place write, as the running statistics' (bumps the version)
            count[0] += 1f;
            factor = Momentum ?? 1f / count[0];
        }
        // evaluation without running statistics normalizes with the batch's, as PyTorch does
        return F.BatchNorm(input, _runningMean, _runningVar, Weight, Bias, training: Training || _runningMean is null, factor, Eps);
    }

    /// <inheritdoc/>
    protected override string Describe()
        => $"{NumFeatures}, eps={Eps}, momentum={(Momentum is { } m ? m.ToString(System.Globalization.CultureInfo.InvariantCulture) : "None")}, "
        + $"affine={Affine}, track_running_stats={TrackRunningStats}";
}

/// <summary>Batch normalization of [N, C] or [N, C, L] (PyTorch's nn.BatchNorm1d).</summary>
public sealed class BatchNorm1d(int numFeatures, float eps = 1e-5f, float? momentum = 0.1f, bool affine = true, bool trackRunningStats = true)
    : BatchNorm(numFeatures, eps, momentum, affine, trackRunningStats)
{
    private protected override void CheckRank(Variable input)
    {
        if (input.Rank is not (2 or 3))
        {
            throw new ArgumentException($"BatchNorm1d: input must be [N, C] or [N, C, L]; got shape {Shapes.Format(input.Shape)}.", nameof(input));
        }
    }
}

/// <summary>Batch normalization of [N, C, H, W] (PyTorch's nn.BatchNorm2d).</summary>
public sealed class BatchNorm2d(int numFeatures, float eps = 1e-5f, float? momentum = 0.1f, bool affine = true, bool trackRunningStats = true)
    : BatchNorm(numFeatures, eps, momentum, affine, trackRunningStats)
{
    private protected override void CheckRank(Variable input)
    {
        if (input.Rank != 4)
        {
            throw new ArgumentException($"BatchNorm2d: input must be [N, C, H, W]; got shape {Shapes.Format(input.Shape)}.", nameof(input));
        }
    }
}
