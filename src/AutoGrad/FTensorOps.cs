using AutoGrad.Graph;
using AutoGrad.Kernels;
using AutoGrad.Ops;

namespace AutoGrad;

// The tensor ops users reach for beyond arithmetic: arg-extrema and top-k, comparisons as masks, where and
// masked_fill, gather and scatter_add, stack/split/chunk, expand/repeat, tril/triu, cumsum. Indices are whole numbers
// stored in float32 tensors (exact below 2^24), as AutoGrad's tensors are float32; a mask is 0 or 1.
public static partial class F
{
    // ---- arg-extrema and top-k -------------------------------------------------------------------------------------

    /// <summary>The index of the largest entry along <paramref name="dim"/> (of the flattened tensor when null); the first one on ties, NaN counting as largest, as PyTorch.</summary>
    public static Tensor ArgMax(Variable x, int? dim = null, bool keepDim = false) => ArgExtremum(NotNull(x).Value, dim, keepDim, largest: true);

    /// <summary>The index of the smallest entry along <paramref name="dim"/> (of the flattened tensor when null); the first one on ties, NaN counting as smallest.</summary>
    public static Tensor ArgMin(Variable x, int? dim = null, bool keepDim = false) => ArgExtremum(NotNull(x).Value, dim, keepDim, largest: false);

    /// <summary>
    /// The <paramref name="k"/> largest (or smallest) entries along <paramref name="dim"/> and their indices, sorted
    /// from the most extreme (ties in index order). The values are differentiable (a gather of x).
    /// </summary>
    public static (Variable Values, Tensor Indices) TopK(Variable x, int k, int dim = -1, bool largest = true)
    {
        NotNull(x);
        var value = x.Value;
        int d = value.Rank == 0 ? 0 : Shapes.NormalizeDim(dim, value.Rank, "TopK", value.Shape);
        int size = value.Rank == 0 ? 1 : value.Shape[d];
        if (k < 0 || k > size)
        {
            throw new ArgumentOutOfRangeException(nameof(k), CallSite.Tag($"TopK: k = {k} is out of range for dim {d} of size {size} (shape {Shapes.Format(value.Shape)})."));
        }
        var source = value.Rank == 0 ? value.Reshape(1) : value;
        var (outer, _, inner) = SelectFunction.Split(source.Shape, d);
        var shape = (int[])source.ShapeArray.Clone();
        shape[d] = k;
        var indices = new int[outer * k * inner];
        var data = source.AsReadOnlySpan().ToArray();
        var order = new int[size];
        for (int o = 0; o < outer; o++)
        {
            for (int i = 0; i < inner; i++)
            {
                for (int j = 0; j < size; j++)
                {
                    order[j] = j;
                }
                int Offset(int j) => (o * size + j) * inner + i;
                Array.Sort(order, (a, b) =>
                {
                    int c = CompareForOrder(data[Offset(a)], data[Offset(b)]);
                    return c != 0 ? (largest ? -c : c) : a.CompareTo(b);
                });
                for (int j = 0; j < k; j++)
                {
                    indices[(o * k + j) * inner + i] = order[j];
                }
            }
        }
        var values = Ops.GatherFunction.Apply(value.Rank == 0 ? Reshape(x, 1) : x, d, indices, shape);
        var indexTensor = Tensor.FromArray(indices.Select(i => (float)i).ToArray(), shape);
        return value.Rank == 0 ? (Reshape(values), indexTensor.Reshape()) : (values, indexTensor);
    }

    // ---- comparisons -----------------------------------------------------------------------------------------------

    /// <summary>1 where x == y, else 0 (broadcast); a mask no gradient flows through.</summary>
    public static Variable Eq(Variable x, Variable y) => Compare(default(EqMap), x, y, OpKind.Eq);

    /// <summary>1 where x != y, else 0.</summary>
    public static Variable Ne(Variable x, Variable y) => Compare(default(NeMap), x, y, OpKind.Ne);

    /// <summary>1 where x &lt; y, else 0.</summary>
    public static Variable Lt(Variable x, Variable y) => Compare(default(LtMap), x, y, OpKind.Lt);

    /// <summary>1 where x &lt;= y, else 0.</summary>
    public static Variable Le(Variable x, Variable y) => Compare(default(LeMap), x, y, OpKind.Le);

    /// <summary>1 where x &gt; y, else 0.</summary>
    public static Variable Gt(Variable x, Variable y) => Compare(default(GtMap), x, y, OpKind.Gt);

    /// <summary>1 where x &gt;= y, else 0.</summary>
    public static Variable Ge(Variable x, Variable y) => Compare(default(GeMap), x, y, OpKind.Ge);

    private static Variable Compare<TMap>(TMap map, Variable x, Variable y, OpKind kind) where TMap : struct, IBinaryMap
        => ComparisonFunction.Apply(map, NotNull(x), NotNull(y), kind);

    // ---- selection -------------------------------------------------------------------------------------------------

    /// <summary>x where <paramref name="condition"/> is nonzero, else y, broadcasting all three (torch.where).</summary>
    public static Variable Where(Tensor condition, Variable x, Variable y)
    {
        ArgumentNullException.ThrowIfNull(condition);
        return Ops.WhereFunction.Apply(condition, NotNull(x), NotNull(y));
    }

    /// <summary>
    /// torch.where with the condition as a variable (a comparison's mask, such as <c>F.Gt(x, 0)</c>): no gradient flows
    /// to it, and an exported graph computes it instead of baking it in.
    /// </summary>
    public static Variable Where(Variable condition, Variable x, Variable y)
        => Ops.WhereFunction.Apply(NotNull(condition).Value, NotNull(x), NotNull(y), condition);

    /// <summary>x with <paramref name="value"/> where <paramref name="mask"/> is nonzero (broadcast to x's shape); no gradient flows to the filled entries.</summary>
    public static Variable MaskedFill(Variable x, Tensor mask, float value) => Fill(x, mask, value, null);

    /// <summary>MaskedFill with the mask as a variable (a comparison's result); no gradient flows to it, and an exported graph computes it.</summary>
    public static Variable MaskedFill(Variable x, Variable mask, float value) => Fill(x, NotNull(mask).Value, value, mask);

    private static Variable Fill(Variable x, Tensor mask, float value, Variable? maskSource)
    {
        NotNull(x);
        ArgumentNullException.ThrowIfNull(mask);
        if (!Shapes.BroadcastsTo(mask.Shape, x.Shape))
        {
            throw new ArgumentException(CallSite.Tag($"MaskedFill: the mask's shape {Shapes.Format(mask.Shape)} does not broadcast to x's {Shapes.Format(x.Shape)}."));
        }
        return Ops.WhereFunction.Apply(mask, new Variable(Tensor.Scalar(value)), x, maskSource);
    }

    /// <summary>out[i][j] = x[index[i][j]][j] for dim 0, and so on (torch.gather); index has x's rank and no larger sizes off dim.</summary>
    public static Variable Gather(Variable x, int dim, Tensor index)
    {
        NotNull(x);
        int d = Shapes.NormalizeDim(dim, x.Rank, "Gather", x.Shape);
        return Ops.GatherFunction.Apply(x, d, Indices(index, x.Shape, d, "Gather", index), index.ShapeArray);
    }

    /// <summary>x with src[i][j] added at row index[i][j] for dim 0, and so on (torch.scatter_add); differentiable in x and src.</summary>
    public static Variable ScatterAdd(Variable x, int dim, Tensor index, Variable source)
    {
        NotNull(x);
        NotNull(source);
        int d = Shapes.NormalizeDim(dim, x.Rank, "ScatterAdd", x.Shape);
        var indices = Indices(index, x.Shape, d, "ScatterAdd", index);
        for (int i = 0; i < index.Rank; i++)
        {
            if (source.Rank != index.Rank || index.Shape[i] > source.Shape[i])
            {
                throw new ArgumentException(CallSite.Tag($"ScatterAdd: the index's shape {Shapes.Format(index.Shape)} must not exceed the source's {Shapes.Format(source.Shape)} in any dim."));
            }
        }
        return Ops.ScatterAddFunction.Apply(x, d, indices, index.ShapeArray, source);
    }

    /// <summary>The index tensor's entries as ints, checked: same rank, sizes within x's off dim, whole numbers within dim's size.</summary>
    private static int[] Indices(Tensor index, ReadOnlySpan<int> shape, int dim, string op, Tensor forMessage)
    {
        ArgumentNullException.ThrowIfNull(index);
        if (index.Rank != shape.Length)
        {
            throw new ArgumentException(CallSite.Tag($"{op}: the index has rank {index.Rank} ({Shapes.Format(index.Shape)}) but x has rank {shape.Length} ({Shapes.Format(shape)})."));
        }
        for (int d = 0; d < shape.Length; d++)
        {
            if (d != dim && index.Shape[d] > shape[d])
            {
                throw new ArgumentException(CallSite.Tag($"{op}: the index's shape {Shapes.Format(index.Shape)} exceeds x's {Shapes.Format(shape)} in dim {d}."));
            }
        }
        var values = index.AsReadOnlySpan();
        var result = new int[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            float v = values[i];
            if (v != MathF.Floor(v) || v < 0 || v >= shape[dim])
            {
                throw new ArgumentOutOfRangeException(nameof(index), CallSite.Tag(
                    $"{op}: index entry {i} is {v}; entries must be whole numbers in [0, {shape[dim]}) for dim {dim} of x's shape {Shapes.Format(shape)}."));
            }
            result[i] = (int)v;
        }
        return result;
    }

    // ---- joining and splitting -------------------------------------------------------------------------------------

    /// <summary>Joins tensors of one shape along a new dim (torch.stack).</summary>
    public static Variable Stack(IReadOnlyList<Variable> xs, int dim = 0)
    {
        ArgumentNullException.ThrowIfNull(xs);
        if (xs.Count == 0)
        {
            throw new ArgumentException(CallSite.Tag("Stack: needs at least one tensor."));
        }
        var first = NotNull(xs[0]);
        int d = Shapes.NormalizeDim(dim, first.Rank + 1, "Stack", first.Shape);
        for (int i = 1; i < xs.Count; i++)
        {
            if (!NotNull(xs[i]).Shape.SequenceEqual(first.Shape))
            {
                throw new ArgumentException(CallSite.Tag($"Stack: tensor {i} has shape {Shapes.Format(xs[i].Shape)} but tensor 0 has {Shapes.Format(first.Shape)}; all must match."));
            }
        }
        return Concat(xs.Select(x => Unsqueeze(x, d)).ToArray(), d);
    }

    /// <summary>Pieces of <paramref name="splitSize"/> along <paramref name="dim"/> (the last may be smaller), torch.split.</summary>
    public static Variable[] Split(Variable x, int splitSize, int dim = 0)
    {
        NotNull(x);
        if (splitSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(splitSize), CallSite.Tag($"Split: the split size must be >= 1; got {splitSize}."));
        }
        int d = Shapes.NormalizeDim(dim, x.Rank, "Split", x.Shape);
        int size = x.Shape[d];
        var sizes = Enumerable.Range(0, Math.Max(1, (size + splitSize - 1) / splitSize)).Select(i => Math.Min(splitSize, size - i * splitSize)).ToArray();
        return Split(x, sizes, d);
    }

    /// <summary>Pieces of the given sizes along <paramref name="dim"/>; the sizes must add up to the dim's size.</summary>
    public static Variable[] Split(Variable x, int[] sizes, int dim = 0)
    {
        NotNull(x);
        ArgumentNullException.ThrowIfNull(sizes);
        int d = Shapes.NormalizeDim(dim, x.Rank, "Split", x.Shape);
        if (sizes.Any(s => s < 0) || sizes.Sum() != x.Shape[d])
        {
            throw new ArgumentException(CallSite.Tag($"Split: sizes [{string.Join(", ", sizes)}] must be non-negative and add up to {x.Shape[d]}, the size of dim {d} of {Shapes.Format(x.Shape)}."));
        }
        var pieces = new Variable[sizes.Length];
        for (int i = 0, start = 0; i < sizes.Length; start += sizes[i], i++)
        {
            pieces[i] = Slice(x, d, start, start + sizes[i]);
        }
        return pieces;
    }

    /// <summary><paramref name="chunks"/> pieces of equal size along dim (the last smaller), fewer when the dim is short (torch.chunk).</summary>
    public static Variable[] Chunk(Variable x, int chunks, int dim = 0)
    {
        NotNull(x);
        if (chunks < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(chunks), CallSite.Tag($"Chunk: needs at least one chunk; got {chunks}."));
        }
        int d = Shapes.NormalizeDim(dim, x.Rank, "Chunk", x.Shape);
        return Split(x, Math.Max(1, (x.Shape[d] + chunks - 1) / chunks), d);
    }

    // ---- broadcasting copies ---------------------------------------------------------------------------------------

    /// <summary>x broadcast to <paramref name="shape"/> (torch.expand; -1 keeps a dim), as a copy.</summary>
    public static Variable Expand(Variable x, params int[] shape)
    {
        NotNull(x);
        ArgumentNullException.ThrowIfNull(shape);
        var target = (int[])shape.Clone();
        int lead = target.Length - x.Rank;
        for (int d = 0; d < target.Length; d++)
        {
            if (target[d] == -1 && d >= lead)
            {
                target[d] = x.Shape[d - lead];
            }
        }
        if (lead < 0 || target.Any(s => s < 0) || !Shapes.BroadcastsTo(x.Shape, target))
        {
            throw new ArgumentException(CallSite.Tag($"Expand: shape {Shapes.Format(x.Shape)} cannot be expanded to {Shapes.Format(shape)} (only size-1 dims stretch; new dims go in front)."));
        }
        return ExpandToFunction.Apply(x, target);
    }

    /// <summary>x tiled <paramref name="repeats"/> times along each dim (torch.repeat; extra leading repeats add dims).</summary>
    public static Variable Repeat(Variable x, params int[] repeats)
    {
        NotNull(x);
        ArgumentNullException.ThrowIfNull(repeats);
        if (repeats.Length < x.Rank || repeats.Any(r => r < 0))
        {
            throw new ArgumentException(CallSite.Tag($"Repeat: needs a non-negative repeat count for each of the {x.Rank} dims of {Shapes.Format(x.Shape)}; got [{string.Join(", ", repeats)}]."));
        }
        // as x.reshape(1, s0, 1, s1, ...).expand(r0, s0, r1, s1, ...).reshape(r0 s0, r1 s1, ...)
        int lead = repeats.Length - x.Rank;
        var interleaved = new List<int>();
        var expanded = new List<int>();
        var result = new int[repeats.Length];
        for (int d = 0; d < repeats.Length; d++)
        {
            int size = d < lead ? 1 : x.Shape[d - lead];
            interleaved.AddRange([1, size]);
            expanded.AddRange([repeats[d], size]);
            result[d] = repeats[d] * size;
        }
        return Reshape(ExpandToFunction.Apply(Reshape(x, interleaved.ToArray()), expanded.ToArray()), result);
    }

    // ---- triangles and running sums --------------------------------------------------------------------------------

    /// <summary>The lower triangle of the last two dims (j &lt;= i + diagonal), zeros above (torch.tril).</summary>
    public static Variable Tril(Variable x, int diagonal = 0) => Triangle(x, diagonal, lower: true);

    /// <summary>The upper triangle of the last two dims (j &gt;= i + diagonal), zeros below (torch.triu).</summary>
    public static Variable Triu(Variable x, int diagonal = 0) => Triangle(x, diagonal, lower: false);

    private static Variable Triangle(Variable x, int diagonal, bool lower)
    {
        NotNull(x);
        if (x.Rank < 2)
        {
            throw new ArgumentException(CallSite.Tag($"{(lower ? "Tril" : "Triu")}: needs at least 2 dims; got shape {Shapes.Format(x.Shape)}."));
        }
        int rows = x.Shape[^2], columns = x.Shape[^1];
        var keep = Tensor.Zeros(rows, columns);
        var span = keep.AsSpan();
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < columns; j++)
            {
                span[i * columns + j] = lower ? (j - i <= diagonal ? 1f : 0f) : (j - i >= diagonal ? 1f : 0f);
            }
        }
        // a where, not a product with the mask, so Inf and NaN outside the triangle still give 0
        return Ops.WhereFunction.Apply(keep, x, new Variable(Tensor.Scalar(0f)));
    }

    /// <summary>Running sums along <paramref name="dim"/> (torch.cumsum).</summary>
    public static Variable Cumsum(Variable x, int dim)
    {
        NotNull(x);
        if (x.Rank == 0)
        {
            return Mul(x, 1f);
        }
        return Ops.CumsumFunction.Apply(x, Shapes.NormalizeDim(dim, x.Rank, "Cumsum", x.Shape));
    }

    // ---- helpers ---------------------------------------------------------------------------------------------------

    private static Tensor ArgExtremum(Tensor x, int? dim, bool keepDim, bool largest)
    {
        string op = largest ? "ArgMax" : "ArgMin";
        var source = dim is null ? x.Reshape(-1) : x;
        if (source.Rank == 0)
        {
            source = source.Reshape(1);
        }
        int d = dim is null ? 0 : Shapes.NormalizeDim(dim.Value, source.Rank, op, source.Shape);
        var (outer, size, inner) = SelectFunction.Split(source.Shape, d);
        if (size == 0)
        {
            throw new ArgumentException(CallSite.Tag($"{op}: dim {d} of shape {Shapes.Format(x.Shape)} is empty; an empty tensor has no {(largest ? "max" : "min")}imum."));
        }
        var data = source.AsReadOnlySpan();
        var result = new float[outer * inner];
        for (int o = 0; o < outer; o++)
        {
            for (int i = 0; i < inner; i++)
            {
                int best = 0;
                float bestValue = data[o * size * inner + i];
                for (int j = 1; j < size && !float.IsNaN(bestValue); j++)
                {
                    float v = data[(o * size + j) * inner + i];
                    // NaN wins both ways: max and min propagate it, so its index is the answer
                    if (float.IsNaN(v) || (largest ? v > bestValue : v < bestValue))
                    {
                        (best, bestValue) = (j, v);
                    }
                }
                result[o * inner + i] = best;
            }
        }
        int[] shape = dim is null
            ? (keepDim ? Enumerable.Repeat(1, x.Rank).ToArray() : [])
            : TensorMath.ReducedShape(source.Shape, [d], keepDim);
        return shape.Length == 0 ? Tensor.Scalar(result[0]) : Tensor.FromArray(result, shape);
    }

    /// <summary>The order of top-k: NaN above every number, as PyTorch sorts it.</summary>
    private static int CompareForOrder(float a, float b)
        => float.IsNaN(a) ? (float.IsNaN(b) ? 0 : 1) : float.IsNaN(b) ? -1 : a.CompareTo(b);
}
