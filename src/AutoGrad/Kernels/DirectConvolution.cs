using System.Runtime.CompilerServices;

namespace AutoGrad.Kernels;

/// <summary>
/// Direct convolution of one sample for small images (unit stride and dilation, rows of at most 32 pixels), written
/// once over the vector width: a segment of an output row (one or two vectors of 16 floats, two of 8, up to four of 4)
/// for a register block of output channels lives in vector registers while the kernel taps stream over a
/// zero-padded copy of the input, so there is no column matrix and no packing. Every output element is the same chain
/// of fused multiply-adds over the taps (c, i, j) in order at every width, independent of threads.
/// The adjoints are built from the same pieces: the input gradient is this correlation of the padded output gradient
/// with the flipped, transposed weights; the weight gradient streams rows of the padded input against the output gradient.
/// </summary>
internal static unsafe class DirectConvolution
{
    private const int Slack = 32; // floats read past the end of a padded plane by the last row's vectors

    /// <summary>
    /// Floats that <see cref="WeightGradient"/> may read (never use) past the end of the output gradients it is given:
    /// a row's last vector is loaded whole and masked.
    /// </summary>
    public const int GradientSlack = 16;

    /// <summary>Whether this path handles <paramref name="g"/> (its input gradient included).</summary>
    public static bool Applies(in ConvGeometry g)
        => g is { StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1 }
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
        switch (Simd.Width)
        {
            case 512: Forward<Simd512>(sample, g, weight, outChannels, bias, relu, output, scratch); break;
            case 256: Forward<Simd256>(sample, g, weight, outChannels, bias, relu, output, scratch); break;
            case 128: Forward<Simd128>(sample, g, weight, outChannels, bias, relu, output, scratch); break;
            default: Forward<SimdScalar>(sample, g, weight, outChannels, bias, relu, output, scratch); break;
        }
    }

    /// <summary><see cref="Forward"/> at one width.</summary>
    internal static void Forward<TVec>(ReadOnlySpan<float> sample, in ConvGeometry g, ReadOnlySpan<float> weight, int outChannels,
        ReadOnlySpan<float> bias, bool relu, Span<float> output, Span<float> scratch) where TVec : unmanaged, ISimd<TVec>
    {
        int hp = g.Height + 2 * g.PadH, wp = g.Width + 2 * g.PadW;
        fixed (float* ps = sample, pw = weight, pb = bias, po = output, pp = scratch)
        {
            PaddedPlanes.Pad<TVec>(ps, g.Channels, g.Height, g.Width, g.PadH, g.PadW, pp, Slack);
            Correlate<TVec>(new Correlation<TVec>(pp, g.Channels, hp, wp, g.PadH, g.PadH + g.Height, g.KernelH, g.KernelW, pw, outChannels,
                g.OutHeight, g.OutWidth, bias.IsEmpty ? null : pb, relu, po));
        }
    }

    /// <summary>
    /// sampleGrad [C, H, W] = the gradient of <see cref="Forward"/> with respect to its input, given flippedWeight = the
    /// weight rearranged to [C, O, kh, kw] with both kernel axes reversed.
    /// </summary>
    public static void InputGradient(ReadOnlySpan<float> outputGrad, in ConvGeometry g, ReadOnlySpan<float> flippedWeight, int outChannels,
        Span<float> sampleGrad, Span<float> scratch)
    {
        switch (Simd.Width)
        {
            case 512: InputGradient<Simd512>(outputGrad, g, flippedWeight, outChannels, sampleGrad, scratch); break;
            case 256: InputGradient<Simd256>(outputGrad, g, flippedWeight, outChannels, sampleGrad, scratch); break;
            case 128: InputGradient<Simd128>(outputGrad, g, flippedWeight, outChannels, sampleGrad, scratch); break;
            default: InputGradient<SimdScalar>(outputGrad, g, flippedWeight, outChannels, sampleGrad, scratch); break;
        }
    }

    /// <summary><see cref="InputGradient"/> at one width.</summary>
    internal static void InputGradient<TVec>(ReadOnlySpan<float> outputGrad, in ConvGeometry g, ReadOnlySpan<float> flippedWeight, int outChannels,
        Span<float> sampleGrad, Span<float> scratch) where TVec : unmanaged, ISimd<TVec>
    {
        int padH = g.KernelH - 1 - g.PadH, padW = g.KernelW - 1 - g.PadW;
        int hp = g.OutHeight + 2 * padH, wp = g.OutWidth + 2 * padW;
        fixed (float* pg = outputGrad, pw = flippedWeight, px = sampleGrad, pp = scratch)
        {
            PaddedPlanes.Pad<TVec>(pg, outChannels, g.OutHeight, g.OutWidth, padH, padW, pp, Slack);
            Correlate<TVec>(new Correlation<TVec>(pp, outChannels, hp, wp, padH, padH + g.OutHeight, g.KernelH, g.KernelW, pw, g.Channels,
                g.Height, g.Width, null, false, px));
        }
    }

    /// <summary>
    /// Floats of lane partials <see cref="WeightGradient"/> needs at any width: a vector of up to 16 lanes per (channel,
    /// tap), taps padded to fours, and one channel more for a last block one wider than the channels left (three in a
    /// block of four).
    /// </summary>
    public static int LanePartialsLength(in ConvGeometry g, int outChannels) => (outChannels + 1) * ((g.PatchSize + 3) / 4 * 4) * 16;

    /// <summary>Floats of scratch <see cref="WeightGradient"/> needs for <paramref name="count"/> samples: their padded inputs.</summary>
    public static int WeightScratchLength(in ConvGeometry g, int count) => count * PaddedSampleLength(g) + Slack;

    private static int PaddedSampleLength(in ConvGeometry g) => g.Channels * (g.Height + 2 * g.PadH) * (g.Width + 2 * g.PadW);

    /// <summary>
    /// weightGrad [O, C*kh*kw] = the weight gradient summed over <paramref name="count"/> consecutive samples, given their
    /// output gradients, which must be readable for <see cref="GradientSlack"/> floats past their end. Each register
    /// block runs over every sample before its accumulators are stored once, as per-lane partial sums; the horizontal
    /// additions happen once, in <see cref="ReduceLanes{TVec}"/>.
    /// </summary>
    public static void WeightGradient(ReadOnlySpan<float> samples, int count, in ConvGeometry g, ReadOnlySpan<float> outputGrads, int outChannels,
        Span<float> lanePartials, Span<float> weightGrad, Span<float> scratch)
    {
        switch (Simd.Width)
        {
            case 512: WeightGradient<Simd512>(samples, count, g, outputGrads, outChannels, lanePartials, weightGrad, scratch); break;
            case 256: WeightGradient<Simd256>(samples, count, g, outputGrads, outChannels, lanePartials, weightGrad, scratch); break;
            case 128: WeightGradient<Simd128>(samples, count, g, outputGrads, outChannels, lanePartials, weightGrad, scratch); break;
            default: WeightGradient<SimdScalar>(samples, count, g, outputGrads, outChannels, lanePartials, weightGrad, scratch); break;
        }
    }

    /// <summary><see cref="WeightGradient"/> at one width.</summary>
    internal static void WeightGradient<TVec>(ReadOnlySpan<float> samples, int count, in ConvGeometry g, ReadOnlySpan<float> outputGrads, int outChannels,
        Span<float> lanePartials, Span<float> weightGrad, Span<float> scratch) where TVec : unmanaged, ISimd<TVec>
    {
        int needed = count * outChannels * g.OutPlane + GradientSlack;
        if (outputGrads.Length < needed)
        {
            throw new ArgumentException($"DirectConvolution.WeightGradient: {outputGrads.Length} floats of output gradient, needs {needed} "
                + $"({count} samples of [{outChannels}, {g.OutHeight}, {g.OutWidth}] and {GradientSlack} readable after them).");
        }
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
                PaddedPlanes.Pad<TVec>(ps + (long)s * g.SampleSize, g.Channels, g.Height, g.Width, g.PadH, g.PadW, pp + (long)s * padded, Slack);
            }
            var block = new WeightBlocks<TVec>(pp, padded, count, po, wp, g, pg, outChannels, paddedTaps * TVec.Count);
            for (int o0 = 0; o0 < outChannels;)
            {
                // blocks of four channels; the last five or six (LeNet's six) as one block, one or two as a block of two;
                // with 16 registers always two (8 accumulators: four channels or six would spill)
                int rest = outChannels - o0, width = TVec.Registers < 32 || rest <= 2 ? 2 : rest is 5 or 6 ? 6 : 4;
                for (int t0 = 0; t0 < taps; t0 += 4)
                {
                    float* lanes = pl + ((long)o0 * paddedTaps + t0) * TVec.Count;
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
            ReduceLanes<TVec>(pl, g, outChannels, weightGrad);
        }
    }

    /// <summary>weightGrad [O, C*kh*kw] = the horizontal sums of the lane partials.</summary>
    private static void ReduceLanes<TVec>(float* lanePartials, in ConvGeometry g, int outChannels, Span<float> weightGrad) where TVec : unmanaged, ISimd<TVec>
    {
        int taps = g.PatchSize, paddedTaps = (taps + 3) / 4 * 4;
        for (int o = 0; o < outChannels; o++)
        {
            for (int t = 0; t < taps; t++)
            {
                weightGrad[o * taps + t] = TVec.Sum(TVec.Load(lanePartials + (o * paddedTaps + t) * TVec.Count));
            }
        }
    }

    /// <summary>
    /// Two, four or six output channels times four taps: dot products over the output pixels of every sample, each
    /// pair of loads feeding several multiply-adds (six channels: ten loads for 24; two: six for eight). Rows are taken a vector at a time,
    /// the last one masked, so lanes past the row are zero in both factors. Channels past the end (a block of two for
    /// one) repeat the last one and taps past the end the last tap; <see cref="ReduceLanes{TVec}"/> never reads them.
    /// </summary>
    private readonly struct WeightBlocks<TVec>(float* padded, int paddedLength, int count, int* offsets, int wp, ConvGeometry g, float* outputGrads,
        int outChannels, int channelStride) where TVec : unmanaged, ISimd<TVec>
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run<TBlock>(int o0, int t0, float* lanes) where TBlock : struct, ICount
        {
            int oh = g.OutHeight, ow = g.OutWidth, plane = oh * ow, taps = g.PatchSize, w = TVec.Count;
            long o1 = Math.Min(o0 + 1, outChannels - 1), o2 = Math.Min(o0 + 2, outChannels - 1), o3 = Math.Min(o0 + 3, outChannels - 1);
            long o4 = Math.Min(o0 + 4, outChannels - 1), o5 = Math.Min(o0 + 5, outChannels - 1);
            int x1 = offsets[Math.Min(t0 + 1, taps - 1)], x2 = offsets[Math.Min(t0 + 2, taps - 1)], x3 = offsets[Math.Min(t0 + 3, taps - 1)];
            TVec a00 = default, a01 = default, a02 = default, a03 = default, a10 = default, a11 = default, a12 = default, a13 = default;
            TVec a20 = default, a21 = default, a22 = default, a23 = default, a30 = default, a31 = default, a32 = default, a33 = default;
            TVec a40 = default, a41 = default, a42 = default, a43 = default, a50 = default, a51 = default, a52 = default, a53 = default;
            var full = TVec.FirstLanes(w);
            var last = TVec.FirstLanes(ow - (ow - 1) / w * w);
            for (int s = 0; s < count; s++)
            {
                float* gy = outputGrads + (long)s * outChannels * plane, input = padded + (long)s * paddedLength;
                float* d0 = gy + (long)o0 * plane, d1 = gy + o1 * plane, d2 = gy + o2 * plane, d3 = gy + o3 * plane;
                float* d4 = gy + o4 * plane, d5 = gy + o5 * plane;
                float* p0 = input + offsets[t0], p1 = input + x1, p2 = input + x2, p3 = input + x3;
                for (int y = 0; y < oh; y++)
                {
                    for (int chunk = 0; chunk < ow; chunk += w)
                    {
                        var mask = chunk + w < ow ? full : last;
                        long dy = (long)y * ow + chunk, dx = (long)y * wp + chunk;
                        var v0 = TVec.Load(p0 + dx) & mask;
                        var v1 = TVec.Load(p1 + dx) & mask;
                        var v2 = TVec.Load(p2 + dx) & mask;
                        var v3 = TVec.Load(p3 + dx) & mask;
                        var u = TVec.Load(d0 + dy) & mask;
                        a00 = TVec.FusedMultiplyAdd(u, v0, a00); a01 = TVec.FusedMultiplyAdd(u, v1, a01);
                        a02 = TVec.FusedMultiplyAdd(u, v2, a02); a03 = TVec.FusedMultiplyAdd(u, v3, a03);
                        u = TVec.Load(d1 + dy) & mask;
                        a10 = TVec.FusedMultiplyAdd(u, v0, a10); a11 = TVec.FusedMultiplyAdd(u, v1, a11);
                        a12 = TVec.FusedMultiplyAdd(u, v2, a12); a13 = TVec.FusedMultiplyAdd(u, v3, a13);
                        if (TBlock.Value > 2)
                        {
                            u = TVec.Load(d2 + dy) & mask;
                            a20 = TVec.FusedMultiplyAdd(u, v0, a20); a21 = TVec.FusedMultiplyAdd(u, v1, a21);
                            a22 = TVec.FusedMultiplyAdd(u, v2, a22); a23 = TVec.FusedMultiplyAdd(u, v3, a23);
                            u = TVec.Load(d3 + dy) & mask;
                            a30 = TVec.FusedMultiplyAdd(u, v0, a30); a31 = TVec.FusedMultiplyAdd(u, v1, a31);
                            a32 = TVec.FusedMultiplyAdd(u, v2, a32); a33 = TVec.FusedMultiplyAdd(u, v3, a33);
                        }
                        if (TBlock.Value > 4)
                        {
                            u = TVec.Load(d4 + dy) & mask;
                            a40 = TVec.FusedMultiplyAdd(u, v0, a40); a41 = TVec.FusedMultiplyAdd(u, v1, a41);
                            a42 = TVec.FusedMultiplyAdd(u, v2, a42); a43 = TVec.FusedMultiplyAdd(u, v3, a43);
                            u = TVec.Load(d5 + dy) & mask;
                            a50 = TVec.FusedMultiplyAdd(u, v0, a50); a51 = TVec.FusedMultiplyAdd(u, v1, a51);
                            a52 = TVec.FusedMultiplyAdd(u, v2, a52); a53 = TVec.FusedMultiplyAdd(u, v3, a53);
                        }
                    }
                }
            }
            // the block's channel r, tap t0 + c goes to lanes + r * channelStride + c * w
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
        private static void StoreFour(float* target, TVec t0, TVec t1, TVec t2, TVec t3)
        {
            TVec.Store(t0, target);
            TVec.Store(t1, target + TVec.Count);
            TVec.Store(t2, target + 2 * TVec.Count);
            TVec.Store(t3, target + 3 * TVec.Count);
        }
    }

    /// <summary>
    /// output [O, oh, ow] = sum over (c, i, j) of weight[o, c, i, j] * padded[c, y + i, x + j], one segment of an output
    /// row and a register block of output channels at a time. A segment is as many vectors as the row needs, at most
    /// two (with 16-float vectors or 16 registers) or four (4- or 8-float vectors and 32 registers); one-vector segments
    /// take eight channels, two-vector ones eight with 32 registers (16 accumulators: enough independent chains to keep
    /// both multiply-add units busy, where four channels left them waiting), longer ones six or four, so that
    /// accumulators, the segment's vectors and a broadcast weight fit the register file. Where the channels do not
    /// fill the last block, a narrower one (six or four) takes them, so LeNet's six channels are not computed as eight.
    /// </summary>
    private static void Correlate<TVec>(Correlation<TVec> block) where TVec : unmanaged, ISimd<TVec>
    {
        int w = TVec.Count, rowVectors = (block.OutWidth + w - 1) / w;
        int segment = Math.Min(rowVectors, w >= 16 || TVec.Registers < 32 ? 2 : 4);
        for (int o0 = 0; o0 < block.OutChannels;)
        {
            int rest = block.OutChannels - o0;
            if (segment == 1)
            {
                int width = rest >= 7 ? 8 : rest >= 5 ? 6 : 4;
                switch (width)
                {
                    case 8: block.Run<Eight, One>(o0); break;
                    case 6: block.Run<Six, One>(o0); break;
                    default: block.Run<Four, One>(o0); break;
                }
                o0 += width;
            }
            else if (segment == 2 && TVec.Registers >= 32 && rest >= 7)
            {
                block.Run<Eight, Two>(o0); // 16 accumulators, the segment's 2 vectors and a broadcast of the 32 registers
                o0 += 8;
            }
            else if (rest is 5 or 6 || rest > 6 && segment > 2)
            {
                RunSegments<TVec, Six>(block, o0, segment);
                o0 += 6;
            }
            else
            {
                RunSegments<TVec, Four>(block, o0, segment);
                o0 += 4;
            }
        }
    }

    private static void RunSegments<TVec, TBlock>(Correlation<TVec> block, int o0, int segment) where TVec : unmanaged, ISimd<TVec> where TBlock : struct, ICount
    {
        switch (segment)
        {
            case 2: block.Run<TBlock, Two>(o0); break;
            case 3: block.Run<TBlock, Three>(o0); break;
            default: block.Run<TBlock, Four>(o0); break;
        }
    }

    /// <summary>
    /// One correlation (<see cref="Correlate{TVec}"/>'s arguments) run one register block of output channels at a time:
    /// the block's width and the vectors per segment are types, so the accumulators a smaller block does not use compile
    /// away. Lanes past the row read neighbouring values and are never stored. Padded rows outside [top, bottom) are all
    /// zeros and are skipped.
    /// </summary>
    private readonly struct Correlation<TVec>(float* padded, int channels, int hp, int wp, int top, int bottom, int kh, int kw, float* weight,
        int outChannels, int oh, int ow, float* bias, bool relu, float* output) where TVec : unmanaged, ISimd<TVec>
    {
        public int OutChannels => outChannels;

        public int OutWidth => ow;

        /// <summary>The weights of output channel <paramref name="o"/>, the last one for channels past the end.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private float* WeightsOf(int o) => weight + (long)Math.Min(o, outChannels - 1) * channels * kh * kw;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private float* OutputRow(int o, int y) => output + ((long)Math.Min(o, outChannels - 1) * oh + y) * ow;

        /// <summary>Output channels [o0, o0 + TBlock.Value), segments of TRow.Value vectors.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run<TBlock, TRow>(int o0) where TBlock : struct, ICount where TRow : struct, ICount
        {
            int w = TVec.Count, segment = TRow.Value * w;
            float* w0 = WeightsOf(o0), w1 = WeightsOf(o0 + 1), w2 = WeightsOf(o0 + 2), w3 = WeightsOf(o0 + 3);
            float* w4 = WeightsOf(o0 + 4), w5 = WeightsOf(o0 + 5), w6 = WeightsOf(o0 + 6), w7 = WeightsOf(o0 + 7);
            for (int y = 0; y < oh; y++)
            {
                for (int x0 = 0; x0 < ow; x0 += segment)
                {
                    int pixels = Math.Min(segment, ow - x0);
                    TVec a00 = default, a01 = default, a02 = default, a03 = default;
                    TVec a10 = default, a11 = default, a12 = default, a13 = default;
                    TVec a20 = default, a21 = default, a22 = default, a23 = default;
                    TVec a30 = default, a31 = default, a32 = default, a33 = default;
                    TVec a40 = default, a41 = default, a42 = default, a43 = default;
                    TVec a50 = default, a51 = default, a52 = default, a53 = default;
                    TVec a60 = default, a61 = default, a62 = default, a63 = default;
                    TVec a70 = default, a71 = default, a72 = default, a73 = default;
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
                            float* row = padded + ((long)c * hp + y + i) * wp + x0;
                            for (int j = 0; j < kw; j++, tap++)
                            {
                                    var v0 = TVec.Load(row + j);
                                    var v1 = TRow.Value > 1 ? TVec.Load(row + j + 1 * w) : default;
                                    var v2 = TRow.Value > 2 ? TVec.Load(row + j + 2 * w) : default;
                                    var v3 = TRow.Value > 3 ? TVec.Load(row + j + 3 * w) : default;
                                    var t0 = TVec.Create(w0[tap]);
                                    a00 = TVec.FusedMultiplyAdd(t0, v0, a00);
                                    a01 = TRow.Value > 1 ? TVec.FusedMultiplyAdd(t0, v1, a01) : a01;
                                    a02 = TRow.Value > 2 ? TVec.FusedMultiplyAdd(t0, v2, a02) : a02;
                                    a03 = TRow.Value > 3 ? TVec.FusedMultiplyAdd(t0, v3, a03) : a03;
                                    if (TBlock.Value > 1)
                                    {
                                        var t1 = TVec.Create(w1[tap]);
                                        a10 = TVec.FusedMultiplyAdd(t1, v0, a10);
                                        a11 = TRow.Value > 1 ? TVec.FusedMultiplyAdd(t1, v1, a11) : a11;
                                        a12 = TRow.Value > 2 ? TVec.FusedMultiplyAdd(t1, v2, a12) : a12;
                                        a13 = TRow.Value > 3 ? TVec.FusedMultiplyAdd(t1, v3, a13) : a13;
                                    }
                                    if (TBlock.Value > 2)
                                    {
                                        var t2 = TVec.Create(w2[tap]);
                                        a20 = TVec.FusedMultiplyAdd(t2, v0, a20);
                                        a21 = TRow.Value > 1 ? TVec.FusedMultiplyAdd(t2, v1, a21) : a21;
                                        a22 = TRow.Value > 2 ? TVec.FusedMultiplyAdd(t2, v2, a22) : a22;
                                        a23 = TRow.Value > 3 ? TVec.FusedMultiplyAdd(t2, v3, a23) : a23;
                                    }
                                    if (TBlock.Value > 3)
                                    {
                                        var t3 = TVec.Create(w3[tap]);
                                        a30 = TVec.FusedMultiplyAdd(t3, v0, a30);
                                        a31 = TRow.Value > 1 ? TVec.FusedMultiplyAdd(t3, v1, a31) : a31;
                                        a32 = TRow.Value > 2 ? TVec.FusedMultiplyAdd(t3, v2, a32) : a32;
                                        a33 = TRow.Value > 3 ? TVec.FusedMultiplyAdd(t3, v3, a33) : a33;
                                    }
                                    if (TBlock.Value > 4)
                                    {
                                        var t4 = TVec.Create(w4[tap]);
                                        a40 = TVec.FusedMultiplyAdd(t4, v0, a40);
                                        a41 = TRow.Value > 1 ? TVec.FusedMultiplyAdd(t4, v1, a41) : a41;
                                        a42 = TRow.Value > 2 ? TVec.FusedMultiplyAdd(t4, v2, a42) : a42;
                                        a43 = TRow.Value > 3 ? TVec.FusedMultiplyAdd(t4, v3, a43) : a43;
                                    }
                                    if (TBlock.Value > 5)
                                    {
                                        var t5 = TVec.Create(w5[tap]);
                                        a50 = TVec.FusedMultiplyAdd(t5, v0, a50);
                                        a51 = TRow.Value > 1 ? TVec.FusedMultiplyAdd(t5, v1, a51) : a51;
                                        a52 = TRow.Value > 2 ? TVec.FusedMultiplyAdd(t5, v2, a52) : a52;
                                        a53 = TRow.Value > 3 ? TVec.FusedMultiplyAdd(t5, v3, a53) : a53;
                                    }
                                    if (TBlock.Value > 6)
                                    {
                                        var t6 = TVec.Create(w6[tap]);
                                        a60 = TVec.FusedMultiplyAdd(t6, v0, a60);
                                        a61 = TRow.Value > 1 ? TVec.FusedMultiplyAdd(t6, v1, a61) : a61;
                                        a62 = TRow.Value > 2 ? TVec.FusedMultiplyAdd(t6, v2, a62) : a62;
                                        a63 = TRow.Value > 3 ? TVec.FusedMultiplyAdd(t6, v3, a63) : a63;
                                    }
                                    if (TBlock.Value > 7)
                                    {
                                        var t7 = TVec.Create(w7[tap]);
                                        a70 = TVec.FusedMultiplyAdd(t7, v0, a70);
                                        a71 = TRow.Value > 1 ? TVec.FusedMultiplyAdd(t7, v1, a71) : a71;
                                        a72 = TRow.Value > 2 ? TVec.FusedMultiplyAdd(t7, v2, a72) : a72;
                                        a73 = TRow.Value > 3 ? TVec.FusedMultiplyAdd(t7, v3, a73) : a73;
                                    }
                            }
                        }
                    }
                    StoreSegment<TRow>(OutputRow(o0 + 0, y) + x0, pixels, o0 + 0, a00, a01, a02, a03);
                    if (TBlock.Value > 1) StoreSegment<TRow>(OutputRow(o0 + 1, y) + x0, pixels, o0 + 1, a10, a11, a12, a13);
                    if (TBlock.Value > 2) StoreSegment<TRow>(OutputRow(o0 + 2, y) + x0, pixels, o0 + 2, a20, a21, a22, a23);
                    if (TBlock.Value > 3) StoreSegment<TRow>(OutputRow(o0 + 3, y) + x0, pixels, o0 + 3, a30, a31, a32, a33);
                    if (TBlock.Value > 4) StoreSegment<TRow>(OutputRow(o0 + 4, y) + x0, pixels, o0 + 4, a40, a41, a42, a43);
                    if (TBlock.Value > 5) StoreSegment<TRow>(OutputRow(o0 + 5, y) + x0, pixels, o0 + 5, a50, a51, a52, a53);
                    if (TBlock.Value > 6) StoreSegment<TRow>(OutputRow(o0 + 6, y) + x0, pixels, o0 + 6, a60, a61, a62, a63);
                    if (TBlock.Value > 7) StoreSegment<TRow>(OutputRow(o0 + 7, y) + x0, pixels, o0 + 7, a70, a71, a72, a73);
                }
            }
        }

        /// <summary>
        /// Stores the first <paramref name="pixels"/> of a channel's segment (plus its bias, then max(0, .) with ReLU);
        /// nothing for a channel past the end.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void StoreSegment<TRow>(float* target, int pixels, int o, TVec s0, TVec s1, TVec s2, TVec s3) where TRow : struct, ICount
        {
            if (o >= outChannels)
            {
                return;
            }
            int w = TVec.Count;
            var b = bias is null ? TVec.Zero : TVec.Create(bias[o]);
            StoreVector(target, pixels, b, s0);
            if (TRow.Value > 1)
            {
                StoreVector(target + w, pixels - w, b, s1);
            }
            if (TRow.Value > 2)
            {
                StoreVector(target + 2 * w, pixels - 2 * w, b, s2);
            }
            if (TRow.Value > 3)
            {
                StoreVector(target + 3 * w, pixels - 3 * w, b, s3);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void StoreVector(float* target, int lanes, TVec b, TVec sum)
        {
            sum += b;
            if (relu)
            {
                sum = TVec.Max(sum, TVec.Zero);
            }
            if (lanes >= TVec.Count)
            {
                TVec.Store(sum, target);
            }
            else if (lanes > 0)
            {
                TVec.StoreFirst(sum, target, lanes);
            }
        }
    }
}
