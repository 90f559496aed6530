namespace AutoGrad.Optim;

/// <summary>
/// Linear warm-up (or cool-down) of the rate's factor from <c>startFactor</c> to <c>endFactor</c> over
/// <c>totalIters</c> epochs, then constant (torch's LinearLR):
/// lr = base * (start + (end - start) * min(epoch, totalIters) / totalIters).
/// </summary>
public sealed class LinearLr(Optimizer optimizer, float startFactor = 1f / 3f, float endFactor = 1f, int totalIters = 5)
    : LrScheduler(optimizer)
{
    // A zero start would make PyTorch's recursive form divide by zero, hence (0, 1].
    private readonly float _start = startFactor > 0f && startFactor <= 1f
        ? startFactor
        : throw new ArgumentOutOfRangeException(nameof(startFactor), startFactor, "LinearLr: startFactor must be in (0, 1].");

    private readonly float _end = endFactor >= 0f && endFactor <= 1f
        ? endFactor
        : throw new ArgumentOutOfRangeException(nameof(endFactor), endFactor, "LinearLr: endFactor must be in [0, 1].");

    // PyTorch accepts 0 and then stays at startFactor forever, which is ConstantLr's job; the closed form needs >= 1.
    private readonly int _totalIters = totalIters > 0
        ? totalIters
        : throw new ArgumentOutOfRangeException(nameof(totalIters), totalIters, "LinearLr: totalIters must be > 0.");

    /// <inheritdoc/>
    protected override double RateAt(double baseRate, int epoch)
        => baseRate * (_start + (_end - (double)_start) * Math.Min(epoch, _totalIters) / _totalIters);
}
