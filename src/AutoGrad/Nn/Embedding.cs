namespace AutoGrad.Nn;

/// <summary>
/// A lookup table of num_embeddings vectors of size embedding_dim (PyTorch's
/// nn.Embedding): the input holds indices (whole numbers as floats), the output appends the vector dim. Weights are
/// drawn from N(0, 1); the padding row starts at zero and gets no gradient.
/// </summary>
public sealed class Embedding : Module
{
    /// <summary>Creates the table; <paramref name="paddingIdx"/> may be negative (counted from the end), as PyTorch's.</summary>
    public Embedding(int numEmbeddings, int embeddingDim, int? paddingIdx = null, Generator? generator = null)
    {
        if (numEmbeddings <= 0 || embeddingDim <= 0)
        {
            throw new ArgumentException($"Embedding: num_embeddings ({numEmbeddings}) and embedding_dim ({embeddingDim}) must be positive.");
        }
        if (paddingIdx is int p && (p >= numEmbeddings || p < -numEmbeddings))
        {
            throw new ArgumentOutOfRangeException(nameof(paddingIdx), $"Embedding: padding_idx {p} is outside [-{numEmbeddings}, {numEmbeddings}).");
        }
        PaddingIdx = paddingIdx is int q && q < 0 ? q + numEmbeddings : paddingIdx;
        Weight = RegisterParameter("weight", new Parameter(Tensor.Zeros(numEmbeddings, embeddingDim)));
        Init.Normal()(Weight.Value, generator ?? Generator.Default);
        if (PaddingIdx is int row)
        {
            Weight.Value.AsSpan().Slice(row * embeddingDim, embeddingDim).Clear();
        }
    }

    /// <summary>The table [num_embeddings, embedding_dim].</summary>
    public Parameter Weight { get; }

    /// <summary>The row that gets no gradient, or null.</summary>
    public int? PaddingIdx { get; }

    /// <inheritdoc/>
    public override Variable Forward(Variable input) => F.Embedding(input, Weight, PaddingIdx);

    /// <inheritdoc/>
    protected override string Describe() => $"{Weight.Value.Shape[0]}, {Weight.Value.Shape[1]}{(PaddingIdx is int p ? $", padding_idx={p}" : "")}";
}

/// <summary>Channel dropout (PyTorch's nn.Dropout2d): whole channels of [N, C, H, W] zeroed with probability p in training.</summary>
public sealed class Dropout2d : Module
{
    private readonly Generator? _generator;

    /// <summary>Creates the layer with drop probability <paramref name="p"/> in [0, 1].</summary>
    public Dropout2d(float p = 0.5f, Generator? generator = null)
    {
        if (!(p >= 0f && p <= 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(p), p, "Dropout2d: p must be in [0, 1].");
        }
        P = p;
        _generator = generator;
    }

    /// <summary>The drop probability.</summary>
    public float P { get; }

    /// <inheritdoc/>
    public override Variable Forward(Variable input) => F.Dropout2d(input, P, Training, _generator);

    /// <inheritdoc/>
    protected override string Describe() => $"p={P}";
}

/// <summary>Adaptive average pooling to a fixed output size (PyTorch's nn.AdaptiveAvgPool2d).</summary>
public sealed class AdaptiveAvgPool2d((int H, int W) outputSize) : Module
{
    /// <summary>Pools to a square output.</summary>
    public AdaptiveAvgPool2d(int outputSize) : this((outputSize, outputSize))
    {
    }

    /// <inheritdoc/>
    public override Variable Forward(Variable input) => F.AdaptiveAvgPool2d(input, outputSize);

    /// <inheritdoc/>
    protected override string Describe() => $"output_size=({outputSize.H}, {outputSize.W})";
}

/// <summary>Nearest-neighbour upsampling by a whole scale factor (PyTorch's nn.Upsample(scale_factor, mode='nearest')).</summary>
public sealed class Upsample(int scaleFactor) : Module
{
    /// <inheritdoc/>
    public override Variable Forward(Variable input) => F.UpsampleNearest(input, scaleFactor);

    /// <inheritdoc/>
    protected override string Describe() => $"scale_factor={scaleFactor}, mode='nearest'";
}
