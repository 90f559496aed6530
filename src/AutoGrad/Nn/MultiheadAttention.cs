namespace AutoGrad.Nn;

/// <summary>
/// Multi-head attention (PyTorch's nn.MultiheadAttention): parameters in_proj_weight [3E, E], in_proj_bias [3E] and
/// out_proj (weight [E, E], bias [E]), initialized as PyTorch does (Xavier-uniform packed projection, zero biases), so a
/// PyTorch state dict loads. Inputs are [L, N, E], or [N, L, E] with batchFirst.
/// </summary>
public sealed class MultiheadAttention : Module
{
    private readonly Generator? _generator;

    /// <summary>Creates the layer; <paramref name="embedDim"/> must split evenly into <paramref name="numHeads"/> heads.</summary>
    public MultiheadAttention(int embedDim, int numHeads, float dropout = 0f, bool bias = true, bool batchFirst = false, Generator? generator = null)
    {
        if (embedDim <= 0 || numHeads <= 0 || embedDim % numHeads != 0)
        {
            throw new ArgumentException($"MultiheadAttention: embed_dim ({embedDim}) must be a positive multiple of num_heads ({numHeads}).");
        }
        if (!(dropout >= 0f && dropout <= 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "MultiheadAttention: dropout must be in [0, 1].");
        }
        (EmbedDim, NumHeads, Dropout, BatchFirst, _generator) = (embedDim, numHeads, dropout, batchFirst, generator);
        var g = generator ?? Generator.Default;
        InProjWeight = RegisterParameter("in_proj_weight", new Parameter(Tensor.Zeros(3 * embedDim, embedDim)));
        Init.XavierUniform()(InProjWeight.Value, g);
        if (bias)
        {
            InProjBias = RegisterParameter("in_proj_bias", new Parameter(Tensor.Zeros(3 * embedDim)));
        }
        OutProj = RegisterModule("out_proj", new Linear(embedDim, embedDim, bias, biasInit: Init.Zeros(), generator: g));
    }

    /// <summary>The model width E.</summary>
    public int EmbedDim { get; }

    /// <summary>The number of heads.</summary>
    public int NumHeads { get; }

    /// <summary>Dropout on the attention weights in training.</summary>
    public float Dropout { get; }

    /// <summary>Whether inputs are [N, L, E] rather than [L, N, E].</summary>
    public bool BatchFirst { get; }

    /// <summary>The packed query, key and value projections [3E, E].</summary>
    public Parameter InProjWeight { get; }

    /// <summary>Their biases [3E], or null.</summary>
    public Parameter? InProjBias { get; }

    /// <summary>The output projection.</summary>
    public Linear OutProj { get; }

    /// <summary>Self-attention: query, key and value are all <paramref name="input"/>; returns the output only.</summary>
    public override Variable Forward(Variable input) => Forward(input, input, input).Output;

    /// <summary>
    /// Attention of <paramref name="query"/> over <paramref name="key"/>/<paramref name="value"/>: the output and, when
    /// <paramref name="needWeights"/>, the weights [N, L, S] averaged over heads. Masks as in <see cref="F.MultiheadAttention"/>.
    /// </summary>
    public (Variable Output, Variable? Weights) Forward(Variable query, Variable key, Variable value, Tensor? keyPaddingMask = null, Tensor? attnMask = null,
        bool needWeights = true)
        => F.MultiheadAttention(query, key, value, NumHeads, InProjWeight, InProjBias, OutProj.Weight, OutProj.Bias, keyPaddingMask, attnMask, needWeights,
            BatchFirst, Training ? Dropout : 0f, _generator);

    /// <inheritdoc/>
    protected override string Describe() => $"embed_dim={EmbedDim}, num_heads={NumHeads}, dropout={Dropout}, batch_first={BatchFirst}";
}
