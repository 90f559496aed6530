using System.Numerics.Tensors;

namespace AutoGrad.Kernels;

/// <summary>A binary elementwise operation over spans: vector-vector, vector-scalar and scalar-vector forms.</summary>
internal interface IBinarySpanOperator
{
    void Invoke(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> destination);
    void Invoke(ReadOnlySpan<float> x, float y, Span<float> destination);
    void Invoke(float x, ReadOnlySpan<float> y, Span<float> destination);
}

internal readonly struct AddOperator : IBinarySpanOperator
{
    public void Invoke(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d) => TensorPrimitives.Add(x, y, d);
    public void Invoke(ReadOnlySpan<float> x, float y, Span<float> d) => TensorPrimitives.Add(x, y, d);
    public void Invoke(float x, ReadOnlySpan<float> y, Span<float> d) => TensorPrimitives.Add(y, x, d);
}

internal readonly struct SubtractOperator : IBinarySpanOperator
{
    public void Invoke(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d) => TensorPrimitives.Subtract(x, y, d);
    public void Invoke(ReadOnlySpan<float> x, float y, Span<float> d) => TensorPrimitives.Subtract(x, y, d);
    public void Invoke(float x, ReadOnlySpan<float> y, Span<float> d) => TensorPrimitives.Subtract(x, y, d);
}

internal readonly struct MultiplyOperator : IBinarySpanOperator
{
    public void Invoke(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d) => TensorPrimitives.Multiply(x, y, d);
    public void Invoke(ReadOnlySpan<float> x, float y, Span<float> d) => TensorPrimitives.Multiply(x, y, d);
    public void Invoke(float x, ReadOnlySpan<float> y, Span<float> d) => TensorPrimitives.Multiply(y, x, d);
}

internal readonly struct DivideOperator : IBinarySpanOperator
{
    public void Invoke(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d) => TensorPrimitives.Divide(x, y, d);
    public void Invoke(ReadOnlySpan<float> x, float y, Span<float> d) => TensorPrimitives.Divide(x, y, d);
    public void Invoke(float x, ReadOnlySpan<float> y, Span<float> d) => TensorPrimitives.Divide(x, y, d);
}

/// <summary>Returns x, broadcast to the destination: the "expand" that sum and mean backward need.</summary>
internal readonly struct ExpandOperator : IBinarySpanOperator
{
    public void Invoke(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d) => x.CopyTo(d);
    public void Invoke(ReadOnlySpan<float> x, float y, Span<float> d) => x.CopyTo(d);
    public void Invoke(float x, ReadOnlySpan<float> y, Span<float> d) => d[..y.Length].Fill(x);
}

/// <summary>Adapts a fused <see cref="IBinaryMap"/> to the broadcasting loop.</summary>
internal readonly struct MapOperator<T>(T map) : IBinarySpanOperator where T : struct, IBinaryMap
{
    public void Invoke(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d) => Map.Apply(map, x, y, d);
    public void Invoke(ReadOnlySpan<float> x, float y, Span<float> d) => Map.Apply(map, x, y, d);
    public void Invoke(float x, ReadOnlySpan<float> y, Span<float> d) => Map.Apply(map, x, y, d);
}

/// <summary>
/// Broadcasting for binary elementwise operations, exactly as NumPy/PyTorch: shapes are right-aligned and a size-1
/// dimension stretches. Same-shape and scalar operands take a single flat call; other shapes are coalesced into as
/// few dimensions as possible and walked with an odometer whose innermost row is one vectorized call.
/// </summary>
internal static class Broadcast
{
    public static void Apply<TOp>(TOp op, ReadOnlySpan<float> x, ReadOnlySpan<int> xShape, ReadOnlySpan<float> y, ReadOnlySpan<int> yShape,
        Span<float> destination, ReadOnlySpan<int> destinationShape) where TOp : struct, IBinarySpanOperator
    {
        int n = destination.Length;
        if (x.Length == n && y.Length == n && xShape.SequenceEqual(yShape))
        {
            op.Invoke(x, y, destination);
            return;
        }
        if (x.Length == 1 && y.Length == n)
        {
            op.Invoke(x[0], y, destination);
            return;
        }
        if (y.Length == 1 && x.Length == n)
        {
            op.Invoke(x, y[0], destination);
            return;
        }
        if (n == 0)
        {
            return;
        }

        int rank = destinationShape.Length;
        Span<int> shape = stackalloc int[rank];
        Span<int> xs = stackalloc int[rank];
        Span<int> ys = stackalloc int[rank];
        rank = Coalesce(xShape, yShape, destinationShape, shape, xs, ys);
        shape = shape[..rank];

        int inner = rank == 0 ? 1 : shape[rank - 1];
        int xInner = rank == 0 ? 0 : xs[rank - 1];
        int yInner = rank == 0 ? 0 : ys[rank - 1];
        Span<int> index = stackalloc int[Math.Max(rank, 1)];
        index.Clear();
        int xo = 0, yo = 0;
        for (int offset = 0; offset < n; offset += inner)
        {
            var row = destination.Slice(offset, inner);
            if (xInner != 0 && yInner != 0)
            {
                op.Invoke(x.Slice(xo, inner), y.Slice(yo, inner), row);
            }
            else if (xInner != 0)
            {
                op.Invoke(x.Slice(xo, inner), y[yo], row);
            }
            else if (yInner != 0)
            {
                op.Invoke(x[xo], y.Slice(yo, inner), row);
            }
            else
            {
                op.Invoke(x.Slice(xo, 1), y[yo], row[..1]);
                row.Fill(row[0]);
            }

            for (int k = rank - 2; k >= 0; k--)
            {
                index[k]++;
                xo += xs[k];
                yo += ys[k];
                if (index[k] < shape[k])
                {
                    break;
                }
                xo -= xs[k] * shape[k];
                yo -= ys[k] * shape[k];
                index[k] = 0;
            }
        }
    }

    /// <summary>
    /// Drops size-1 dimensions and merges neighbours that both operands traverse contiguously, so the innermost
    /// row is as long as possible. Returns the new rank; strides are 0 where an operand is broadcast.
    /// </summary>
    private static int Coalesce(ReadOnlySpan<int> xShape, ReadOnlySpan<int> yShape, ReadOnlySpan<int> outShape,
        Span<int> shape, Span<int> xs, Span<int> ys)
    {
        var xStrides = Shapes.BroadcastStrides(xShape, outShape);
        var yStrides = Shapes.BroadcastStrides(yShape, outShape);
        int rank = 0;
        for (int i = 0; i < outShape.Length; i++)
        {
            if (outShape[i] == 1)
            {
                continue;
            }
            if (rank > 0 && xs[rank - 1] == xStrides[i] * outShape[i] && ys[rank - 1] == yStrides[i] * outShape[i])
            {
                shape[rank - 1] *= outShape[i];
                xs[rank - 1] = xStrides[i];
                ys[rank - 1] = yStrides[i];
                continue;
            }
            shape[rank] = outShape[i];
            xs[rank] = xStrides[i];
            ys[rank] = yStrides[i];
            rank++;
        }
        return rank;
    }
}
