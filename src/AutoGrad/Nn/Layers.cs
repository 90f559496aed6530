namespace AutoGrad.Nn;

/// <summary>Flattens dims startDim..endDim into one (PyTorch's nn.Flatten; by default everything but the batch).</summary>
public sealed class Flatten(int startDim = 1, int endDim = -1) : Module
{

    /// <inheritdoc/>
    public override Variable Forward(Variable input) => F.Flatten(input, startDim, endDim);

    /// <inheritdoc/>
    protected override string Describe() => $"start_dim={startDim}, end_dim={endDim}";
}

/// <summary>
/// Zeroes each element with probability p and scales the rest by 1/(1-p) in training mode; the identity in evaluation
/// mode (PyTorch's nn.Dropout). Masks come from the given generator or <see cref="Generator.Default"/>.
/// </summary>
public sealed class Dropout : Module
{
    private readonly Generator? _generator;

    /// <summary>Creates the layer with drop probability <paramref name="p"/> in [0, 1].</summary>
    public Dropout(float p = 0.5f, Generator? generator = null)
    {
        if (!(p >= 0f && p <= 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(p), p, "Dropout: p must be in [0, 1].");
        }
        P = p;
        _generator = generator;
    }

    /// <summary>The drop probability.</summary>
    public float P { get; }


    /// <inheritdoc/>
    public override Variable Forward(Variable input) => F.Dropout(input, P, Training, _generator);

    /// <inheritdoc/>
    protected override string Describe() => $"p={P}";
}
