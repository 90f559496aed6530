using AutoGrad.Buffers;
using AutoGrad.Kernels;

namespace AutoGrad.Ops;

/// <summary>
/// One way of computing a convolution and its two adjoints, for the <see cref="Conv2dFunction"/> node, which owns the chain
/// rule, the fused epilogue (ReLU, pooling) and the groups of samples, and asks its algorithm for each group's forward,
/// input gradient and weight gradient. An algorithm is chosen by geometry and vector width (<see cref="For"/>) and keeps
/// what its backward needs: the input for the direct algorithms, the column matrices for im2col.
/// </summary>
internal abstract class ConvolutionAlgorithm(ConvGeometry geometry, int outChannels)
{
    /// <summary>
    /// Samples per group: enough columns for an efficient GEMM, few enough to stay in cache; also the unit of the
    /// weight-gradient partial sums, added in group order so that results do not depend on the thread count.
    /// </summary>
    public const int SamplesPerGroup = 8;

    /// <summary>The convolution's geometry (its batch is the whole input's).</summary>
    public ConvGeometry Geometry => geometry;

    public int OutChannels => outChannels;

    /// <summary>Multiply-adds per sample of a forward (or of each gradient): what decides whether groups go to the cores.</summary>
    public long WorkPerSample => (long)outChannels * geometry.OutPlane * geometry.PatchSize;

    /// <summary>Floats that <see cref="WeightGradient"/> may read past the end of a group's output gradient.</summary>
    public virtual int GradientSlack => 0;

    /// <summary>
    /// The algorithm for <paramref name="g"/>: the direct convolution for small images with unit stride (with the output
    /// channels in the vector lanes where they fill whole vectors), im2col and GEMM for anything else.
    /// </summary>
    public static ConvolutionAlgorithm For(in ConvGeometry g, int outChannels)
        => ChannelLanesAlgorithm.Applies(g, outChannels) ? new ChannelLanesAlgorithm(g, outChannels)
            : DirectAlgorithm.Applies(g) ? new DirectAlgorithm(g, outChannels)
            : new Im2ColAlgorithm(g, outChannels);

    /// <summary>
    /// Before the forward's groups: <paramref name="saving"/> says whether a backward may follow (if not, the algorithm
    /// keeps nothing and per-group state lives in scratch).
    /// </summary>
    public abstract void BeginForward(Tensor input, Tensor weight, bool saving);

    /// <summary>
    /// Instead of <see cref="BeginForward"/>, for a transposed convolution's forward: only input gradients of
    /// <paramref name="weight"/> follow (after <see cref="BeginBackward"/>), of no forward input.
    /// </summary>
    public abstract void BeginTransposed(Tensor weight);

    /// <summary>Scratch for one thread's share of the forward's groups.</summary>
    public abstract ConvScratch RentForwardScratch();

    /// <summary>output [count, O, OH, OW] = the convolution of samples [first, first + count) + bias, then max(0, .) when <paramref name="relu"/>.</summary>
    public abstract void Forward(int group, int first, int count, ReadOnlySpan<float> bias, bool relu, Span<float> output, ref ConvScratch scratch, bool serial);

    /// <summary>After the forward's groups.</summary>
    public virtual void EndForward()
    {
    }

    /// <summary>Before the backward's groups, for the gradients that are needed.</summary>
    public virtual void BeginBackward(bool input, bool weight)
    {
    }

    /// <summary>Scratch for one thread's share of the backward's groups.</summary>
    public abstract ConvScratch RentBackwardScratch(bool input, bool weight);

    /// <summary>inputGrad [count, C, H, W] of samples [first, first + count) = the transposed convolution of their output gradient with the weight.</summary>
    public abstract void InputGradient(int group, ReadOnlySpan<float> outputGrad, int first, int count, Span<float> inputGrad, ref ConvScratch scratch, bool serial);

    /// <summary>
    /// weightGrad [O, C*kh*kw] = the correlation of samples [first, first + count) with their output gradient, summed over
    /// the samples; <paramref name="outputGrad"/> is readable for <see cref="GradientSlack"/> floats past the group.
    /// </summary>
    public abstract void WeightGradient(int group, ReadOnlySpan<float> outputGrad, int first, int count, Span<float> weightGrad, ref ConvScratch scratch, bool serial);

    /// <summary>After the backward's groups.</summary>
    public virtual void EndBackward()
    {
    }

    /// <summary>Gives back what was kept for backward.</summary>
    public abstract void Release();
}

/// <summary>Up to four pooled scratch buffers of one thread, each algorithm's to name; given back by <see cref="Dispose"/>.</summary>
internal struct ConvScratch() : IDisposable
{
    public float[]? First, Second, Third, Fourth;

    /// <summary>The group whose output gradient an algorithm last rearranged into one of the buffers (-1: none).</summary>
    public int Group = -1;

    public void Dispose()
    {
        BufferPool.ReturnFloats(First);
        BufferPool.ReturnFloats(Second);
        BufferPool.ReturnFloats(Third);
        BufferPool.ReturnFloats(Fourth);
        (First, Second, Third, Fourth) = (null, null, null, null);
    }

    /// <summary>A pooled buffer of at least <paramref name="length"/> floats, or null for none.</summary>
    public static float[]? Rent(int length) => length > 0 ? BufferPool.RentFloats(length) : null;
}
