namespace AutoGrad.Nn;

/// <summary>
/// A fully connected layer y = x W^T + b with W [out, in] and b [out] (PyTorch's nn.Linear). By default W and b are
/// drawn as PyTorch draws them, U(-1/sqrt(in), 1/sqrt(in)).
/// </summary>
public sealed class Linear : Module
{
    /// <summary>Creates the layer; initializers default to PyTorch's, the generator to <see cref="Generator.Default"/>.</summary>
    public Linear(int inFeatures, int outFeatures, bool bias = true, Initializer? weightInit = null, Initializer? biasInit = null,
        Generator? generator = null)
    {
        if (inFeatures <= 0 || outFeatures <= 0)
        {
            throw new ArgumentException($"Linear: in_features ({inFeatures}) and out_features ({outFeatures}) must be positive.");
        }
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        generator ??= Generator.Default;
        Weight = RegisterParameter("weight", new Parameter(Tensor.Zeros(outFeatures, inFeatures)));
        (weightInit ?? Init.PyTorchDefaultWeight())(Weight.Value, generator);
        if (bias)
        {
            Bias = RegisterParameter("bias", new Parameter(Tensor.Zeros(outFeatures)));
            (biasInit ?? Init.PyTorchDefaultBias(inFeatures))(Bias.Value, generator);
        }
    }

    /// <summary>The number of input features.</summary>
    public int InFeatures { get; }

    /// <summary>The number of output features.</summary>
    public int OutFeatures { get; }

    /// <summary>The weight [out, in].</summary>
    public Parameter Weight { get; }

    /// <summary>The bias [out], or null.</summary>
    public Parameter? Bias { get; }

    /// <inheritdoc/>
    public override Variable Forward(Variable input) => F.Linear(input, Weight, Bias);

    /// <summary>The layer with <paramref name="activation"/> applied in its node (see <see cref="AutoGrad.Activation"/>).</summary>
    public Variable Forward(Variable input, Activation activation) => F.Linear(input, Weight, Bias, activation);

    /// <inheritdoc/>
    protected override string Describe() => $"in_features={InFeatures}, out_features={OutFeatures}, bias={Bias is not null}";
}
