using AutoGrad.Buffers;
using AutoGrad.Kernels;

namespace AutoGrad.Ops;

/// <summary>
/// The direct algorithm for layers whose output channels fill whole vectors: <see cref="ChannelLanes"/> computes the
/// weight gradient (and, with enough taps, the forward) with the channels in the vector lanes instead of the pixels.
/// The input gradient is the forward of the transposed layer (the padded output gradient correlated with the flipped,
/// transposed weight), so where the input channels fill whole vectors too it takes the same channel-lanes kernel, else
/// the direct one: on a 7 x 7 image a row of pixels fills 7 of 16 lanes, the channels all of them.
/// </summary>
internal sealed class ChannelLanesAlgorithm(ConvGeometry g, int outChannels) : DirectAlgorithm(g, outChannels)
{
    private float[]? _weightLanes; // the weight as the forward's stream, when the forward pays
    private float[]? _flippedLanes; // the flipped weight as the transposed layer's stream, while a backward runs

    /// <summary>
    /// The layer whose forward is this one's input gradient: the output gradient [O, OH, OW] in, padded by k - 1 - pad,
    /// the input gradient [C, H, W] out.
    /// </summary>
    private ConvGeometry Transposed => Geometry with
    {
        Channels = OutChannels, Height = Geometry.OutHeight, Width = Geometry.OutWidth,
        PadH = Geometry.KernelH - 1 - Geometry.PadH, PadW = Geometry.KernelW - 1 - Geometry.PadW,
    };

    private bool InputGradientInLanes => ChannelLanes.PaysForForward(Transposed, Geometry.Channels);

    /// <summary>Whether this algorithm handles <paramref name="g"/> at this process's vector width.</summary>
    public static bool Applies(in ConvGeometry g, int outChannels) => ChannelLanes.Applies(g, outChannels);

    public override int GradientSlack => 0;

    public override void BeginForward(Tensor input, Tensor weight, bool saving)
    {
        base.BeginForward(input, weight, saving);
        if (ChannelLanes.PaysForForward(Geometry, OutChannels))
        {
            _weightLanes = BufferPool.RentFloats(OutChannels * Geometry.PatchSize);
            ChannelLanes.PrepareWeights(weight.AsReadOnlySpan(), OutChannels, Geometry.PatchSize, _weightLanes);
        }
    }

    public override ConvScratch RentForwardScratch()
        => _weightLanes is null ? base.RentForwardScratch() : new() { First = BufferPool.RentFloats(ChannelLanes.ForwardScratchLength(Geometry)) };

    public override void Forward(int group, int first, int count, ReadOnlySpan<float> bias, bool relu, Span<float> output, ref ConvScratch scratch, bool serial)
    {
        if (_weightLanes is null)
        {
            base.Forward(group, first, count, bias, relu, output, ref scratch, serial);
            return;
        }
        ChannelLanes.Forward(GroupSamples(first, count), count, Geometry, _weightLanes, OutChannels, bias, relu, output, scratch.First);
    }

    public override void EndForward()
    {
        BufferPool.ReturnFloats(_weightLanes);
        _weightLanes = null;
    }

    public override void BeginBackward(bool input, bool weight)
    {
        base.BeginBackward(input, weight);
        if (input && InputGradientInLanes)
        {
            int taps = Transposed.PatchSize;
            _flippedLanes = BufferPool.RentFloats(Geometry.Channels * taps);
            ChannelLanes.PrepareWeights(FlippedWeight, Geometry.Channels, taps, _flippedLanes);
        }
    }

    /// <summary>First: the input gradient's padded output gradient; Third: the weight gradient's padded samples and rearranged gradients.</summary>
    public override ConvScratch RentBackwardScratch(bool input, bool weight) => new()
    {
        First = !input ? null
            : BufferPool.RentFloats(_flippedLanes is null ? DirectConvolution.ScratchLength(Geometry, OutChannels) : ChannelLanes.ForwardScratchLength(Transposed)),
        Third = weight ? BufferPool.RentFloats(ChannelLanes.WeightScratchLength(Geometry, SamplesPerGroup, OutChannels)) : null,
    };

    public override void InputGradient(int group, ReadOnlySpan<float> outputGrad, int first, int count, Span<float> inputGrad, ref ConvScratch scratch, bool serial)
    {
        if (_flippedLanes is null)
        {
            base.InputGradient(group, outputGrad, first, count, inputGrad, ref scratch, serial);
            return;
        }
        ChannelLanes.Forward(outputGrad[..(count * OutChannels * Geometry.OutPlane)], count, Transposed, _flippedLanes, Geometry.Channels, default,
            relu: false, inputGrad, scratch.First);
    }

    public override void EndBackward()
    {
        base.EndBackward();
        BufferPool.ReturnFloats(_flippedLanes);
        _flippedLanes = null;
    }

    public override void WeightGradient(int group, ReadOnlySpan<float> outputGrad, int first, int count, Span<float> weightGrad, ref ConvScratch scratch, bool serial)
        => ChannelLanes.WeightGradient(GroupSamples(first, count), count, Geometry, outputGrad, OutChannels, weightGrad, scratch.Third);
}
