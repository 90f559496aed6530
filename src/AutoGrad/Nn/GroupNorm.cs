namespace AutoGrad.Nn;

/// <summary>
/// Group normalization of [N, C, *] (PyTorch's nn.GroupNorm): the channels split into <see cref="NumGroups"/> groups,
/// each normalized per sample; parameters weight (ones) and bias (zeros) per channel when affine.
/// </summary>
public sealed class GroupNorm : Module
{
    /// <summary>Creates the layer for <paramref name="numChannels"/> channels in <paramref name="numGroups"/> groups.</summary>
    public GroupNorm(int numGroups, int numChannels, float eps = 1e-5f, bool affine = true)
    {
        if (numGroups <= 0 || numChannels <= 0 || numChannels % numGroups != 0)
        {
            throw new ArgumentException($"GroupNorm: num_channels ({numChannels}) must be a positive multiple of num_groups ({numGroups}).", nameof(numGroups));
        }
        (NumGroups, NumChannels, Eps) = (numGroups, numChannels, eps);
        if (affine)
        {
            Weight = RegisterParameter("weight", new Parameter(Tensor.Ones(numChannels)));
            Bias = RegisterParameter("bias", new Parameter(Tensor.Zeros(numChannels)));
        }
    }

    /// <summary>The number of groups the channels split into.</summary>
    public int NumGroups { get; }

    /// <summary>The number of channels C.</summary>
    public int NumChannels { get; }

    /// <summary>Added to the variance before the square root.</summary>
    public float Eps { get; }

    /// <summary>The per-channel scale (null unless affine).</summary>
    public Parameter? Weight { get; }

    /// <summary>The per-channel shift (null unless affine).</summary>
    public Parameter? Bias { get; }

    /// <inheritdoc/>
    public override Variable Forward(Variable input) => F.GroupNorm(input, NumGroups, Weight, Bias, Eps);

    /// <inheritdoc/>
    protected override string Describe() => $"{NumGroups}, {NumChannels}, eps={Eps}, affine={Weight is not null}";
}
