using AutoGrad.Graph;
using AutoGrad.Kernels;

namespace AutoGrad.Ops;

/// <summary>
/// A convolution's two adjoints in differentiable ops, for the backwards that build a graph (createGraph) of
/// <see cref="Conv2dFunction"/> and <see cref="ConvTranspose2dFunction"/>: each is itself a convolution (or its transpose), so its
/// derivative is known again and gradients of any order follow.
/// </summary>
internal static class ConvolutionGradients
{
    /// <summary>
    /// The input gradient [N, C, H, W] of the convolution <paramref name="g"/> for output gradient
    /// <paramref name="grad"/> [N, O, OH, OW]: the transposed convolution with the same weight [O, C, kh, kw].
    /// </summary>
    public static Variable Input(Variable grad, Variable weight, in ConvGeometry g) => ConvTranspose2dFunction.Apply(grad, weight, null, g, OutputPadding(g));

    /// <summary>The rows and columns of the input that no window reaches (the rest of the floor in OH), which a transposed convolution adds back.</summary>
    public static (int H, int W) OutputPadding(in ConvGeometry g)
        => ((g.Height + 2 * g.PadH - g.DilationH * (g.KernelH - 1) - 1) % g.StrideH, (g.Width + 2 * g.PadW - g.DilationW * (g.KernelW - 1) - 1) % g.StrideW);

    /// <summary>
    /// The weight gradient [O, C, kh, kw] of the convolution <paramref name="g"/> of <paramref name="input"/>
    /// [N, C, H, W] for output gradient <paramref name="grad"/> [N, O, OH, OW].
    /// </summary>
    public static Variable Weight(Variable input, Variable grad, in ConvGeometry g)
    {
        // w[o, c, i, j] = sum over n, y, x of grad[n, o, y, x] input[n, c, y s + i d - p, x s + j d - p]: the input with
        // the samples as channels ([C, N, H, W]) convolved by the output gradient as the kernel ([O, N, OH, OW]), with
        // stride and dilation swapped. Its output [C, O, kh', kw'] may run past kh, kw where the stride left input rows over.
        var samplesAsChannels = PermuteFunction.Apply(input, [1, 0, 2, 3]);
        var kernel = PermuteFunction.Apply(grad, [1, 0, 2, 3]);
        var swapped = new ConvGeometry(g.Channels, g.Batch, g.Height, g.Width, g.OutHeight, g.OutWidth,
            g.DilationH, g.DilationW, g.PadH, g.PadW, g.StrideH, g.StrideW);
        var full = Conv2dFunction.Apply(samplesAsChannels, kernel, null, swapped);
        var cropped = Crop(Crop(full, 2, g.KernelH), 3, g.KernelW);
        return PermuteFunction.Apply(cropped, [1, 0, 2, 3]);
    }

    private static Variable Crop(Variable x, int dim, int size)
        => x.Shape[dim] == size ? x : SelectFunction.Apply(x, dim, Enumerable.Range(0, size).ToArray(), OpKind.Slice);
}
