using AutoGrad.Graph;

namespace AutoGrad;

// Attention as a composition of batched matrix products, a scaled softmax and masks (so it is twice differentiable
// and guarded like every op): PyTorch's scaled_dot_product_attention and multi_head_attention_forward.
public static partial class F
{
    /// <summary>
    /// softmax(q k^T / sqrt(E) + mask) v for q [..., L, E], k [..., S, E], v [..., S, Ev] (batch dims broadcast):
    /// PyTorch's scaled_dot_product_attention. <paramref name="attnMask"/> is added to the scores (broadcast to
    /// [..., L, S]; -Infinity removes a position); <paramref name="isCausal"/> removes the positions above the diagonal.
    /// Dropout on the attention weights applies only when <paramref name="dropoutP"/> &gt; 0.
    /// </summary>
    public static Variable ScaledDotProductAttention(Variable query, Variable key, Variable value, Tensor? attnMask = null, float dropoutP = 0f,
        bool isCausal = false, Generator? generator = null)
        => Attention(query, key, value, attnMask, dropoutP, isCausal, generator, needWeights: false).Output;

    // Without a mask or dropout, and when the weights are not asked for, one fused node (Ops/Attention.cs); else the composite.
    private static (Variable Output, Variable? Weights) Attention(Variable query, Variable key, Variable value, Tensor? attnMask, float dropoutP, bool isCausal,
        Generator? generator, bool needWeights)
    {
        NotNull(query);
        NotNull(key);
        NotNull(value);
        if (query.Rank < 2 || key.Rank < 2 || value.Rank < 2 || query.Shape[^1] != key.Shape[^1] || key.Shape[^2] != value.Shape[^2])
        {
            throw new ArgumentException(CallSite.Tag(
                $"ScaledDotProductAttention: needs q [..., L, E], k [..., S, E], v [..., S, Ev]; got {Shapes.Format(query.Shape)}, {Shapes.Format(key.Shape)}, {Shapes.Format(value.Shape)}."));
        }
        if (attnMask is null && dropoutP <= 0 && !needWeights && query.Shape[..^2].SequenceEqual(key.Shape[..^2]) && key.Shape[..^2].SequenceEqual(value.Shape[..^2]))
        {
            return (Ops.ScaledDotProductAttentionFunction.Apply(query, key, value, isCausal), null);
        }
        var weights = AttentionWeights(query, key, isCausal, attnMask);
        var dropped = dropoutP > 0 ? Dropout(weights, dropoutP, training: true, generator) : weights;
        return (MatMul(dropped, value), weights);
    }

    /// <summary>softmax(q k^T / sqrt(E) + mask), the causal positions removed: the composite the fused node's double backward recomputes.</summary>
    internal static Variable AttentionWeights(Variable query, Variable key, bool isCausal, Tensor? attnMask = null)
    {
        var scores = Div(MatMul(query, Transpose(key, -2, -1)), MathF.Sqrt(query.Shape[^1]));
        if (isCausal)
        {
            scores = MaskedFill(scores, Tensor.Ones(query.Shape[^2], key.Shape[^2]).Triu(1), float.NegativeInfinity);
        }
        if (attnMask is not null)
        {
            scores = Add(scores, new Variable(attnMask));
        }
        return Softmax(scores, -1);
    }

    /// <summary>
    /// Multi-head attention with PyTorch's parameters and layout (multi_head_attention_forward): inputs [L, N, E]
    /// (or [N, L, E] with <paramref name="batchFirst"/>), <paramref name="inProjWeight"/> [3E, E] holding the query,
    /// key and value projections, <paramref name="outProjWeight"/> [E, E]. <paramref name="keyPaddingMask"/> [N, S] is
    /// nonzero at keys to ignore; <paramref name="attnMask"/> [L, S] or [N * heads, L, S] is added to the scores.
    /// Returns the output and, when asked, the attention weights [N, L, S] averaged over the heads.
    /// </summary>
    public static (Variable Output, Variable? Weights) MultiheadAttention(Variable query, Variable key, Variable value, int numHeads,
        Variable inProjWeight, Variable? inProjBias, Variable outProjWeight, Variable? outProjBias, Tensor? keyPaddingMask = null, Tensor? attnMask = null,
        bool needWeights = true, bool batchFirst = false, float dropoutP = 0f, Generator? generator = null)
    {
        NotNull(query);
        NotNull(key);
        NotNull(value);
        NotNull(inProjWeight);
        NotNull(outProjWeight);
        if (batchFirst)
        {
            (query, key, value) = (Transpose(query, 0, 1), Transpose(key, 0, 1), Transpose(value, 0, 1));
        }
        if (query.Rank != 3 || key.Rank != 3 || value.Rank != 3)
        {
            throw new ArgumentException(CallSite.Tag($"MultiheadAttention: needs 3-D query, key and value; got {Shapes.Format(query.Shape)}, {Shapes.Format(key.Shape)}, {Shapes.Format(value.Shape)}."));
        }
        int l = query.Shape[0], n = query.Shape[1], e = query.Shape[2], s = key.Shape[0];
        if (numHeads <= 0 || e % numHeads != 0 || inProjWeight.Shape.SequenceEqual(new[] { 3 * e, e }) is false || key.Shape[1] != n || value.Shape[0] != s)
        {
            throw new ArgumentException(CallSite.Tag(
                $"MultiheadAttention: embed dim {e} must split into {numHeads} heads, in_proj_weight must be [{3 * e}, {e}] (got {Shapes.Format(inProjWeight.Shape)}), and key/value must share batch and length (query {Shapes.Format(query.Shape)}, key {Shapes.Format(key.Shape)}, value {Shapes.Format(value.Shape)})."));
        }
        int d = e / numHeads;
        // [L, N, E] -> [N * heads, L, d], each projection with its third of the packed weight and bias
        Variable Project(Variable x, int part)
        {
            var w = Slice(inProjWeight, 0, part * e, (part + 1) * e);
            var b = inProjBias is null ? null : Slice(inProjBias, 0, part * e, (part + 1) * e);
            var projected = Linear(Reshape(x, -1, e), w, b);
            return Transpose(Reshape(projected, x.Shape[0], n * numHeads, d), 0, 1);
        }
        var q = Project(query, 0);
        var k = Project(key, 1);
        var v = Project(value, 2);
        Tensor? mask = attnMask;
        if (keyPaddingMask is not null)
        {
            if (!keyPaddingMask.Shape.SequenceEqual(new[] { n, s }))
            {
                throw new ArgumentException(CallSite.Tag($"MultiheadAttention: key_padding_mask must be [{n}, {s}]; got {Shapes.Format(keyPaddingMask.Shape)}."));
            }
            // nonzero = ignore: -Infinity for those keys, repeated over the heads as [N * heads, 1, S]
            var padding = Tensor.Zeros(n * numHeads, 1, s);
            var source = keyPaddingMask.AsReadOnlySpan();
            var target = padding.AsSpan();
            for (int i = 0; i < n * numHeads; i++)
            {
                for (int j = 0; j < s; j++)
                {
                    target[i * s + j] = source[i / numHeads * s + j] != 0 ? float.NegativeInfinity : 0f;
                }
            }
            mask = mask is null ? padding : TensorMath.Add(mask, padding);
        }
        var (attended, weights) = Attention(q, k, v, mask, dropoutP, isCausal: false, generator, needWeights);
        var merged = Reshape(Transpose(attended, 0, 1), l * n, e);
        var output = Reshape(Linear(merged, outProjWeight, outProjBias), l, n, e);
        if (batchFirst)
        {
            output = Transpose(output, 0, 1);
        }
        return (output, needWeights ? Mean(Reshape(weights!, n, numHeads, l, s), 1) : null);
    }
}
