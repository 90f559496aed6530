using System.Numerics.Tensors;
using AutoGrad.Autograd;
using AutoGrad.Buffers;
using AutoGrad.Kernels;

namespace AutoGrad.Ops;

/// <summary>
/// 2-D cross-correlation (PyTorch's conv2d) of x [N, C, H, W] with weight [O, C, kh, kw] and an optional bias [O],
/// one sample at a time: im2col into a cache-sized column matrix, then out[n] = W[O, C*kh*kw] @ cols[C*kh*kw, OH*OW],
/// written straight into the NCHW output. Samples are spread over the cores; backward rebuilds the columns from the
/// saved input instead of keeping them.
/// </summary>
internal sealed class Conv2d : Function
{
    // Weight-gradient partial sums cover fixed groups of samples and are added in group order, so the result is the
    // same for every thread count.
    private const int SamplesPerGroup = 8;

    private ConvGeometry _geometry;
    private Tensor? _input, _weight;

    internal override IReadOnlyDictionary<string, object> Attributes => _geometry.Attributes();

    /// <summary>Arguments are validated by the caller; <paramref name="bias"/> may be null.</summary>
    public static Variable Apply(Variable x, Variable weight, Variable? bias, ConvGeometry g)
    {
        int o = weight.Value.Shape[0], l = g.OutPlane, k = g.PatchSize;
        var input = x.Value;
        var w = weight.Value;
        var b = bias?.Value;
        var output = Tensor.EmptyOwned([g.Batch, o, g.OutHeight, g.OutWidth]);
        ForSamples(g.Batch, (long)o * l * k, (n0, n1, serial) =>
        {
            var columns = BufferPool.RentFloats(k * l);
            for (int n = n0; n < n1; n++)
            {
                Convolution.Im2Col(input.AsReadOnlySpan().Slice(n * g.SampleSize, g.SampleSize), g, columns);
                var y = output.AsSpan().Slice(n * o * l, o * l);
                Gemm.Multiply(w.AsReadOnlySpan(), columns, y, o, l, k, serial: serial);
                if (b is not null)
                {
                    for (int c = 0; c < o; c++)
                    {
                        var plane = y.Slice(c * l, l);
                        TensorPrimitives.Add(plane, b.AsReadOnlySpan()[c], plane);
                    }
                }
            }
            BufferPool.ReturnFloats(columns);
        });
        var node = new Conv2d { _geometry = g, _input = input, _weight = w };
        return bias is null ? node.Record(output, x, weight) : node.Record(output, [x, weight, bias]);
    }

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        var g = _geometry;
        var input = _input!;
        var w = _weight!;
        int o = w.Shape[0], l = g.OutPlane, k = g.PatchSize;
        bool needInput = NeedsInputGrad[0], needWeight = NeedsInputGrad[1];
        int groups = (g.Batch + SamplesPerGroup - 1) / SamplesPerGroup;
        var partials = needWeight ? BufferPool.RentFloats(groups * o * k) : null;
        var inputGrad = needInput ? Tensor.EmptyOwned([g.Batch, g.Channels, g.Height, g.Width]) : null;

        ForSamples(groups, (long)SamplesPerGroup * o * l * k * (needInput && needWeight ? 2 : 1), (g0, g1, serial) =>
        {
            var columns = needWeight ? BufferPool.RentFloats(k * l) : null;
            var columnGrad = needInput ? BufferPool.RentFloats(k * l) : null;
            for (int group = g0; group < g1; group++)
            {
                int first = group * SamplesPerGroup, end = Math.Min(g.Batch, first + SamplesPerGroup);
                for (int n = first; n < end; n++)
                {
                    var gy = grad.AsReadOnlySpan().Slice(n * o * l, o * l);
                    if (columns is not null)
                    {
                        // weight: grad[n] @ cols[n]^T, summed over the group's samples
                        Convolution.Im2Col(input.AsReadOnlySpan().Slice(n * g.SampleSize, g.SampleSize), g, columns);
                        Gemm.Multiply(gy, columns, partials.AsSpan(group * o * k, o * k), o, k, l, transB: true, accumulate: n > first, serial: serial);
                    }
                    if (columnGrad is not null)
                    {
                        // input: col2im(W^T @ grad[n])
                        Gemm.Multiply(w.AsReadOnlySpan(), gy, columnGrad, k, l, o, transA: true, serial: serial);
                        Convolution.Col2Im(columnGrad, g, inputGrad!.AsSpan().Slice(n * g.SampleSize, g.SampleSize));
                    }
                }
            }
            BufferPool.ReturnFloats(columns);
            BufferPool.ReturnFloats(columnGrad);
        });

        inputGrads[0] = inputGrad;
        if (partials is not null)
        {
            var weightGrad = Tensor.EmptyOwned((int[])w.ShapeArray.Clone());
            var sum = weightGrad.AsSpan();
            partials.AsSpan(0, o * k).CopyTo(sum);
            for (int group = 1; group < groups; group++)
            {
                TensorPrimitives.Add(sum, partials.AsSpan(group * o * k, o * k), sum);
            }
            BufferPool.ReturnFloats(partials);
            inputGrads[1] = weightGrad;
        }

        // bias: grad summed over samples and pixels, sample by sample
        if (NeedsInputGrad.Length > 2 && NeedsInputGrad[2])
        {
            var biasGrad = Tensor.ZerosOwned([o]);
            var db = biasGrad.AsSpan();
            for (int n = 0; n < g.Batch; n++)
            {
                for (int c = 0; c < o; c++)
                {
                    db[c] += TensorPrimitives.Sum(grad.AsReadOnlySpan().Slice((n * o + c) * l, l));
                }
            }
            inputGrads[2] = biasGrad;
        }
    }

    /// <summary>
    /// Runs <paramref name="body"/> over items [0, count): split across the cores with each product kept on its
    /// thread when there are enough items, else on this thread with each product free to use the cores.
    /// </summary>
    private static void ForSamples(int count, long workPerItem, Action<int, int, bool> body)
    {
        if (count >= 2 * Parallelism.MaxThreads)
        {
            ParallelRanges.For(count, count * workPerItem, (start, end) => body(start, end, true));
        }
        else
        {
            body(0, count, false);
        }
    }

    protected override void ReleaseSaved() => (_input, _weight) = (null, null);
}
