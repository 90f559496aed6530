using AutoGrad.Kernels;

namespace AutoGrad;

/// <summary>A span-to-span elementwise kernel.</summary>
internal delegate void SpanMap(ReadOnlySpan<float> x, Span<float> destination);

/// <summary>
/// Tensor-level arithmetic without autograd: allocates the result and calls a kernel. Differentiable ops use it for
/// their forward and backward formulas, so those read as math and never loop over floats.
/// </summary>
internal static class TensorMath
{
    public static Tensor Binary<TOp>(TOp op, Tensor x, Tensor y, string name) where TOp : struct, IBinarySpanOperator
    {
        var shape = Shapes.SequenceEqual(x.Shape, y.Shape) ? x.ShapeArray : Shapes.Broadcast(x.Shape, y.Shape, name);
        var result = Tensor.EmptyOwned(shape == x.ShapeArray ? (int[])shape.Clone() : shape);
        Broadcast.Apply(op, x.AsReadOnlySpan(), x.Shape, y.AsReadOnlySpan(), y.Shape, result.AsSpan(), result.Shape);
        return result;
    }

    public static Tensor Add(Tensor x, Tensor y) => Binary(default(AddOperator), x, y, "Add");

    public static Tensor Subtract(Tensor x, Tensor y) => Binary(default(SubtractOperator), x, y, "Sub");

    public static Tensor Multiply(Tensor x, Tensor y) => Binary(default(MultiplyOperator), x, y, "Mul");

    public static Tensor Divide(Tensor x, Tensor y) => Binary(default(DivideOperator), x, y, "Div");

    public static Tensor Map<T>(T map, Tensor x, Tensor y, string name) where T : struct, IBinaryMap
        => Binary(new MapOperator<T>(map), x, y, name);

    public static Tensor Multiply(Tensor x, float y)
    {
        var result = Tensor.EmptyOwned((int[])x.ShapeArray.Clone());
        System.Numerics.Tensors.TensorPrimitives.Multiply(x.AsReadOnlySpan(), y, result.AsSpan());
        return result;
    }

    public static Tensor Unary(Tensor x, SpanMap kernel)
    {
        var result = Tensor.EmptyOwned((int[])x.ShapeArray.Clone());
        kernel(x.AsReadOnlySpan(), result.AsSpan());
        return result;
    }

    /// <summary>x broadcast to <paramref name="shape"/> (a copy).</summary>
    public static Tensor Expand(Tensor x, int[] shape)
    {
        var result = Tensor.EmptyOwned((int[])shape.Clone());
        Broadcast.Apply(default(ExpandOperator), x.AsReadOnlySpan(), x.Shape, x.AsReadOnlySpan(), x.Shape, result.AsSpan(), shape);
        return result;
    }

    public static Tensor Sum(Tensor x, int[] dims, bool keepDim) => Reduction(default(SumReduce), x, dims, keepDim);

    public static Tensor Reduction<TOp>(TOp op, Tensor x, int[] dims, bool keepDim) where TOp : struct, IReduceOperator
    {
        var kept = ReducedShape(x.Shape, dims, keepDim: true);
        var result = Tensor.EmptyOwned(kept);
        Reduce.Apply(op, x.AsReadOnlySpan(), x.Shape, dims, result.AsSpan());
        return keepDim ? result : result.WithShape(ReducedShape(x.Shape, dims, keepDim: false));
    }

    /// <summary>The shape after reducing <paramref name="dims"/>: those dims become 1, or disappear without keepDim.</summary>
    public static int[] ReducedShape(ReadOnlySpan<int> shape, ReadOnlySpan<int> dims, bool keepDim)
    {
        int rank = 0;
        for (int d = 0; d < shape.Length; d++)
        {
            rank += keepDim || !dims.Contains(d) ? 1 : 0;
        }
        var result = new int[rank];
        int next = 0;
        for (int d = 0; d < shape.Length; d++)
        {
            bool reduced = dims.Contains(d);
            if (!reduced || keepDim)
            {
                result[next++] = reduced ? 1 : shape[d];
            }
        }
        return result;
    }

    public static Tensor Permute(Tensor x, int[] permutation)
    {
        var shape = new int[x.Rank];
        for (int d = 0; d < shape.Length; d++)
        {
            shape[d] = x.Shape[permutation[d]];
        }
        var result = Tensor.EmptyOwned(shape);
        Layout.Permute(x.AsReadOnlySpan(), x.Shape, permutation, result.AsSpan());
        return result;
    }

    /// <summary>Products of the (broadcast) batches of x and y: x is [..., m, k] (or [..., k, m] when transX), y is [..., k, n] (or [..., n, k]).</summary>
    public static Tensor MatMul(Tensor x, Tensor y, bool transX, bool transY, string name = "MatMul")
    {
        int m = transX ? x.Shape[^1] : x.Shape[^2];
        int k = transX ? x.Shape[^2] : x.Shape[^1];
        int n = transY ? y.Shape[^2] : y.Shape[^1];
        var xBatch = x.Shape[..^2];
        var yBatch = y.Shape[..^2];
        var batch = xBatch.SequenceEqual(yBatch) ? xBatch.ToArray() : Shapes.Broadcast(xBatch, yBatch, name);
        var shape = new int[batch.Length + 2];
        batch.CopyTo(shape, 0);
        shape[^2] = m;
        shape[^1] = n;
        var result = Tensor.EmptyOwned(shape);
        if (batch.Length == 0)
        {
            Gemm.Multiply(x.AsReadOnlySpan(), y.AsReadOnlySpan(), result.AsSpan(), m, n, k, transX, transY);
            return result;
        }
        var xStrides = Shapes.BroadcastStrides(xBatch, batch);
        var yStrides = Shapes.BroadcastStrides(yBatch, batch);
        for (int d = 0; d < batch.Length; d++)
        {
            xStrides[d] *= m * k;
            yStrides[d] *= k * n;
        }
        Gemm.MultiplyBatched(x.AsReadOnlySpan(), xStrides, y.AsReadOnlySpan(), yStrides, result.AsSpan(), batch, m, n, k, transX, transY);
        return result;
    }
}
