using AutoGrad.Buffers;
using AutoGrad.Kernels;

namespace AutoGrad.Ops;

/// <summary>
/// Small images with unit stride and dilation: <see cref="Kernels.DirectConvolution"/> sample by sample, no column
/// matrices; the input is kept for the weight gradient. The input gradient is the same correlation of the padded output
/// gradient with the weight flipped along both kernel axes and transposed to [C, O, kh, kw].
/// </summary>
internal class DirectAlgorithm(ConvGeometry g, int outChannels) : ConvolutionAlgorithm(g, outChannels)
{
    private float[]? _flipped;

    /// <summary>The weight flipped along both kernel axes and transposed to [C, O, kh, kw], while a backward runs.</summary>
    protected float[]? FlippedWeight => _flipped;

    /// <summary>The input, kept for the weight gradient.</summary>
    protected Tensor? Input { get; private set; }

    protected Tensor? Weight { get; private set; }

    /// <summary>Whether this algorithm handles <paramref name="g"/> at this process's vector width.</summary>
    public static bool Applies(in ConvGeometry g) => DirectConvolution.Applies(g);

    public override int GradientSlack => DirectConvolution.GradientSlack;

    public override void BeginForward(Tensor input, Tensor weight, bool saving) => (Input, Weight) = (input, weight);

    public override void BeginTransposed(Tensor weight) => (Input, Weight) = (null, weight);

    /// <summary>First: the padded sample.</summary>
    public override ConvScratch RentForwardScratch() => new() { First = BufferPool.RentFloats(DirectConvolution.ScratchLength(Geometry, OutChannels)) };

    public override void Forward(int group, int first, int count, ReadOnlySpan<float> bias, bool relu, Span<float> output, ref ConvScratch scratch, bool serial)
    {
        var geometry = Geometry;
        int size = OutChannels * geometry.OutPlane;
        var input = Input!.AsReadOnlySpan();
        for (int s = 0; s < count; s++)
        {
            DirectConvolution.Forward(input.Slice((first + s) * geometry.SampleSize, geometry.SampleSize), geometry, Weight!.AsReadOnlySpan(), OutChannels,
                bias, relu, output.Slice(s * size, size), scratch.First);
        }
    }

    public override void BeginBackward(bool input, bool weight)
    {
        if (!input)
        {
            return;
        }
        // [O, C, kh, kw] -> [C, O, kh, kw] with both kernel axes reversed: the input gradient is a correlation with it
        var geometry = Geometry;
        int o = OutChannels, kernel = geometry.KernelH * geometry.KernelW;
        _flipped = BufferPool.RentFloats(o * geometry.PatchSize);
        var source = Weight!.AsReadOnlySpan();
        for (int oc = 0; oc < o; oc++)
        {
            for (int c = 0; c < geometry.Channels; c++)
            {
                for (int t = 0; t < kernel; t++)
                {
                    _flipped[(c * o + oc) * kernel + t] = source[(oc * geometry.Channels + c) * kernel + kernel - 1 - t];
                }
            }
        }
    }

    /// <summary>First: the padded output gradient of the input gradient; Second and Third: the weight gradient's lane partials and padded samples.</summary>
    public override ConvScratch RentBackwardScratch(bool input, bool weight) => new()
    {
        First = input ? BufferPool.RentFloats(DirectConvolution.ScratchLength(Geometry, OutChannels)) : null,
        Second = weight ? BufferPool.RentFloats(DirectConvolution.LanePartialsLength(Geometry, OutChannels)) : null,
        Third = weight ? BufferPool.RentFloats(DirectConvolution.WeightScratchLength(Geometry, SamplesPerGroup)) : null,
    };

    public override void InputGradient(int group, ReadOnlySpan<float> outputGrad, int first, int count, Span<float> inputGrad, ref ConvScratch scratch, bool serial)
    {
        var geometry = Geometry;
        int size = OutChannels * geometry.OutPlane;
        for (int s = 0; s < count; s++)
        {
            DirectConvolution.InputGradient(outputGrad.Slice(s * size, size), geometry, _flipped, OutChannels,
                inputGrad.Slice(s * geometry.SampleSize, geometry.SampleSize), scratch.First);
        }
    }

    public override void WeightGradient(int group, ReadOnlySpan<float> outputGrad, int first, int count, Span<float> weightGrad, ref ConvScratch scratch, bool serial)
        => DirectConvolution.WeightGradient(GroupSamples(first, count), count, Geometry, outputGrad, OutChannels, scratch.Second, weightGrad, scratch.Third);

    /// <summary>The kept input of samples [first, first + count).</summary>
    protected ReadOnlySpan<float> GroupSamples(int first, int count) => Input!.AsReadOnlySpan().Slice(first * Geometry.SampleSize, count * Geometry.SampleSize);

    public override void EndBackward()
    {
        BufferPool.ReturnFloats(_flipped);
        _flipped = null;
    }

    public override void Release() => (Input, Weight) = (null, null);
}
