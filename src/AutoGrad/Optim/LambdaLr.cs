namespace AutoGrad.Optim;

/// <summary>
/// lr = base * lambda(epoch), one lambda per group in group order (torch's LambdaLR). The lambdas are code, so a state
/// dict holds only last_epoch and base_lrs (as PyTorch saves no plain function): the resuming code passes the same
/// lambdas to the constructor.
/// </summary>
/// <exception cref="ArgumentException">The number of lambdas is not the number of groups, or one is null.</exception>
public sealed class LambdaLr(Optimizer optimizer, IReadOnlyList<Func<int, float>> lambdas) : LrScheduler(optimizer)
{
    /// <summary>One lambda for every group.</summary>
    public LambdaLr(Optimizer optimizer, Func<int, float> lambda)
        : this(optimizer, Enumerable.Repeat(lambda, optimizer?.ParamGroups.Count ?? 0).ToArray())
    {
        ArgumentNullException.ThrowIfNull(lambda);
    }

    // A field initializer, so it is set before the base constructor applies epoch 0's rate.
    private readonly Func<int, float>[] _lambdas = Check(optimizer, lambdas);

    private static Func<int, float>[] Check(Optimizer optimizer, IReadOnlyList<Func<int, float>> lambdas)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(lambdas);
        if (lambdas.Count != optimizer.ParamGroups.Count || lambdas.Any(l => l is null))
        {
            throw new ArgumentException(
                $"LambdaLr: expected {optimizer.ParamGroups.Count} non-null lambdas (one per group), got {lambdas.Count}{(lambdas.Any(l => l is null) ? " with a null among them" : "")}.",
                nameof(lambdas));
        }
        return lambdas.ToArray();
    }

    /// <inheritdoc/>
    private protected override double RateAt(int group, double baseRate, int epoch) => baseRate * _lambdas[group](epoch);
}
