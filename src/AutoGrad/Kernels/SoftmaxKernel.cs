using System.Buffers;
using System.Numerics.Tensors;

namespace AutoGrad.Kernels;

/// <summary>
/// Softmax and log-softmax along one dim of a tensor viewed as [outer, size, inner], in the stable form: the max of
/// each slice is subtracted before exponentiating (TensorPrimitives.SoftMax does not, and overflows above ~88).
/// </summary>
internal static class SoftmaxKernel
{
    public static void Forward(ReadOnlySpan<float> x, int outer, int size, int inner, Span<float> destination, bool log)
    {
        if (size == 0 || outer == 0 || inner == 0)
        {
            return;
        }
        if (inner == 1)
        {
            for (int o = 0; o < outer; o++)
            {
                Row(x.Slice(o * size, size), destination.Slice(o * size, size), log);
            }
            return;
        }

        // Slices are strided by `inner`: work on whole rows of `inner` values at once, vectorized across them.
        float[] rented = Buffers.BufferPool.RentFloats(2 * inner);
        try
        {
            var max = rented.AsSpan(0, inner);
            var sum = rented.AsSpan(inner, inner);
            for (int o = 0; o < outer; o++)
            {
                var block = x.Slice(o * size * inner, size * inner);
                var target = destination.Slice(o * size * inner, size * inner);
                block[..inner].CopyTo(max);
                for (int r = 1; r < size; r++)
                {
                    TensorPrimitives.Max(max, block.Slice(r * inner, inner), max);
                }
                sum.Clear();
                for (int r = 0; r < size; r++)
                {
                    var t = target.Slice(r * inner, inner);
                    TensorPrimitives.Subtract(block.Slice(r * inner, inner), max, t);
                    if (log)
                    {
                        // sum += exp(t) without keeping exp(t): t is needed as-is for log-softmax.
                        for (int k = 0; k < inner; k++)
                        {
                            sum[k] += MathF.Exp(t[k]);
                        }
                    }
                    else
                    {
                        TensorPrimitives.Exp(t, t);
                        TensorPrimitives.Add(sum, t, sum);
                    }
                }
                if (log)
                {
                    TensorPrimitives.Log(sum, sum);
                    for (int r = 0; r < size; r++)
                    {
                        var t = target.Slice(r * inner, inner);
                        TensorPrimitives.Subtract(t, sum, t);
                    }
                }
                else
                {
                    for (int r = 0; r < size; r++)
                    {
                        var t = target.Slice(r * inner, inner);
                        TensorPrimitives.Divide(t, sum, t);
                    }
                }
            }
        }
        finally
        {
            Buffers.BufferPool.ReturnFloats(rented);
        }
    }

    /// <summary>
    /// The input gradient from the forward's result y and the output's gradient g, along the same [outer, size, inner]
    /// view: softmax y (g - sum(g y)), log-softmax g - exp(y) sum(g), the sums over the softmax dim.
    /// </summary>
    public static void Backward(ReadOnlySpan<float> y, ReadOnlySpan<float> grad, int outer, int size, int inner, Span<float> destination, bool log)
    {
        if (size == 0 || outer == 0 || inner == 0)
        {
            return;
        }
        float[] rented = Buffers.BufferPool.RentFloats(log ? size * inner + inner : inner);
        try
        {
            var total = rented.AsSpan(0, inner);
            var exp = log ? rented.AsSpan(inner, size * inner) : default;
            for (int o = 0; o < outer; o++)
            {
                var yb = y.Slice(o * size * inner, size * inner);
                var gb = grad.Slice(o * size * inner, size * inner);
                var db = destination.Slice(o * size * inner, size * inner);
                total.Clear();
                for (int r = 0; r < size; r++)
                {
                    var g = gb.Slice(r * inner, inner);
                    if (log)
                    {
                        TensorPrimitives.Add(total, g, total);
                    }
                    else
                    {
                        TensorPrimitives.MultiplyAdd(g, yb.Slice(r * inner, inner), total, total);
                    }
                }
                if (log)
                {
                    TensorPrimitives.Exp(yb, exp);
                }
                for (int r = 0; r < size; r++)
                {
                    var d = db.Slice(r * inner, inner);
                    if (log)
                    {
                        // g - exp(y) * total
                        TensorPrimitives.Multiply(exp.Slice(r * inner, inner), total, d);
                        TensorPrimitives.Subtract(gb.Slice(r * inner, inner), d, d);
                    }
                    else
                    {
                        TensorPrimitives.Subtract(gb.Slice(r * inner, inner), total, d);
                        TensorPrimitives.Multiply(d, yb.Slice(r * inner, inner), d);
                    }
                }
            }
        }
        finally
        {
            Buffers.BufferPool.ReturnFloats(rented);
        }
    }

    /// <summary>One contiguous slice: softmax = exp(x - max) / sum, log-softmax = x - max - log(sum).</summary>
    public static void Row(ReadOnlySpan<float> x, Span<float> destination, bool log)
    {
        float max = TensorPrimitives.Max(x);
        TensorPrimitives.Subtract(x, max, destination);
        if (log)
        {
            float logSum = MathF.Log(SumExp(destination));
            TensorPrimitives.Subtract(destination, logSum, destination);
        }
        else
        {
            TensorPrimitives.Exp(destination, destination);
            float sum = TensorPrimitives.Sum(destination);
            TensorPrimitives.Divide(destination, sum, destination);
        }
    }

    /// <summary>sum(exp(x)) without a scratch buffer for long rows: exp in chunks on the stack.</summary>
    private static float SumExp(ReadOnlySpan<float> x)
    {
        Span<float> chunk = stackalloc float[256];
        float sum = 0;
        for (int i = 0; i < x.Length; i += chunk.Length)
        {
            int n = Math.Min(chunk.Length, x.Length - i);
            TensorPrimitives.Exp(x.Slice(i, n), chunk[..n]);
            sum += TensorPrimitives.Sum(chunk[..n]);
        }
        return sum;
    }
}
