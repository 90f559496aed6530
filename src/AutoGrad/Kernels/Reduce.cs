using System.Buffers;
using System.Numerics.Tensors;

namespace AutoGrad.Kernels;

/// <summary>A reduction: how to fold one contiguous run to a value, and how to fold one row into another.</summary>
internal interface IReduceOperator
{
    float Aggregate(ReadOnlySpan<float> x);
    void Combine(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> destination);
    float Empty { get; }
}

internal readonly struct SumReduce : IReduceOperator
{
    public float Aggregate(ReadOnlySpan<float> x) => TensorPrimitives.Sum(x);
    public void Combine(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d) => TensorPrimitives.Add(x, y, d);
    public float Empty => 0f;
}

/// <summary>Max with NaN propagation (as torch.amax).</summary>
internal readonly struct MaxReduce : IReduceOperator
{
    public float Aggregate(ReadOnlySpan<float> x) => TensorPrimitives.Max(x);
    public void Combine(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d) => TensorPrimitives.Max(x, y, d);
    public float Empty => float.NaN;
}

/// <summary>Min with NaN propagation (as torch.amin).</summary>
internal readonly struct MinReduce : IReduceOperator
{
    public float Aggregate(ReadOnlySpan<float> x) => TensorPrimitives.Min(x);
    public void Combine(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d) => TensorPrimitives.Min(x, y, d);
    public float Empty => float.NaN;
}

/// <summary>
/// Reductions over any set of dimensions. Consecutive reduced dims merge into one; each run is then a
/// [outer, reduced, inner] problem: with inner = 1 each output is one vectorized Aggregate over a contiguous run,
/// otherwise whole rows are folded together with a vectorized Combine.
/// </summary>
internal static class Reduce
{
    /// <summary>Reduces <paramref name="dims"/> (sorted, distinct, normalized) of <paramref name="x"/>; the destination has shape with those dims set to 1.</summary>
    public static void Apply<TOp>(TOp op, ReadOnlySpan<float> x, ReadOnlySpan<int> shape, ReadOnlySpan<int> dims, Span<float> destination)
        where TOp : struct, IReduceOperator
    {
        if (dims.Length == 0)
        {
            x.CopyTo(destination);
            return;
        }
        Span<int> current = stackalloc int[shape.Length];
        shape.CopyTo(current);
        float[]? rented = null;
        float[]? rented2 = null;
        ReadOnlySpan<float> input = x;
        try
        {
            // Runs of consecutive dims, processed from the last run to the first.
            int end = dims.Length - 1;
            while (end >= 0)
            {
                int start = end;
                while (start > 0 && dims[start - 1] == dims[start] - 1)
                {
                    start--;
                }
                int first = dims[start], last = dims[end];
                int outer = Product(current[..first]);
                int reduced = Product(current[first..(last + 1)]);
                int inner = Product(current[(last + 1)..]);
                Span<float> output;
                if (start == 0)
                {
                    output = destination[..(outer * inner)];
                }
                else
                {
                    // Alternate between two scratch buffers so input and output never alias.
                    var buffer = Buffers.BufferPool.RentFloats(outer * inner);
                    output = buffer.AsSpan(0, outer * inner);
                    if (rented2 is not null)
                    {
                        Buffers.BufferPool.ReturnFloats(rented2);
                    }
                    rented2 = rented;
                    rented = buffer;
                }
                ReduceRun(op, input, outer, reduced, inner, output);
                for (int d = first; d <= last; d++)
                {
                    current[d] = 1;
                }
                input = output;
                end = start - 1;
            }
        }
        finally
        {
            if (rented is not null)
            {
                Buffers.BufferPool.ReturnFloats(rented);
            }
            if (rented2 is not null)
            {
                Buffers.BufferPool.ReturnFloats(rented2);
            }
        }
    }

    private static void ReduceRun<TOp>(TOp op, ReadOnlySpan<float> x, int outer, int reduced, int inner, Span<float> destination)
        where TOp : struct, IReduceOperator
    {
        if (reduced == 0)
        {
            destination[..(outer * inner)].Fill(op.Empty);
            return;
        }
        if (inner == 1)
        {
            for (int o = 0; o < outer; o++)
            {
                destination[o] = op.Aggregate(x.Slice(o * reduced, reduced));
            }
            return;
        }
        for (int o = 0; o < outer; o++)
        {
            var row = destination.Slice(o * inner, inner);
            int baseOffset = o * reduced * inner;
            x.Slice(baseOffset, inner).CopyTo(row);
            for (int r = 1; r < reduced; r++)
            {
                op.Combine(row, x.Slice(baseOffset + r * inner, inner), row);
            }
        }
    }

    private static int Product(ReadOnlySpan<int> sizes)
    {
        int p = 1;
        foreach (int s in sizes)
        {
            p *= s;
        }
        return p;
    }
}
