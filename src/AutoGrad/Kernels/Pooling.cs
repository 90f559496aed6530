using System.Runtime.CompilerServices;

namespace AutoGrad.Kernels;

/// <summary>
/// 2-D max and average pooling over NCHW planes (dilation 1), forward and backward. Out-of-range positions (the
/// padding) never win a max; for the average they count as zeros in the divisor, PyTorch's count_include_pad.
/// </summary>
internal static unsafe class Pooling
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

    /// <summary><see cref="MaxForward"/> on the calling thread (for callers that already run in parallel, a sample at a time).</summary>
    public static void MaxForwardSerial(ReadOnlySpan<float> x, in ConvGeometry g, Span<float> output, Span<int> argmax)
        => MaxForwardPlanes(x, g, output, argmax, 0, g.Batch * g.Channels);

    private static void MaxForwardPlanes(ReadOnlySpan<float> x, in ConvGeometry g, Span<float> output, Span<int> argmax, int p0, int p1)
    {
        if (g is { KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2, PadH: 0, PadW: 0 })
        {
            MaxForward2x2Planes(x, g, output, argmax, p0, p1);
            return;
        }
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

    // The common 2x2 window with stride 2 and no padding: four candidates in the same scan order as the general loop
    // (row by row), so ties and NaNs resolve identically, without its window clipping.
    private static void MaxForward2x2Planes(ReadOnlySpan<float> x, in ConvGeometry g, Span<float> output, Span<int> argmax, int p0, int p1)
    {
        switch (Simd.Width)
        {
            case 512: MaxForward2x2<Simd512>(x, g, output, argmax, p0, p1); break;
            case 256: MaxForward2x2<Simd256>(x, g, output, argmax, p0, p1); break;
            case 128: MaxForward2x2<Simd128>(x, g, output, argmax, p0, p1); break;
            default: MaxForward2x2<SimdScalar>(x, g, output, argmax, p0, p1); break;
        }
    }

    /// <summary>
    /// Count windows of an output row per step: the two input rows are loaded (never past the row), split into even and
    /// odd columns, and the four candidates compared in the scalar order with the same rule (greater, or NaN),
    /// branch-free: which candidate wins is data-dependent, and mispredicted branches cost more than the comparisons.
    /// </summary>
    internal static void MaxForward2x2<TVec>(ReadOnlySpan<float> x, in ConvGeometry g, Span<float> output, Span<int> argmax, int p0, int p1)
        where TVec : unmanaged, ISimd<TVec>
    {
        int oh = g.OutHeight, ow = g.OutWidth, width = g.Width, plane = g.Height * width, w = TVec.Count;
        var doubled = TVec.LaneIndices + TVec.LaneIndices;
        TVec right = TVec.Create(1), below = TVec.Create(width), belowRight = TVec.Create(width + 1);
        fixed (float* px = x, po = output)
        fixed (int* pa = argmax)
        {
            for (int p = p0; p < p1; p++)
            {
                for (int y = 0; y < oh; y++)
                {
                    int top = p * plane + 2 * y * width, o = (p * oh + y) * ow;
                    for (int x0 = 0; x0 < ow; x0 += w)
                    {
                        int windows = Math.Min(w, ow - x0);
                        float* upper = px + top + 2 * x0, lower = upper + width;
                        var (upperLeft, upperRight) = LoadPairs<TVec>(upper, windows);
                        var (lowerLeft, lowerRight) = LoadPairs<TVec>(lower, windows);
                        var best = upperLeft;
                        var winner = TVec.Zero; // the winner's offset from its window's top-left corner
                        Candidate(upperRight, right, ref best, ref winner);
                        Candidate(lowerLeft, below, ref best, ref winner);
                        Candidate(lowerRight, belowRight, ref best, ref winner);
                        TVec.StoreFirst(best, po + o + x0, windows);
                        TVec.StoreFirstAsInt32(doubled + winner, top + 2 * x0, pa + o + x0, windows);
                    }
                }
            }
        }
    }

    /// <summary>The left and right columns of <paramref name="windows"/> windows of one input row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (TVec Left, TVec Right) LoadPairs<TVec>(float* row, int windows) where TVec : unmanaged, ISimd<TVec>
    {
        int w = TVec.Count;
        if (windows == w)
        {
            return TVec.Deinterleave(TVec.Load(row), TVec.Load(row + w));
        }
        int floats = 2 * windows;
        return TVec.Deinterleave(TVec.LoadFirst(row, Math.Min(floats, w)), TVec.LoadFirst(row + w, Math.Max(floats - w, 0)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Candidate<TVec>(TVec value, TVec offset, ref TVec best, ref TVec winner) where TVec : unmanaged, ISimd<TVec>
    {
        var wins = TVec.GreaterThan(value, best) | TVec.IsNaN(value);
        best = TVec.ConditionalSelect(wins, value, best);
        winner = TVec.ConditionalSelect(wins, offset, winner);
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

    /// <summary>destination[o] = source[argmax[o]]: the adjoint of <see cref="MaxBackward"/> (what a second derivative through a max pooling reads).</summary>
    public static void GatherWinners(ReadOnlySpan<float> source, ReadOnlySpan<int> argmax, Span<float> destination)
    {
        for (int o = 0; o < destination.Length; o++)
        {
            destination[o] = source[argmax[o]];
        }
    }

    /// <summary>
    /// The 2x2 / stride-2 windows do not overlap, so every input position belongs to at most one window: each is written
    /// once, with the window's gradient where it won and 0 elsewhere (rows and columns past the last window included).
    /// One pass, no clearing and no scattered read-modify-write.
    /// </summary>
    public static unsafe void MaxBackward2x2(ReadOnlySpan<float> grad, ReadOnlySpan<int> argmax, in ConvGeometry g, Span<float> inputGrad)
    {
        var geometry = g;
        int gradLength = grad.Length, inputLength = inputGrad.Length;
        fixed (float* pg = grad, pi = inputGrad)
        fixed (int* pa = argmax)
        {
            nint ag = (nint)pg, ai = (nint)pi, aa = (nint)pa;
            ParallelRanges.For(g.Batch * g.Channels, inputLength, (p0, p1) => MaxBackward2x2Planes(
                (float*)ag, (int*)aa, geometry, (float*)ai, p0, p1));
        }
    }

    /// <summary><see cref="MaxBackward2x2"/> on the calling thread.</summary>
    public static unsafe void MaxBackward2x2Serial(ReadOnlySpan<float> grad, ReadOnlySpan<int> argmax, in ConvGeometry g, Span<float> inputGrad)
    {
        fixed (float* pg = grad, pi = inputGrad)
        fixed (int* pa = argmax)
        {
            MaxBackward2x2Planes(pg, pa, g, pi, 0, g.Batch * g.Channels);
        }
    }

    /// <summary>At the widest width whose vector a row of windows fills (LeNet's rows of 14 windows take 8 at a time with AVX-512).</summary>
    private static void MaxBackward2x2Planes(float* grad, int* argmax, in ConvGeometry g, float* inputGrad, int p0, int p1)
    {
        int ow = g.OutWidth;
        if (Simd.Width >= 512 && ow >= 16)
        {
            MaxBackward2x2<Simd512>(grad, argmax, g, inputGrad, p0, p1);
        }
        else if (Simd.Width >= 256 && ow >= 8)
        {
            MaxBackward2x2<Simd256>(grad, argmax, g, inputGrad, p0, p1);
        }
        else if (Simd.Width >= 128 && ow >= 4)
        {
            MaxBackward2x2<Simd128>(grad, argmax, g, inputGrad, p0, p1);
        }
        else
        {
            MaxBackward2x2<SimdScalar>(grad, argmax, g, inputGrad, p0, p1);
        }
    }

    /// <summary>
    /// Each window's 2x2 input gradient: the window's gradient where its maximum was, +0 elsewhere, Count windows at a
    /// time (the last vector overlapping the previous where the row is not a multiple of Count: the overlap writes the
    /// same values twice; rows narrower than one vector go one window at a time). Masks instead of branches: which
    /// position wins is data-dependent, and mispredicted branches cost more than the whole write.
    /// </summary>
    internal static void MaxBackward2x2<TVec>(float* grad, int* argmax, in ConvGeometry g, float* inputGrad, int p0, int p1)
        where TVec : unmanaged, ISimd<TVec>
    {
        int oh = g.OutHeight, ow = g.OutWidth, width = g.Width, plane = g.Height * width, w = TVec.Count;
        var doubled = TVec.LaneIndices + TVec.LaneIndices;
        TVec right = TVec.Create(1), below = TVec.Create(width), belowRight = TVec.Create(width + 1);
        for (int p = p0; p < p1; p++)
        {
            float* target = inputGrad + (long)p * plane;
            for (int y = 0; y < oh; y++)
            {
                float* upper = target + 2 * y * width;
                int top = p * plane + 2 * y * width, o = (p * oh + y) * ow;
                if (ow >= w)
                {
                    for (int x0 = 0; ; x0 = Math.Min(x0 + w, ow - w))
                    {
                        var values = TVec.Load(grad + o + x0);
                        // each winner's offset from its window's corner: window j starts at top + 2 (x0 + j)
                        var winner = TVec.LoadInt32AsSingle(argmax + o + x0, top + 2 * x0) - doubled;
                        var (upperEven, upperOdd) = (values & TVec.EqualTo(winner, TVec.Zero), values & TVec.EqualTo(winner, right));
                        var (lowerEven, lowerOdd) = (values & TVec.EqualTo(winner, below), values & TVec.EqualTo(winner, belowRight));
                        StorePairs(upperEven, upperOdd, upper + 2 * x0);
                        StorePairs(lowerEven, lowerOdd, upper + width + 2 * x0);
                        if (x0 == ow - w)
                        {
                            break;
                        }
                    }
                }
                else
                {
                    for (int xo = 0; xo < ow; xo++)
                    {
                        ScatterWindow(grad[o + xo], argmax[o + xo] - top - 2 * xo, width, upper + 2 * xo);
                    }
                }
                for (int x = 2 * ow; x < width; x++)
                {
                    upper[x] = 0f;
                    upper[width + x] = 0f;
                }
            }
            new Span<float>(target + 2 * oh * width, plane - 2 * oh * width).Clear(); // an odd last row
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StorePairs<TVec>(TVec even, TVec odd, float* destination) where TVec : unmanaged, ISimd<TVec>
    {
        var (low, high) = TVec.Interleave(even, odd);
        TVec.Store(low, destination);
        TVec.Store(high, destination + TVec.Count);
    }

    /// <summary>
    /// Writes one window's 2x2 input gradient: the value where the window's maximum was (<paramref name="winner"/> is
    /// 0, 1, width or width + 1 from the window's top-left corner), +0 elsewhere, without branches.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ScatterWindow(float value, int winner, int width, float* upper)
    {
        int bits = BitConverter.SingleToInt32Bits(value);
        upper[0] = BitConverter.Int32BitsToSingle(bits & -Convert.ToInt32(winner == 0));
        upper[1] = BitConverter.Int32BitsToSingle(bits & -Convert.ToInt32(winner == 1));
        upper[width] = BitConverter.Int32BitsToSingle(bits & -Convert.ToInt32(winner == width));
        upper[width + 1] = BitConverter.Int32BitsToSingle(bits & -Convert.ToInt32(winner == width + 1));
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
