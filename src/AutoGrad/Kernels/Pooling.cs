using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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
        int oh = g.OutHeight, ow = g.OutWidth, width = g.Width, plane = g.Height * width;
        if (Avx512F.IsSupported && ow <= 16)
        {
            MaxForward2x2Vector(x, g, output, argmax, p0, p1);
            return;
        }
        for (int p = p0; p < p1; p++)
        {
            for (int y = 0; y < oh; y++)
            {
                int top = p * plane + 2 * y * width, o = (p * oh + y) * ow;
                var upper = x.Slice(top, 2 * ow);
                var lower = x.Slice(top + width, 2 * ow);
                var outRow = output.Slice(o, ow);
                var argRow = argmax.Slice(o, ow);
                for (int xo = 0; xo < ow; xo++)
                {
                    int i = 2 * xo;
                    float best = upper[i];
                    int index = top + i;
                    float v = upper[i + 1];
                    if (v > best || float.IsNaN(v))
                    {
                        best = v;
                        index = top + i + 1;
                    }
                    v = lower[i];
                    if (v > best || float.IsNaN(v))
                    {
                        best = v;
                        index = top + width + i;
                    }
                    v = lower[i + 1];
                    if (v > best || float.IsNaN(v))
                    {
                        best = v;
                        index = top + width + i + 1;
                    }
                    outRow[xo] = best;
                    argRow[xo] = index;
                }
            }
        }
    }

    private static readonly Vector512<int> Lanes = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);

    // One output row (up to 16 windows) per step with AVX-512: the two input rows are loaded masked (never past the
    // row), split into even and odd columns, and the four candidates are compared in the scalar loop's order with
    // the same rule (greater, or NaN), branch-free.
    private static void MaxForward2x2Vector(ReadOnlySpan<float> x, in ConvGeometry g, Span<float> output, Span<int> argmax, int p0, int p1)
    {
        int oh = g.OutHeight, ow = g.OutWidth, width = g.Width, plane = g.Height * width;
        var (low, high) = ShortRows.Masks(2 * ow);
        var outMask = Vector512.LessThan(Lanes, Vector512.Create(ow));
        var evens = Lanes * 2;
        var odds = evens + Vector512<int>.One;
        fixed (float* px = x, po = output)
        fixed (int* pa = argmax)
        {
            for (int p = p0; p < p1; p++)
            {
                for (int y = 0; y < oh; y++)
                {
                    int top = p * plane + 2 * y * width, o = (p * oh + y) * ow;
                    float* upper = px + top, lower = upper + width;
                    var u0 = Avx512F.MaskLoad(upper, low, Vector512<float>.Zero);
                    var u1 = Avx512F.MaskLoad(upper + 16, high, Vector512<float>.Zero);
                    var l0 = Avx512F.MaskLoad(lower, low, Vector512<float>.Zero);
                    var l1 = Avx512F.MaskLoad(lower + 16, high, Vector512<float>.Zero);
                    var index = evens + Vector512.Create(top);
                    var best = Avx512F.PermuteVar16x32x2(u0, evens, u1);
                    var bestIndex = index;
                    Candidate(Avx512F.PermuteVar16x32x2(u0, odds, u1), index + Vector512<int>.One, ref best, ref bestIndex);
                    Candidate(Avx512F.PermuteVar16x32x2(l0, evens, l1), index + Vector512.Create(width), ref best, ref bestIndex);
                    Candidate(Avx512F.PermuteVar16x32x2(l0, odds, l1), index + Vector512.Create(width + 1), ref best, ref bestIndex);
                    Avx512F.MaskStore(po + o, outMask.AsSingle(), best);
                    Avx512F.MaskStore(pa + o, outMask, bestIndex);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Candidate(Vector512<float> value, Vector512<int> index, ref Vector512<float> best, ref Vector512<int> bestIndex)
    {
        var wins = Vector512.GreaterThan(value, best) | ~Vector512.Equals(value, value);
        best = Vector512.ConditionalSelect(wins, value, best);
        bestIndex = Vector512.ConditionalSelect(wins.AsInt32(), index, bestIndex);
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

    private static unsafe void MaxBackward2x2Planes(float* grad, int* argmax, in ConvGeometry g, float* inputGrad, int p0, int p1)
    {
        int oh = g.OutHeight, ow = g.OutWidth, width = g.Width, plane = g.Height * width;
        for (int p = p0; p < p1; p++)
        {
            float* target = inputGrad + (long)p * plane;
            for (int y = 0; y < oh; y++)
            {
                float* upper = target + 2 * y * width;
                int top = p * plane + 2 * y * width, o = (p * oh + y) * ow;
                // Vectors of 8 windows, the last one overlapping the previous where ow is not a multiple of 8 (the
                // overlap writes the same values twice); rows narrower than 8 windows go one window at a time.
                if (Avx2.IsSupported && ow >= 8)
                {
                    for (int xo = 0; ; xo = Math.Min(xo + 8, ow - 8))
                    {
                        ScatterWindows8(grad + o + xo, argmax + o + xo, top + 2 * xo, width, upper + 2 * xo);
                        if (xo == ow - 8)
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

    /// <summary>
    /// Writes one window's 2x2 input gradient: the value where the window's maximum was (<paramref name="winner"/> is
    /// 0, 1, width or width + 1 from the window's top-left corner), +0 elsewhere. Masks instead of branches: which
    /// position wins is data-dependent, and mispredicted branches cost more than the whole write.
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

    /// <summary><see cref="ScatterWindow"/> for 8 neighbouring windows: 16 values of the upper row and 16 of the lower.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ScatterWindows8(float* grad, int* argmax, int corner, int width, float* upper)
    {
        var values = Vector256.Load(grad);
        // Offset of each winner from its window's corner: window j starts at corner + 2j.
        var winner = Vector256.Load(argmax) - Vector256.Create(corner) - Vector256.Create(0, 2, 4, 6, 8, 10, 12, 14);
        var upperLeft = values & Vector256.Equals(winner, Vector256<int>.Zero).AsSingle();
        var upperRight = values & Vector256.Equals(winner, Vector256<int>.One).AsSingle();
        var lowerLeft = values & Vector256.Equals(winner, Vector256.Create(width)).AsSingle();
        var lowerRight = values & Vector256.Equals(winner, Vector256.Create(width + 1)).AsSingle();
        StoreInterleaved(upperLeft, upperRight, upper);
        StoreInterleaved(lowerLeft, lowerRight, upper + width);
    }

    /// <summary>Stores even[0], odd[0], even[1], odd[1], ... (16 floats).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreInterleaved(Vector256<float> even, Vector256<float> odd, float* destination)
    {
        var low = Avx.UnpackLow(even, odd);   // e0 o0 e1 o1 | e4 o4 e5 o5
        var high = Avx.UnpackHigh(even, odd); // e2 o2 e3 o3 | e6 o6 e7 o7
        Avx.Store(destination, Avx.Permute2x128(low, high, 0x20));
        Avx.Store(destination + 8, Avx.Permute2x128(low, high, 0x31));
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
