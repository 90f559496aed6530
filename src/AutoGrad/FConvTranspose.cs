using AutoGrad.Graph;
using AutoGrad.Kernels;

namespace AutoGrad;

// The transposed convolution of the functional API (torch.nn.functional.conv_transpose2d), validated here.
public static partial class F
{
    /// <summary>
    /// 2-D transposed convolution (PyTorch's conv_transpose2d, the adjoint of <see cref="Conv2d(Variable, Variable, Variable?, int, int, int, Activation)"/>)
    /// of input [N, Cin, H, W] (or unbatched [Cin, H, W]) with weight [Cin, Cout / groups, kh, kw] and an optional bias
    /// [Cout]; the output is [N, Cout, OH, OW] with OH = (H - 1) stride - 2 padding + dilation (kh - 1) + outputPadding + 1.
    /// </summary>
    /// <remarks>
    /// <paramref name="outputPadding"/> must be smaller than the stride (PyTorch also accepts it below the dilation
    /// with stride 1; that case is refused here). Groups above 1 run one node per group on the channel slices.
    /// </remarks>
    public static Variable ConvTranspose2d(Variable input, Variable weight, Variable? bias = null, int stride = 1, int padding = 0, int outputPadding = 0,
        int groups = 1, int dilation = 1)
        => ConvTranspose2d(input, weight, bias, (stride, stride), (padding, padding), (outputPadding, outputPadding), groups, (dilation, dilation));

    /// <summary>2-D transposed convolution with separate (height, width) stride, padding, output padding and dilation.</summary>
    public static Variable ConvTranspose2d(Variable input, Variable weight, Variable? bias, (int H, int W) stride, (int H, int W) padding,
        (int H, int W) outputPadding, int groups, (int H, int W) dilation)
    {
        NotNull(input);
        NotNull(weight);
        if (input.Rank == 3)
        {
            return Squeeze(ConvTranspose2d(Unsqueeze(input, 0), weight, bias, stride, padding, outputPadding, groups, dilation), 0);
        }
        var g = TransposedGeometryOf(input, weight, bias, stride, padding, outputPadding, groups, dilation);
        if (groups == 1)
        {
            return Ops.ConvTranspose2dFunction.Apply(input, weight, bias, g, outputPadding);
        }
        int inPerGroup = input.Shape[1] / groups, outPerGroup = weight.Shape[1];
        var perGroup = g with { Channels = outPerGroup };
        var outputs = new Variable[groups];
        for (int k = 0; k < groups; k++)
        {
            var groupBias = bias is null ? null : Slice(bias, 0, k * outPerGroup, (k + 1) * outPerGroup);
            outputs[k] = Ops.ConvTranspose2dFunction.Apply(Slice(input, 1, k * inPerGroup, (k + 1) * inPerGroup), Slice(weight, 0, k * inPerGroup, (k + 1) * inPerGroup),
                groupBias, perGroup, outputPadding);
        }
        return Concat(outputs, 1);
    }

    /// <summary>
    /// The adjoint convolution of a batched transposed convolution, after checking its arguments: its input is the
    /// transposed convolution's output [N, Cout, OH, OW] and its output as large as the input.
    /// </summary>
    private static ConvGeometry TransposedGeometryOf(Variable input, Variable weight, Variable? bias, (int H, int W) stride, (int H, int W) padding,
        (int H, int W) outputPadding, int groups, (int H, int W) dilation)
    {
        const string op = "ConvTranspose2d";
        if (input.Rank != 4)
        {
            throw new ArgumentException(CallSite.Tag($"{op}: input must be [N, C, H, W] (or [C, H, W]); got shape {Shapes.Format(input.Shape)}."));
        }
        if (weight.Rank != 4)
        {
            throw new ArgumentException(CallSite.Tag($"{op}: weight must be [in_channels, out_channels / groups, kh, kw]; got shape {Shapes.Format(weight.Shape)}."));
        }
        if (groups < 1 || input.Shape[1] % groups != 0)
        {
            throw new ArgumentException(CallSite.Tag($"{op}: groups ({groups}) must be positive and divide the input's {input.Shape[1]} channels (input {Shapes.Format(input.Shape)})."));
        }
        if (weight.Shape[0] != input.Shape[1])
        {
            throw new ArgumentException(
                CallSite.Tag($"{op}: input {Shapes.Format(input.Shape)} has {input.Shape[1]} channels but weight {Shapes.Format(weight.Shape)} expects {weight.Shape[0]} (weight dim 0)."));
        }
        int outChannels = weight.Shape[1] * groups;
        if (bias is not null && (bias.Rank != 1 || bias.Shape[0] != outChannels))
        {
            throw new ArgumentException(
                CallSite.Tag($"{op}: bias must be [{outChannels}] to match weight {Shapes.Format(weight.Shape)} and groups {groups}; got {Shapes.Format(bias.Shape)}."));
        }
        if (stride.H < 1 || stride.W < 1 || padding.H < 0 || padding.W < 0 || dilation.H < 1 || dilation.W < 1 || outputPadding.H < 0 || outputPadding.W < 0
            || outputPadding.H >= stride.H || outputPadding.W >= stride.W)
        {
            throw new ArgumentOutOfRangeException(nameof(stride),
                CallSite.Tag($"{op}: need stride >= 1, padding >= 0, dilation >= 1 and 0 <= output padding < stride; got stride ({stride.H}, {stride.W}), padding ({padding.H}, {padding.W}), output padding ({outputPadding.H}, {outputPadding.W}), dilation ({dilation.H}, {dilation.W})."));
        }
        int kh = weight.Shape[2], kw = weight.Shape[3];
        int oh = (input.Shape[2] - 1) * stride.H - 2 * padding.H + dilation.H * (kh - 1) + outputPadding.H + 1;
        int ow = (input.Shape[3] - 1) * stride.W - 2 * padding.W + dilation.W * (kw - 1) + outputPadding.W + 1;
        if (oh < 1 || ow < 1)
        {
            throw new ArgumentException(
                CallSite.Tag($"{op}: the output would be {oh}x{ow} for input {Shapes.Format(input.Shape)}, weight {Shapes.Format(weight.Shape)}, stride ({stride.H}, {stride.W}), padding ({padding.H}, {padding.W}), dilation ({dilation.H}, {dilation.W}); it must be at least 1x1."));
        }
        return new ConvGeometry(input.Shape[0], outChannels, oh, ow, kh, kw, stride.H, stride.W, padding.H, padding.W, dilation.H, dilation.W);
    }
}
