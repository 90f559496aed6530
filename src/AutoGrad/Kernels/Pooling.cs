namespace AutoGrad.Kernels;

/// <summary>
/// 2-D max and average pooling over NCHW planes (dilation 1), forward and backward. Out-of-range positions (the
/// padding) never win a max; for the average they count as zeros in the divisor, PyTorch's count_include_pad.
/// </summary>
internal static class Pooling
{
    /// <summary>Writes the window maxima and, for backward, the flat input index of each (the first maximum on ties; a NaN wins, the last one if several, as PyTorch).</summary>
    public static unsafe void MaxForward(ReadOnlySpan<float> x, in ConvGeometry g, Span<float> output, Span<int> argmax)
    {
        var geometry = g;
        int xLength = x.Length, outLength = output.Length;
        fixed (float* px = x, po = output)
        fixed (int* pa = argmax)
        {
            nint ax = (nint)px, ao = (nint)po, aa = (nint)pa;
            ParallelRanges.For(g.Batch * g.Channels, xLength, (p0, p1) => MaxForwardPlanes(
                new ReadOnlySpan<float>((float*)ax, xLength), geometry, new Span<float>((float*)ao, outLength), new Span<int>((int*)aa, outLength), p0, p1));
        }
    }

    private static void MaxForwardPlanes(ReadOnlySpan<float> x, in ConvGeometry g, Span<float> output, Span<int> argmax, int p0, int p1)
    {
        int oh = g.OutHeight, ow = g.OutWidth, plane = g.Height * g.Width;
        for (int p = p0; p < p1; p++)
        {
            int planeOffset = p * plane;
            for (int y = 0; y < oh; y++)
            {
                int h0 = y * g.StrideH - g.PadH;
                int hs = Math.Max(h0, 0), he = Math.Min(h0 + g.KernelH, g.Height);
                for (int xo = 0; xo < ow; xo++)
                {
                    int w0 = xo * g.StrideW - g.PadW;
                    int ws = Math.Max(w0, 0), we = Math.Min(w0 + g.KernelW, g.Width);
                    float best = float.NegativeInfinity;
                    int bestIndex = -1;
                    for (int h = hs; h < he; h++)
                    {
                        int rowOffset = planeOffset + h * g.Width;
                        for (int w = ws; w < we; w++)
                        {
                            float v = x[rowOffset + w];
                            if (v > best || float.IsNaN(v) || bestIndex < 0)
                            {
                                best = v;
                                bestIndex = rowOffset + w;
                            }
                        }
                    }
                    int o = (p * oh + y) * ow + xo;
                    output[o] = best;
                    argmax[o] = bestIndex;
                }
            }
        }
    }

    /// <summary>Adds each output gradient to the input position that won its window; planes are independent.</summary>
    public static unsafe void MaxBackward(ReadOnlySpan<float> grad, ReadOnlySpan<int> argmax, Span<float> inputGrad, int planes)
    {
        int gradLength = grad.Length, inputLength = inputGrad.Length;
        int outPlane = gradLength / Math.Max(1, planes), inPlane = inputLength / Math.Max(1, planes);
        fixed (float* pg = grad, pi = inputGrad)
        fixed (int* pa = argmax)
        {
            nint ag = (nint)pg, ai = (nint)pi, aa = (nint)pa;
            ParallelRanges.For(planes, inputLength, (p0, p1) =>
            {
                var g = new ReadOnlySpan<float>((float*)ag, gradLength);
                var indices = new ReadOnlySpan<int>((int*)aa, gradLength);
                var target = new Span<float>((float*)ai, inputLength);
                target.Slice(p0 * inPlane, (p1 - p0) * inPlane).Clear();
                for (int o = p0 * outPlane; o < p1 * outPlane; o++)
                {
                    target[indices[o]] += g[o];
                }
            });
        }
    }

    public static void AvgForward(ReadOnlySpan<float> x, in ConvGeometry g, Span<float> output)
    {
        int oh = g.OutHeight, ow = g.OutWidth, plane = g.Height * g.Width;
        for (int p = 0; p < g.Batch * g.Channels; p++)
        {
            int planeOffset = p * plane;
            for (int y = 0; y < oh; y++)
            {
                var (hs, he, hDivisor) = Window(y, g.StrideH, g.PadH, g.KernelH, g.Height);
                for (int xo = 0; xo < ow; xo++)
                {
                    var (ws, we, wDivisor) = Window(xo, g.StrideW, g.PadW, g.KernelW, g.Width);
                    float sum = 0;
                    for (int h = hs; h < he; h++)
                    {
                        int rowOffset = planeOffset + h * g.Width;
                        for (int w = ws; w < we; w++)
                        {
                            sum += x[rowOffset + w];
                        }
                    }
                    output[(p * oh + y) * ow + xo] = sum / (hDivisor * wDivisor);
                }
            }
        }
    }

    /// <summary>Spreads each output gradient evenly over its window (divided by the same count as forward).</summary>
    public static void AvgBackward(ReadOnlySpan<float> grad, in ConvGeometry g, Span<float> inputGrad)
    {
        int oh = g.OutHeight, ow = g.OutWidth, plane = g.Height * g.Width;
        inputGrad.Clear();
        for (int p = 0; p < g.Batch * g.Channels; p++)
        {
            int planeOffset = p * plane;
            for (int y = 0; y < oh; y++)
            {
                var (hs, he, hDivisor) = Window(y, g.StrideH, g.PadH, g.KernelH, g.Height);
                for (int xo = 0; xo < ow; xo++)
                {
                    var (ws, we, wDivisor) = Window(xo, g.StrideW, g.PadW, g.KernelW, g.Width);
                    float share = grad[(p * oh + y) * ow + xo] / (hDivisor * wDivisor);
                    for (int h = hs; h < he; h++)
                    {
                        int rowOffset = planeOffset + h * g.Width;
                        for (int w = ws; w < we; w++)
                        {
                            inputGrad[rowOffset + w] += share;
                        }
                    }
                }
            }
        }
    }

    /// <summary>The clipped window [start, end) along one axis and its padded extent (PyTorch's pool_size factor).</summary>
    private static (int Start, int End, int Divisor) Window(int o, int stride, int pad, int kernel, int size)
    {
        int start = o * stride - pad;
        int end = Math.Min(start + kernel, size + pad);
        int divisor = end - start;
        return (Math.Max(start, 0), Math.Min(end, size), divisor);
    }
}
