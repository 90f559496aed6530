using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AutoGrad.Kernels;

/// <summary>
/// Direct convolution of one sample for small images (unit stride and dilation, output rows of at most 32 pixels,
/// AVX-512): one output row of four channels lives in eight vector registers while the kernel taps stream over a
/// zero-padded copy of the input (eight channels and one vector for rows of at most 16), so there is no column matrix
/// and no packing. Every output element is the same
/// chain of fused multiply-adds over the taps (c, i, j) in order as the GEMM's, independent of threads.
/// The adjoints are built from the same pieces: the input gradient is this correlation of the padded output gradient
/// with the flipped, transposed weights; the weight gradient streams rows of the padded input against the output gradient.
/// </summary>
internal static unsafe class DirectConvolution
{
    private const int Slack = 32; // floats read past the end of a padded plane by the last row's vectors

    /// <summary>Whether this path handles <paramref name="g"/> (its input gradient included).</summary>
    public static bool Applies(in ConvGeometry g)
        => Avx512F.IsSupported && Vector512.IsHardwareAccelerated
            && g is { StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1 }
            && g.OutWidth <= 32 && g.Width <= 32 && g.PadH <= g.KernelH - 1 && g.PadW <= g.KernelW - 1;

    /// <summary>Floats of scratch the calls below need for <paramref name="g"/>.</summary>
    public static int ScratchLength(in ConvGeometry g, int outChannels)
    {
        int forward = g.Channels * (g.Height + 2 * g.PadH) * (g.Width + 2 * g.PadW);
        int backward = outChannels * (g.OutHeight + 2 * (g.KernelH - 1 - g.PadH)) * (g.OutWidth + 2 * (g.KernelW - 1 - g.PadW));
        return Math.Max(forward, backward) + Slack;
    }

    /// <summary>output [O, OH, OW] = conv(sample [C, H, W], weight [O, C, kh, kw]) + bias, then max(0, .) when <paramref name="relu"/>.</summary>
    public static void Forward(ReadOnlySpan<float> sample, in ConvGeometry g, ReadOnlySpan<float> weight, int outChannels,
        ReadOnlySpan<float> bias, bool relu, Span<float> output, Span<float> scratch)
    {
        int hp = g.Height + 2 * g.PadH, wp = g.Width + 2 * g.PadW;
        fixed (float* ps = sample, pw = weight, pb = bias, po = output, pp = scratch)
        {
            PaddedPlanes.Pad(ps, g.Channels, g.Height, g.Width, g.PadH, g.PadW, pp, Slack);
            Correlate(pp, g.Channels, hp, wp, g.PadH, g.PadH + g.Height, g.KernelH, g.KernelW, pw, outChannels, g.OutHeight, g.OutWidth,
                bias.IsEmpty ? null : pb, relu, po);
        }
    }

    /// <summary>
    /// sampleGrad [C, H, W] = the gradient of <see cref="Forward"/> with respect to its input, given flippedWeight = the
    /// weight rearranged to [C, O, kh, kw] with both kernel axes reversed.
    /// </summary>
    public static void InputGradient(ReadOnlySpan<float> outputGrad, in ConvGeometry g, ReadOnlySpan<float> flippedWeight, int outChannels,
        Span<float> sampleGrad, Span<float> scratch)
    {
        int padH = g.KernelH - 1 - g.PadH, padW = g.KernelW - 1 - g.PadW;
        int hp = g.OutHeight + 2 * padH, wp = g.OutWidth + 2 * padW;
        fixed (float* pg = outputGrad, pw = flippedWeight, px = sampleGrad, pp = scratch)
        {
            PaddedPlanes.Pad(pg, outChannels, g.OutHeight, g.OutWidth, padH, padW, pp, Slack);
            Correlate(pp, outChannels, hp, wp, padH, padH + g.OutHeight, g.KernelH, g.KernelW, pw, g.Channels, g.Height, g.Width, null, false, px);
        }
    }

    /// <summary>
    /// Floats of lane partials <see cref="WeightGradient"/> needs: a vector per (channel, tap), taps padded to fours, and
    /// one channel more for a last block one wider than the channels left (three in a block of four).
    /// </summary>
    public static int LanePartialsLength(in ConvGeometry g, int outChannels) => (outChannels + 1) * ((g.PatchSize + 3) / 4 * 4) * 16;

    /// <summary>Floats of scratch <see cref="WeightGradient"/> needs for <paramref name="count"/> samples: their padded inputs.</summary>
    public static int WeightScratchLength(in ConvGeometry g, int count) => count * PaddedSampleLength(g) + Slack;

    private static int PaddedSampleLength(in ConvGeometry g) => g.Channels * (g.Height + 2 * g.PadH) * (g.Width + 2 * g.PadW);

    /// <summary>
    /// weightGrad [O, C*kh*kw] = the weight gradient summed over <paramref name="count"/> consecutive samples, given their
    /// output gradients. Each register block runs over every sample before its accumulators are stored once, as
    /// per-lane partial sums; the horizontal additions happen once, in <see cref="ReduceLanes"/>.
    /// </summary>
    public static void WeightGradient(ReadOnlySpan<float> samples, int count, in ConvGeometry g, ReadOnlySpan<float> outputGrads, int outChannels,
        Span<float> lanePartials, Span<float> weightGrad, Span<float> scratch)
    {
        int hp = g.Height + 2 * g.PadH, wp = g.Width + 2 * g.PadW, taps = g.PatchSize, paddedTaps = (taps + 3) / 4 * 4;
        int padded = PaddedSampleLength(g);
        // where each tap (c, i, j) starts reading the padded input, computed once rather than per block
        var offsets = taps <= 1024 ? stackalloc int[taps] : new int[taps];
        for (int t = 0; t < taps; t++)
        {
            int c = t / (g.KernelH * g.KernelW), i = t / g.KernelW % g.KernelH, j = t % g.KernelW;
            offsets[t] = (c * hp + i) * wp + j;
        }
        fixed (float* ps = samples, pg = outputGrads, pl = lanePartials, pp = scratch)
        fixed (int* po = offsets)
        {
            for (int s = 0; s < count; s++)
            {
                PaddedPlanes.Pad(ps + (long)s * g.SampleSize, g.Channels, g.Height, g.Width, g.PadH, g.PadW, pp + (long)s * padded, Slack);
            }
            var block = new WeightBlocks(pp, padded, count, po, wp, g, pg, outChannels, paddedTaps * 16);
            for (int o0 = 0; o0 < outChannels;)
            {
                // blocks of four channels; the last five or six (LeNet's six) as one block, one or two as a block of two
                int rest = outChannels - o0, width = rest is 5 or 6 ? 6 : rest <= 2 ? 2 : 4;
                for (int t0 = 0; t0 < taps; t0 += 4)
                {
                    float* lanes = pl + ((long)o0 * paddedTaps + t0) * 16;
                    if (width == 6)
                    {
                        block.Run<Six>(o0, t0, lanes);
                    }
                    else if (width == 4)
                    {
                        block.Run<Four>(o0, t0, lanes);
                    }
                    else
                    {
                        block.Run<Two>(o0, t0, lanes);
                    }
                }
                o0 += width;
            }
        }
        ReduceLanes(lanePartials, g, outChannels, weightGrad);
    }

    /// <summary>weightGrad [O, C*kh*kw] = the horizontal sums of <paramref name="lanePartials"/>.</summary>
    private static void ReduceLanes(ReadOnlySpan<float> lanePartials, in ConvGeometry g, int outChannels, Span<float> weightGrad)
    {
        int taps = g.PatchSize, paddedTaps = (taps + 3) / 4 * 4;
        for (int o = 0; o < outChannels; o++)
        {
            for (int t = 0; t < taps; t++)
            {
                weightGrad[o * taps + t] = Vector512.Sum(Vector512.Create(lanePartials.Slice((o * paddedTaps + t) * 16, 16)));
            }
        }
    }

    /// <summary>
    /// Two, four or six output channels times four taps: dot products over the output pixels of every sample, each
    /// pair of loads feeding several multiply-adds (six channels: ten loads for 24). Rows are taken in (at most two)
    /// masked vectors, so lanes past the row are zero in both factors. Channels past the end (a block of two for one)
    /// repeat the last one and taps past the end the last tap; <see cref="ReduceLanes"/> never reads them.
    /// </summary>
    private readonly struct WeightBlocks(float* padded, int paddedLength, int count, int* offsets, int wp, ConvGeometry g, float* outputGrads,
        int outChannels, int channelStride)
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run<TBlock>(int o0, int t0, float* lanes) where TBlock : struct, ICount
        {
            int oh = g.OutHeight, ow = g.OutWidth, plane = oh * ow, taps = g.PatchSize;
            long o1 = Math.Min(o0 + 1, outChannels - 1), o2 = Math.Min(o0 + 2, outChannels - 1), o3 = Math.Min(o0 + 3, outChannels - 1);
            long o4 = Math.Min(o0 + 4, outChannels - 1), o5 = Math.Min(o0 + 5, outChannels - 1);
            int x1 = offsets[Math.Min(t0 + 1, taps - 1)], x2 = offsets[Math.Min(t0 + 2, taps - 1)], x3 = offsets[Math.Min(t0 + 3, taps - 1)];
            Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default, a10 = default, a11 = default, a12 = default, a13 = default;
            Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default, a30 = default, a31 = default, a32 = default, a33 = default;
            Vector512<float> a40 = default, a41 = default, a42 = default, a43 = default, a50 = default, a51 = default, a52 = default, a53 = default;
            var zero = Vector512<float>.Zero;
            var (low, high) = ShortRows.Masks(ow);
            for (int s = 0; s < count; s++)
            {
                float* gy = outputGrads + (long)s * outChannels * plane, input = padded + (long)s * paddedLength;
                float* d0 = gy + (long)o0 * plane, d1 = gy + o1 * plane, d2 = gy + o2 * plane, d3 = gy + o3 * plane;
                float* d4 = gy + o4 * plane, d5 = gy + o5 * plane;
                float* p0 = input + offsets[t0], p1 = input + x1, p2 = input + x2, p3 = input + x3;
                for (int y = 0; y < oh; y++)
                {
                    for (int chunk = 0; chunk < ow; chunk += 16)
                    {
                        var mask = chunk == 0 ? low : high;
                        long dy = (long)y * ow + chunk, dx = (long)y * wp + chunk;
                        var v0 = Avx512F.MaskLoad(p0 + dx, mask, zero);
                        var v1 = Avx512F.MaskLoad(p1 + dx, mask, zero);
                        var v2 = Avx512F.MaskLoad(p2 + dx, mask, zero);
                        var v3 = Avx512F.MaskLoad(p3 + dx, mask, zero);
                        var u = Avx512F.MaskLoad(d0 + dy, mask, zero);
                        a00 = Vector512.FusedMultiplyAdd(u, v0, a00); a01 = Vector512.FusedMultiplyAdd(u, v1, a01);
                        a02 = Vector512.FusedMultiplyAdd(u, v2, a02); a03 = Vector512.FusedMultiplyAdd(u, v3, a03);
                        u = Avx512F.MaskLoad(d1 + dy, mask, zero);
                        a10 = Vector512.FusedMultiplyAdd(u, v0, a10); a11 = Vector512.FusedMultiplyAdd(u, v1, a11);
                        a12 = Vector512.FusedMultiplyAdd(u, v2, a12); a13 = Vector512.FusedMultiplyAdd(u, v3, a13);
                        if (TBlock.Value > 2)
                        {
                            u = Avx512F.MaskLoad(d2 + dy, mask, zero);
                            a20 = Vector512.FusedMultiplyAdd(u, v0, a20); a21 = Vector512.FusedMultiplyAdd(u, v1, a21);
                            a22 = Vector512.FusedMultiplyAdd(u, v2, a22); a23 = Vector512.FusedMultiplyAdd(u, v3, a23);
                            u = Avx512F.MaskLoad(d3 + dy, mask, zero);
                            a30 = Vector512.FusedMultiplyAdd(u, v0, a30); a31 = Vector512.FusedMultiplyAdd(u, v1, a31);
                            a32 = Vector512.FusedMultiplyAdd(u, v2, a32); a33 = Vector512.FusedMultiplyAdd(u, v3, a33);
                        }
                        if (TBlock.Value > 4)
                        {
                            u = Avx512F.MaskLoad(d4 + dy, mask, zero);
                            a40 = Vector512.FusedMultiplyAdd(u, v0, a40); a41 = Vector512.FusedMultiplyAdd(u, v1, a41);
                            a42 = Vector512.FusedMultiplyAdd(u, v2, a42); a43 = Vector512.FusedMultiplyAdd(u, v3, a43);
                            u = Avx512F.MaskLoad(d5 + dy, mask, zero);
                            a50 = Vector512.FusedMultiplyAdd(u, v0, a50); a51 = Vector512.FusedMultiplyAdd(u, v1, a51);
                            a52 = Vector512.FusedMultiplyAdd(u, v2, a52); a53 = Vector512.FusedMultiplyAdd(u, v3, a53);
                        }
                    }
                }
            }
            // the block's channel r, tap t0 + c goes to lanes + r * channelStride + c * 16
            StoreFour(lanes, a00, a01, a02, a03);
            StoreFour(lanes + channelStride, a10, a11, a12, a13);
            if (TBlock.Value > 2)
            {
                StoreFour(lanes + 2 * channelStride, a20, a21, a22, a23);
                StoreFour(lanes + 3 * channelStride, a30, a31, a32, a33);
            }
            if (TBlock.Value > 4)
            {
                StoreFour(lanes + 4 * channelStride, a40, a41, a42, a43);
                StoreFour(lanes + 5 * channelStride, a50, a51, a52, a53);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void StoreFour(float* target, Vector512<float> t0, Vector512<float> t1, Vector512<float> t2, Vector512<float> t3)
        {
            Vector512.Store(t0, target);
            Vector512.Store(t1, target + 16);
            Vector512.Store(t2, target + 32);
            Vector512.Store(t3, target + 48);
        }
    }

    /// <summary>
    /// output [O, oh, ow] = sum over (c, i, j) of weight[o, c, i, j] * padded[c, y + i, x + j], one output row and a
    /// register block of output channels at a time: rows of up to 16 pixels are one vector and take eight channels,
    /// wider rows two vectors and four. Where the channels do not fill the last block, a narrower one (six or four)
    /// takes them, so LeNet's six channels are not computed as eight. Lanes past <paramref name="ow"/> read
    /// neighbouring values and are never stored. Padded rows outside [<paramref name="top"/>, <paramref name="bottom"/>)
    /// are all zeros and are skipped.
    /// </summary>
    private static void Correlate(float* padded, int channels, int hp, int wp, int top, int bottom, int kh, int kw, float* weight, int outChannels,
        int oh, int ow, float* bias, bool relu, float* output)
    {
        var block = new Correlation(padded, channels, hp, wp, top, bottom, kh, kw, weight, outChannels, oh, ow, bias, relu, output);
        for (int o0 = 0; o0 < outChannels;)
        {
            int rest = outChannels - o0;
            if (ow <= 16)
            {
                if (rest >= 7)
                {
                    block.Run<Eight, One>(o0);
                }
                else if (rest >= 5)
                {
                    block.Run<Six, One>(o0);
                }
                else
                {
                    block.Run<Four, One>(o0);
                }
                o0 += 8;
            }
            else if (rest is 5 or 6)
            {
                block.Run<Six, Two>(o0);
                o0 += 6;
            }
            else
            {
                block.Run<Four, Two>(o0);
                o0 += 4;
            }
        }
    }

    /// <summary>
    /// One correlation (<see cref="Correlate"/>'s arguments) run one register block of output channels at a time: the
    /// block's width and the vectors per row are types, so the accumulators a smaller block does not use compile away.
    /// </summary>
    private readonly struct Correlation(float* padded, int channels, int hp, int wp, int top, int bottom, int kh, int kw, float* weight,
        int outChannels, int oh, int ow, float* bias, bool relu, float* output)
    {
        /// <summary>The weights of output channel <paramref name="o"/>, the last one for channels past the end.</summary>
        private float* WeightsOf(int o) => weight + (long)Math.Min(o, outChannels - 1) * channels * kh * kw;

        /// <summary>Output channels [o0, o0 + TBlock.Value), TRow.Value vectors per output row.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run<TBlock, TRow>(int o0) where TBlock : struct, ICount where TRow : struct, ICount
        {
            bool two = TRow.Value > 1, six = TBlock.Value > 4, eight = TBlock.Value > 6;
            var (low, high) = ShortRows.Masks(ow);
            float* w0 = WeightsOf(o0), w1 = WeightsOf(o0 + 1), w2 = WeightsOf(o0 + 2), w3 = WeightsOf(o0 + 3);
            float* w4 = WeightsOf(o0 + 4), w5 = WeightsOf(o0 + 5), w6 = WeightsOf(o0 + 6), w7 = WeightsOf(o0 + 7);
            for (int y = 0; y < oh; y++)
            {
                // a: the row's first vector, b: its second (only with two vectors per row)
                Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
                Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default, b4 = default, b5 = default;
                int tap = 0;
                for (int c = 0; c < channels; c++)
                {
                    for (int i = 0; i < kh; i++)
                    {
                        if (y + i < top || y + i >= bottom)
                        {
                            tap += kw; // a row of zero padding adds nothing
                            continue;
                        }
                        float* row = padded + ((long)c * hp + y + i) * wp;
                        for (int j = 0; j < kw; j++, tap++)
                        {
                            var v0 = Vector512.Load(row + j);
                            var v1 = two ? Vector512.Load(row + j + 16) : default;
                            var w = Vector512.Create(w0[tap]);
                            a0 = Vector512.FusedMultiplyAdd(w, v0, a0);
                            b0 = two ? Vector512.FusedMultiplyAdd(w, v1, b0) : b0;
                            w = Vector512.Create(w1[tap]);
                            a1 = Vector512.FusedMultiplyAdd(w, v0, a1);
                            b1 = two ? Vector512.FusedMultiplyAdd(w, v1, b1) : b1;
                            w = Vector512.Create(w2[tap]);
                            a2 = Vector512.FusedMultiplyAdd(w, v0, a2);
                            b2 = two ? Vector512.FusedMultiplyAdd(w, v1, b2) : b2;
                            w = Vector512.Create(w3[tap]);
                            a3 = Vector512.FusedMultiplyAdd(w, v0, a3);
                            b3 = two ? Vector512.FusedMultiplyAdd(w, v1, b3) : b3;
                            if (six)
                            {
                                w = Vector512.Create(w4[tap]);
                                a4 = Vector512.FusedMultiplyAdd(w, v0, a4);
                                b4 = two ? Vector512.FusedMultiplyAdd(w, v1, b4) : b4;
                                w = Vector512.Create(w5[tap]);
                                a5 = Vector512.FusedMultiplyAdd(w, v0, a5);
                                b5 = two ? Vector512.FusedMultiplyAdd(w, v1, b5) : b5;
                            }
                            if (eight) // one vector per row only: eight channels of two vectors would not fit the registers
                            {
                                a6 = Vector512.FusedMultiplyAdd(Vector512.Create(w6[tap]), v0, a6);
                                a7 = Vector512.FusedMultiplyAdd(Vector512.Create(w7[tap]), v0, a7);
                            }
                        }
                    }
                }
                long rowOffset = (long)y * ow;
                StoreRow(output, o0 + 0, outChannels, oh, ow, rowOffset, a0, b0, low, high, bias, relu);
                StoreRow(output, o0 + 1, outChannels, oh, ow, rowOffset, a1, b1, low, high, bias, relu);
                StoreRow(output, o0 + 2, outChannels, oh, ow, rowOffset, a2, b2, low, high, bias, relu);
                StoreRow(output, o0 + 3, outChannels, oh, ow, rowOffset, a3, b3, low, high, bias, relu);
                if (six)
                {
                    StoreRow(output, o0 + 4, outChannels, oh, ow, rowOffset, a4, b4, low, high, bias, relu);
                    StoreRow(output, o0 + 5, outChannels, oh, ow, rowOffset, a5, b5, low, high, bias, relu);
                }
                if (eight)
                {
                    StoreRow(output, o0 + 6, outChannels, oh, ow, rowOffset, a6, default, low, high, bias, relu);
                    StoreRow(output, o0 + 7, outChannels, oh, ow, rowOffset, a7, default, low, high, bias, relu);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(float* output, int o, int outChannels, int oh, int ow, long rowOffset, Vector512<float> first, Vector512<float> second,
        Vector512<float> low, Vector512<float> high, float* bias, bool relu)
    {
        if (o >= outChannels)
        {
            return;
        }
        if (bias is not null)
        {
            var b = Vector512.Create(bias[o]);
            first += b;
            second += b;
        }
        if (relu)
        {
            first = Vector512.Max(first, Vector512<float>.Zero);
            second = Vector512.Max(second, Vector512<float>.Zero);
        }
        float* target = output + (long)o * oh * ow + rowOffset;
        Avx512F.MaskStore(target, low, first);
        if (ow > 16)
        {
            Avx512F.MaskStore(target + 16, high, second);
        }
    }
}
