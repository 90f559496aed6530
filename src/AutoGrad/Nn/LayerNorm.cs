namespace AutoGrad.Nn;

/// <summary>
/// Layer normalization over the trailing dims <see cref="NormalizedShape"/> (PyTorch's nn.LayerNorm), with parameters
/// weight (ones) and bias (zeros) of that shape when <c>elementwiseAffine</c>. No running statistics: training and
/// evaluation compute the same.
/// </summary>
public sealed class LayerNorm : Module
{
    /// <summary>Creates the layer normalizing over the last dims, of shape <paramref name="normalizedShape"/>.</summary>
    public LayerNorm(int[] normalizedShape, float eps = 1e-5f, bool elementwiseAffine = true)
    {
        ArgumentNullException.ThrowIfNull(normalizedShape);
        if (normalizedShape.Length == 0 || normalizedShape.Any(d => d <= 0))
        {
            throw new ArgumentException($"LayerNorm: normalized_shape must be non-empty with positive dims; got {Shapes.Format(normalizedShape)}.", nameof(normalizedShape));
        }
        (NormalizedShape, Eps) = ((int[])normalizedShape.Clone(), eps);
        if (elementwiseAffine)
        {
            Weight = RegisterParameter("weight", new Parameter(Tensor.Ones(NormalizedShape)));
            Bias = RegisterParameter("bias", new Parameter(Tensor.Zeros(NormalizedShape)));
        }
    }

    /// <summary>Creates the layer normalizing over the last dim, of size <paramref name="normalizedShape"/>.</summary>
    public LayerNorm(int normalizedShape, float eps = 1e-5f, bool elementwiseAffine = true)
        : this([normalizedShape], eps, elementwiseAffine)
    {
    }

    /// <summary>The trailing dims normalized together.</summary>
    public int[] NormalizedShape { get; }

    /// <summary>Added to the variance before the square root.</summary>
    public float Eps { get; }

    /// <summary>The elementwise scale (null without elementwise affine).</summary>
    public Parameter? Weight { get; }

    /// <summary>The elementwise shift (null without elementwise affine).</summary>
    public Parameter? Bias { get; }

    /// <inheritdoc/>
    public override Variable Forward(Variable input) => F.LayerNorm(input, NormalizedShape, Weight, Bias, Eps);

    /// <inheritdoc/>
    protected override string Describe() => $"{Shapes.Format(NormalizedShape)}, eps={Eps}, elementwise_affine={Weight is not null}";
}
