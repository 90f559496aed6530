using AutoGrad.Buffers;
using AutoGrad.Kernels;

namespace AutoGrad.Ops;

/// <summary>
/// The direct algorithm for layers whose output channels fill whole vectors: <see cref="ChannelLanes"/> computes the
/// weight gradient (and, with enough taps, the forward) with the channels in the vector lanes instead of the pixels;
/// the input gradient is the direct one.
/// </summary>
internal sealed class ChannelLanesAlgorithm(ConvGeometry g, int outChannels) : DirectAlgorithm(g, outChannels)
{
    private float[]? _weightLanes; // the weight as the forward's stream, when the forward pays

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

    /// <summary>First: the input gradient's padded output gradient; Third: the weight gradient's padded samples and rearranged gradients.</summary>
    public override ConvScratch RentBackwardScratch(bool input, bool weight) => new()
    {
        First = input ? BufferPool.RentFloats(DirectConvolution.ScratchLength(Geometry, OutChannels)) : null,
        Third = weight ? BufferPool.RentFloats(ChannelLanes.WeightScratchLength(Geometry, SamplesPerGroup, OutChannels)) : null,
    };

    public override void WeightGradient(int group, ReadOnlySpan<float> outputGrad, int first, int count, Span<float> weightGrad, ref ConvScratch scratch, bool serial)
        => ChannelLanes.WeightGradient(GroupSamples(first, count), count, Geometry, outputGrad, OutChannels, weightGrad, scratch.Third);
}
