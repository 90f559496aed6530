using AutoGrad.Graph;

namespace AutoGrad;

// Layers of a current course written as compositions of differentiable ops (so they are twice differentiable and
// guarded like every op): embedding lookup, channel dropout, adaptive average pooling, nearest upsampling.
public static partial class F
{
    /// <summary>
    /// Rows of <paramref name="weight"/> [num_embeddings, dim] picked by <paramref name="indices"/> (whole numbers in
    /// a float tensor of any shape): the result has the indices' shape followed by dim (torch.nn.functional.embedding).
    /// Rows at <paramref name="paddingIdx"/> get no gradient, as PyTorch's padding_idx.
    /// </summary>
    public static Variable Embedding(Tensor indices, Variable weight, int? paddingIdx = null)
    {
        ArgumentNullException.ThrowIfNull(indices);
        return Lookup(indices, null, weight, paddingIdx);
    }

    /// <summary>
    /// The same lookup with the indices as a variable (an <see cref="Nn.Embedding"/>'s input): they get no gradient,
    /// and an exported graph reads them from where they came from instead of baking them in.
    /// </summary>
    public static Variable Embedding(Variable indices, Variable weight, int? paddingIdx = null)
        => Lookup(NotNull(indices).Value, indices, weight, paddingIdx);

    private static Variable Lookup(Tensor indices, Variable? source, Variable weight, int? paddingIdx)
    {
        NotNull(weight);
        if (weight.Rank != 2)
        {
            throw new ArgumentException(CallSite.Tag($"Embedding: the weight must be [num_embeddings, dim]; got {Shapes.Format(weight.Shape)}."));
        }
        int rows = weight.Shape[0];
        if (paddingIdx is int p && (p < -rows || p >= rows))
        {
            throw new ArgumentOutOfRangeException(nameof(paddingIdx), CallSite.Tag($"Embedding: padding_idx {p} is outside [-{rows}, {rows}) for a weight of shape {Shapes.Format(weight.Shape)}."));
        }
        int? padding = paddingIdx < 0 ? paddingIdx + rows : paddingIdx; // counted from the end, as PyTorch's
        var values = indices.AsReadOnlySpan();
        var picked = new int[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            float v = values[i];
            if (v != MathF.Floor(v) || v < 0 || v >= rows)
            {
                throw new ArgumentOutOfRangeException(nameof(indices), CallSite.Tag(
                    $"Embedding: index entry {i} is {v}; entries must be whole numbers in [0, {rows}) for a weight of shape {Shapes.Format(weight.Shape)}."));
            }
            picked[i] = (int)v;
        }
        return Ops.SelectFunction.Apply(weight, 0, picked, OpKind.Embedding, source, padding, [.. indices.ShapeArray, weight.Shape[1]]);
    }

    /// <summary>
    /// Zeroes whole channels of x [N, C, ...] with probability p and scales the rest by 1/(1-p), in training only
    /// (PyTorch's dropout2d on [N, C, H, W]; one draw per sample and channel).
    /// </summary>
    public static Variable Dropout2d(Variable x, float p = 0.5f, bool training = true, Generator? generator = null)
    {
        NotNull(x);
        if (!(p >= 0 && p <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(p), CallSite.Tag($"Dropout2d: p must be in [0, 1]; got {p}."));
        }
        if (x.Rank < 2)
        {
            throw new ArgumentException(CallSite.Tag($"Dropout2d: needs [N, C, ...]; got shape {Shapes.Format(x.Shape)}."));
        }
        if (!training || p == 0)
        {
            return x;
        }
        generator ??= Generator.Default;
        var shape = x.Value.ShapeArray.Select((s, d) => d < 2 ? s : 1).ToArray();
        var mask = Tensor.Zeros(shape);
        var span = mask.AsSpan();
        float scale = p == 1 ? 0f : 1f / (1f - p);
        for (int i = 0; i < span.Length; i++)
        {
            span[i] = generator.NextFloat() < p ? 0f : scale;
        }
        return Mul(x, new Variable(mask));
    }

    /// <summary>
    /// Average pooling of x [N, C, H, W] (or [C, H, W]) to <paramref name="outputSize"/>, with PyTorch's bins: output
    /// row i averages input rows floor(i H / oh) to ceil((i + 1) H / oh). Written as one matrix product with a constant
    /// averaging matrix.
    /// </summary>
    public static Variable AdaptiveAvgPool2d(Variable x, (int H, int W) outputSize)
    {
        NotNull(x);
        if (x.Rank is not (3 or 4) || outputSize.H <= 0 || outputSize.W <= 0)
        {
            throw new ArgumentException(CallSite.Tag($"AdaptiveAvgPool2d: needs [N, C, H, W] or [C, H, W] and a positive output size; got {Shapes.Format(x.Shape)} to ({outputSize.H}, {outputSize.W})."));
        }
        int h = x.Shape[^2], w = x.Shape[^1], oh = outputSize.H, ow = outputSize.W;
        var averaging = Tensor.Zeros(oh * ow, h * w);
        var a = averaging.AsSpan();
        for (int i = 0; i < oh; i++)
        {
            int r0 = i * h / oh, r1 = ((i + 1) * h + oh - 1) / oh;
            for (int j = 0; j < ow; j++)
            {
                int c0 = j * w / ow, c1 = ((j + 1) * w + ow - 1) / ow;
                float share = 1f / ((r1 - r0) * (c1 - c0));
                for (int r = r0; r < r1; r++)
                {
                    for (int c = c0; c < c1; c++)
                    {
                        a[(i * ow + j) * h * w + r * w + c] = share;
                    }
                }
            }
        }
        var rows = Reshape(x, -1, h * w);
        var pooled = MatMul(rows, Transpose(new Variable(averaging), 0, 1));
        return Reshape(pooled, [.. x.Value.ShapeArray[..^2], oh, ow]);
    }

    /// <summary>Adaptive average pooling to a square output.</summary>
    public static Variable AdaptiveAvgPool2d(Variable x, int outputSize) => AdaptiveAvgPool2d(x, (outputSize, outputSize));

    /// <summary>
    /// Nearest-neighbour upsampling of x [N, C, H, W] (or [C, H, W]) to <paramref name="size"/>: output row i copies input
    /// row floor(i H / out_H), as PyTorch's mode='nearest'.
    /// </summary>
    public static Variable UpsampleNearest(Variable x, (int H, int W) size)
    {
        NotNull(x);
        if (x.Rank is not (3 or 4) || size.H <= 0 || size.W <= 0)
        {
            throw new ArgumentException(CallSite.Tag($"Upsample: needs [N, C, H, W] or [C, H, W] and a positive size; got {Shapes.Format(x.Shape)} to ({size.H}, {size.W})."));
        }
        int h = x.Shape[^2], w = x.Shape[^1];
        var rows = Enumerable.Range(0, size.H).Select(i => (int)Math.Floor(i * (double)h / size.H)).ToArray();
        var columns = Enumerable.Range(0, size.W).Select(j => (int)Math.Floor(j * (double)w / size.W)).ToArray();
        return IndexSelect(IndexSelect(x, x.Rank - 2, rows), x.Rank - 1, columns);
    }

    /// <summary>Nearest-neighbour upsampling by whole scale factors.</summary>
    public static Variable UpsampleNearest(Variable x, int scaleFactor)
    {
        NotNull(x);
        if (scaleFactor < 1 || x.Rank < 2)
        {
            throw new ArgumentException(CallSite.Tag($"Upsample: the scale factor must be >= 1 and x [.., H, W]; got {scaleFactor} for {Shapes.Format(x.Shape)}."));
        }
        return UpsampleNearest(x, (x.Shape[^2] * scaleFactor, x.Shape[^1] * scaleFactor));
    }
}
