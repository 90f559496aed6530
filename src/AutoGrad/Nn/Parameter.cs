namespace AutoGrad.Nn;

/// <summary>
/// A learnable leaf variable owned by a <see cref="Module"/> (PyTorch's nn.Parameter): it requires a gradient by
/// default, and optimizers update its <see cref="Variable.Value"/> in place.
/// </summary>
public sealed class Parameter : Variable
{
    /// <summary>Wraps <paramref name="value"/> (shared, not copied) as a parameter.</summary>
    public Parameter(Tensor value, bool requiresGrad = true, string? name = null)
        : base(value, requiresGrad, name)
    {
    }

    /// <summary>The number of scalars in the parameter.</summary>
    public int Numel => Value.Length;
}
