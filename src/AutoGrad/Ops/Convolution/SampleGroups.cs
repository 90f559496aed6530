using System.Numerics.Tensors;
using AutoGrad.Buffers;
using AutoGrad.Kernels;

namespace AutoGrad.Ops;

/// <summary>
/// The convolution nodes' unit of work (<see cref="Conv2dFunction"/>, <see cref="ConvTranspose2dFunction"/>): fixed groups of
/// <see cref="ConvolutionAlgorithm.SamplesPerGroup"/> samples, spread over the cores when there are enough, with the
/// weight and bias gradients summed per group and the groups added in order, so results do not depend on the thread count.
/// </summary>
internal static class SampleGroups
{
    private const int SamplesPerGroup = ConvolutionAlgorithm.SamplesPerGroup;

    /// <summary>The number of groups of a batch.</summary>
    public static int Count(int batch) => (batch + SamplesPerGroup - 1) / SamplesPerGroup;

    /// <summary>The samples [First, First + Count) of group <paramref name="group"/>.</summary>
    public static (int First, int Count) Members(int group, int batch)
    {
        int first = group * SamplesPerGroup;
        return (first, Math.Min(SamplesPerGroup, batch - first));
    }

    /// <summary>
    /// Runs <paramref name="body"/> over groups [0, count): split across the cores with each product kept on its
    /// thread when there are enough groups, else on this thread with each product free to use the cores.
    /// </summary>
    public static void For(int count, long workPerItem, Action<int, int, bool> body)
    {
        if (count >= 2 * Parallelism.MaxThreads)
        {
            ForInParallel(count, workPerItem, body);
        }
        else
        {
            body(0, count, false);
        }
    }

    // A method of its own so that the single-thread path does not allocate the closure.
    private static void ForInParallel(int count, long workPerItem, Action<int, int, bool> body)
        => ParallelRanges.For(count, count * workPerItem, (start, end) => body(start, end, true));

    /// <summary>partials[c] = the group's gradient of channel c summed over its pixels, sample by sample in order.</summary>
    public static void BiasPartials(ReadOnlySpan<float> gy, int count, int channels, int plane, Span<float> partials)
    {
        for (int s = 0; s < count; s++)
        {
            for (int c = 0; c < channels; c++)
            {
                float sum = TensorPrimitives.Sum(gy.Slice((s * channels + c) * plane, plane));
                partials[c] = s == 0 ? sum : partials[c] + sum;
            }
        }
    }

    /// <summary>The per-group partial sums added in group order: the same bits for any thread count.</summary>
    public static Tensor Sum(float[] partials, int groups, int size)
    {
        var total = Tensor.EmptyOwned([size]);
        var sum = total.AsSpan();
        partials.AsSpan(0, size).CopyTo(sum);
        for (int group = 1; group < groups; group++)
        {
            TensorPrimitives.Add(sum, partials.AsSpan(group * size, size), sum);
        }
        return total;
    }
}
