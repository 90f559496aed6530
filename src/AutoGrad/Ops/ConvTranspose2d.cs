using System.Numerics.Tensors;
using AutoGrad.Buffers;
using AutoGrad.Graph;
using AutoGrad.Kernels;

namespace AutoGrad.Ops;

/// <summary>
/// PyTorch's conv_transpose2d of x [N, Cin, H, W] with weight [Cin, Cout, kh, kw] and an optional bias [Cout] (one
/// group; the façade splits groups). It is the adjoint of the convolution <c>_geometry</c> that maps [N, Cout, OH, OW]
/// to [N, Cin, H, W] with the same weight read as [O = Cin, C = Cout, kh, kw], so it needs no kernel of its own: its
/// forward is that convolution's input gradient, its input gradient that convolution's forward, and its weight gradient
/// that convolution's weight gradient with the output gradient as the convolution's input and x as its output
/// gradient. Each runs on the <see cref="ConvolutionAlgorithm"/> the convolution would choose, in groups of samples
/// (<see cref="SampleGroups"/>), so results do not depend on the thread count.
/// </summary>
internal sealed class ConvTranspose2dFunction : Function
{
    private protected override SavedTensors Saves => SavedTensors.Inputs01;

    private const int SamplesPerGroup = ConvolutionAlgorithm.SamplesPerGroup;

    private ConvGeometry _geometry; // the adjoint convolution: [N, Cout, OH, OW] -> [N, Cin, H, W]
    private (int H, int W) _outputPadding;

    internal override OpKind Kind => OpKind.ConvTranspose2d;

    internal override OpSettings Settings => new ConvTransposeSettings(Window.Of(_geometry), _outputPadding.H, _outputPadding.W);

    /// <summary>
    /// Arguments are validated by the caller: <paramref name="g"/> is the adjoint convolution (its input the output of
    /// this op, its output as large as <paramref name="x"/>), <paramref name="outputPadding"/> what made the output that large.
    /// </summary>
    public static Variable Apply(Variable x, Variable weight, Variable? bias, ConvGeometry g, (int H, int W) outputPadding)
    {
        int o = weight.Value.Shape[0], size = o * g.OutPlane;
        var output = Tensor.EmptyOwned([g.Batch, g.Channels, g.Height, g.Width]);
        var algorithm = ConvolutionAlgorithm.For(g, o);
        algorithm.BeginTransposed(weight.Value);
        algorithm.BeginBackward(input: true, weight: false);
        var values = x.Value;
        SampleGroups.For(SampleGroups.Count(g.Batch), SamplesPerGroup * algorithm.WorkPerSample, (g0, g1, serial) =>
        {
            var scratch = algorithm.RentBackwardScratch(input: true, weight: false);
            for (int group = g0; group < g1; group++)
            {
                var (first, count) = SampleGroups.Members(group, g.Batch);
                algorithm.InputGradient(group, values.AsReadOnlySpan().Slice(first * size, count * size), first, count,
                    output.AsSpan().Slice(first * g.SampleSize, count * g.SampleSize), ref scratch, serial);
            }
            scratch.Dispose();
        });
        algorithm.EndBackward();
        algorithm.Release();
        if (bias is not null)
        {
            AddChannelBias(output, bias.Value);
        }
        var node = new ConvTranspose2dFunction { _geometry = g, _outputPadding = outputPadding };
        return bias is null ? node.Record(output, x, weight) : node.Record(output, [x, weight, bias]);
    }

    private static void AddChannelBias(Tensor output, Tensor bias)
    {
        int channels = output.Shape[1], plane = output.Shape[2] * output.Shape[3];
        var target = output.AsSpan();
        var b = bias.AsReadOnlySpan();
        for (int p = 0; p < output.Shape[0] * channels; p++)
        {
            var slice = target.Slice(p * plane, plane);
            TensorPrimitives.Add(slice, b[p % channels], slice);
        }
    }

    // y = conv_transpose(x, w) + b, the adjoint of the convolution conv(., w):
    //   x: conv(grad, w)                                              (ConvolutionAlgorithm.Forward on grad)
    //   w: the weight gradient of conv(grad, w) for output gradient x (ConvolutionAlgorithm.WeightGradient)
    //   b: grad summed over samples and pixels
    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        var g = _geometry;
        var x = Inputs[0].Value;
        var weight = Inputs[1].Value;
        int o = weight.Shape[0], size = o * g.OutPlane, taps = g.PatchSize, plane = g.Height * g.Width;
        bool needInput = NeedsInputGrad[0], needWeight = NeedsInputGrad[1], needBias = NeedsInputGrad.Length > 2 && NeedsInputGrad[2];
        int groups = SampleGroups.Count(g.Batch);
        var algorithm = ConvolutionAlgorithm.For(g, o);
        // the weight gradient reads the convolution's kept input (grad) and, for im2col, the columns its forward builds
        bool convolve = needInput || needWeight;
        var inputGrad = convolve ? Tensor.EmptyOwned([g.Batch, o, g.OutHeight, g.OutWidth]) : null;
        var weightPartials = needWeight ? BufferPool.RentFloats(groups * o * taps) : null;
        var biasPartials = needBias ? BufferPool.RentFloats(groups * g.Channels) : null;
        if (convolve)
        {
            algorithm.BeginForward(grad, weight, saving: needWeight);
            algorithm.BeginBackward(input: false, weight: needWeight);
        }
        long work = SamplesPerGroup * algorithm.WorkPerSample * ((needInput ? 1 : 0) + (needWeight ? 1 : 0));
        SampleGroups.For(groups, work, (g0, g1, serial) =>
        {
            var forwardScratch = convolve ? algorithm.RentForwardScratch() : default;
            var scratch = needWeight ? algorithm.RentBackwardScratch(input: false, weight: true) : default;
            // x is staged where the algorithm reads past a group's output gradient
            var stage = needWeight && algorithm.GradientSlack > 0 ? BufferPool.RentFloats(SamplesPerGroup * size + algorithm.GradientSlack) : null;
            for (int group = g0; group < g1; group++)
            {
                var (first, count) = SampleGroups.Members(group, g.Batch);
                if (convolve)
                {
                    algorithm.Forward(group, first, count, default, relu: false, inputGrad!.AsSpan().Slice(first * size, count * size), ref forwardScratch, serial);
                }
                if (weightPartials is not null)
                {
                    ReadOnlySpan<float> gy = x.AsReadOnlySpan().Slice(first * size, count * size);
                    if (stage is not null)
                    {
                        gy.CopyTo(stage);
                        gy = stage.AsSpan(0, count * size + algorithm.GradientSlack);
                    }
                    algorithm.WeightGradient(group, gy, first, count, weightPartials.AsSpan(group * o * taps, o * taps), ref scratch, serial);
                }
                if (biasPartials is not null)
                {
                    SampleGroups.BiasPartials(grad.AsReadOnlySpan().Slice(first * g.SampleSize, count * g.SampleSize), count, g.Channels, plane,
                        biasPartials.AsSpan(group * g.Channels, g.Channels));
                }
            }
            forwardScratch.Dispose();
            scratch.Dispose();
            BufferPool.ReturnFloats(stage);
        });
        if (convolve)
        {
            algorithm.EndForward();
            algorithm.EndBackward();
            algorithm.Release();
        }
        inputGrads[0] = needInput ? inputGrad : null;
        if (weightPartials is not null)
        {
            inputGrads[1] = SampleGroups.Sum(weightPartials, groups, o * taps).WithShape([o, g.Channels, g.KernelH, g.KernelW]);
            BufferPool.ReturnFloats(weightPartials);
        }
        if (biasPartials is not null)
        {
            inputGrads[2] = SampleGroups.Sum(biasPartials, groups, g.Channels);
            BufferPool.ReturnFloats(biasPartials);
        }
    }

    // the same three formulas in differentiable ops: a convolution, a convolution's weight gradient, a sum
    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads)
    {
        inputGrads[0] = NeedsInputGrad[0] ? Conv2dFunction.Apply(grad, Inputs[1], null, _geometry) : null;
        inputGrads[1] = NeedsInputGrad[1] ? ConvolutionGradients.Weight(grad, Inputs[0], _geometry) : null;
        if (inputGrads.Length > 2)
        {
            inputGrads[2] = NeedsInputGrad[2] ? SumFunction.Apply(grad, [0, 2, 3], keepDim: false) : null;
        }
    }
}
