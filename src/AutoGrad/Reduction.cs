namespace AutoGrad;

/// <summary>How a loss combines its per-element values (PyTorch's <c>reduction=</c>).</summary>
public enum Reduction
{
    /// <summary>The average over the batch (over non-ignored targets for class losses).</summary>
    Mean,

    /// <summary>The sum.</summary>
    Sum,

    /// <summary>No reduction: one loss per element (per row for class losses).</summary>
    None,
}

/// <summary>Which GELU formula to use (PyTorch's <c>approximate=</c>).</summary>
public enum GeluApproximation
{
    /// <summary>The exact form x * Phi(x), with the error function.</summary>
    None,

    /// <summary>The tanh approximation 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).</summary>
    Tanh,
}
