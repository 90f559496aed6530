using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AutoGrad.Kernels;

/// <summary>
/// Direct convolution with the vector lanes across 16 output channels, for layers whose output channels come in
/// sixteens (the geometries of <see cref="DirectConvolution"/>, AVX-512). With pixels in the lanes a row of 10 pixels
/// leaves 6 of 16 lanes idle; with channels in the lanes every multiply-add is useful work, whatever the image width.
/// The forward and the weight gradient are one tile: sums, for a block of rows x columns of the zero-padded input, of a
/// stream of 16-channel vectors each times one broadcast input value.
/// <list type="bullet">
/// <item>forward: the stream runs over the kernel taps (vector: the tap's weights for 16 channels) and the tile is a
/// block of output pixels;</item>
/// <item>weight gradient: the stream runs over the output pixels of a group of samples (vector: their output gradient
/// for 16 channels) and the tile is a block of taps.</item>
/// </list>
/// Each output element is one chain of fused multiply-adds in a fixed order, independent of threads.
/// </summary>
internal static unsafe class ChannelLanes
{
    /// <summary>Output channels per vector.</summary>
    public const int Lanes = 16;

    // A tile holds at most 4 rows of 8 columns and 24 accumulators (with the stream vector, 25 of the 32 registers).
    private const int MaxRows = 4, MaxColumns = 8, MaxAccumulators = 24;

    /// <summary>Whether these kernels handle <paramref name="g"/> with <paramref name="outChannels"/> output channels.</summary>
    public static bool Applies(in ConvGeometry g, int outChannels)
        => DirectConvolution.Applies(g) && outChannels % Lanes == 0 && g.KernelW <= MaxColumns;

    /// <summary>
    /// Whether <see cref="Forward"/> pays for <paramref name="g"/>: a forward tile streams over the taps, and below about
    /// 64 of them (one input channel, 5 x 5) its set-up and the transposes cost more than the idle lanes they save
    /// (measured: LeNet's second layer, 150 taps, 1.35x faster; 25 taps, 1.6x slower).
    /// </summary>
    public static bool PaysForForward(in ConvGeometry g, int outChannels) => Applies(g, outChannels) && g.PatchSize >= 64;

    /// <summary>The weight [O, C*kh*kw] as the forward's stream: [O/16, C*kh*kw, 16], the 16 channels of a tap side by side.</summary>
    public static void PrepareWeights(ReadOnlySpan<float> weight, int outChannels, int taps, Span<float> lanes)
    {
        for (int block = 0; block < outChannels / Lanes; block++)
        {
            for (int t = 0; t < taps; t++)
            {
                for (int l = 0; l < Lanes; l++)
                {
                    lanes[(block * taps + t) * Lanes + l] = weight[(block * Lanes + l) * taps + t];
                }
            }
        }
    }

    /// <summary>Floats of scratch <see cref="Forward"/> needs: a padded sample and one channel block's output by pixel.</summary>
    public static int ForwardScratchLength(in ConvGeometry g) => PaddedSampleLength(g) + g.OutPlane * Lanes;

    /// <summary>
    /// outputs [count, O, OH, OW] = conv(samples [count, C, H, W], weight) + bias, then max(0, .) when
    /// <paramref name="relu"/>, given the weights from <see cref="PrepareWeights"/>.
    /// </summary>
    public static void Forward(ReadOnlySpan<float> samples, int count, in ConvGeometry g, ReadOnlySpan<float> weightLanes, int outChannels,
        ReadOnlySpan<float> bias, bool relu, Span<float> outputs, Span<float> scratch)
    {
        int wp = g.Width + 2 * g.PadW, oh = g.OutHeight, ow = g.OutWidth, plane = oh * ow, taps = g.PatchSize;
        var rented = taps <= 4096 ? null : Buffers.BufferPool.RentInts(taps);
        var tapOffsets = rented is null ? stackalloc int[taps] : rented.AsSpan(0, taps);
        TapOffsets(g, tapOffsets);
        // output rows four at a time; each row in near-equal chunks of at most 6 pixels (4 x 6 = 24 accumulators)
        int chunks = (ow + 5) / 6, chunk = (ow + chunks - 1) / chunks;
        Span<int> rowOffsets = [0, wp, 2 * wp, 3 * wp];
        fixed (float* ps = samples, pw = weightLanes, pb = bias, po = outputs, pp = scratch)
        fixed (int* pt = tapOffsets, pr = rowOffsets)
        {
            float* byPixel = pp + PaddedSampleLength(g); // [OH*OW, 16]
            for (int s = 0; s < count; s++)
            {
                PaddedPlanes.Pad(ps + (long)s * g.SampleSize, g.Channels, g.Height, g.Width, g.PadH, g.PadW, pp);
                for (int block = 0; block < outChannels / Lanes; block++)
                {
                    for (int y0 = 0; y0 < oh; y0 += MaxRows)
                    {
                        for (int x0 = 0; x0 < ow; x0 += chunk)
                        {
                            RunTile(Math.Min(MaxRows, oh - y0), Math.Min(chunk, ow - x0), pp + y0 * wp + x0, pr, pw + (long)block * taps * Lanes, pt, taps,
                                byPixel + ((long)y0 * ow + x0) * Lanes, (long)ow * Lanes);
                        }
                    }
                    var b = pb is null ? Vector512<float>.Zero : Vector512.Load(pb + block * Lanes);
                    for (int p = 0; p < plane; p++)
                    {
                        var v = Vector512.Load(byPixel + p * Lanes) + b;
                        Vector512.Store(relu ? Vector512.Max(v, Vector512<float>.Zero) : v, byPixel + p * Lanes);
                    }
                    Transpose(byPixel, Lanes, po + ((long)s * outChannels + block * Lanes) * plane, plane, plane, Lanes);
                }
            }
        }
        Buffers.BufferPool.ReturnInts(rented);
    }

    /// <summary>Floats of scratch <see cref="WeightGradient"/> needs for <paramref name="count"/> samples.</summary>
    public static int WeightScratchLength(in ConvGeometry g, int count, int outChannels)
        => count * PaddedSampleLength(g) + count * g.OutPlane * outChannels + g.PatchSize * Lanes;

    /// <summary>
    /// weightGrad [O, C*kh*kw] = the weight gradient summed over <paramref name="count"/> consecutive samples, given their
    /// output gradients [count, O, OH, OW].
    /// </summary>
    public static void WeightGradient(ReadOnlySpan<float> samples, int count, in ConvGeometry g, ReadOnlySpan<float> outputGrads, int outChannels,
        Span<float> weightGrad, Span<float> scratch)
    {
        int hp = g.Height + 2 * g.PadH, wp = g.Width + 2 * g.PadW, oh = g.OutHeight, ow = g.OutWidth, plane = oh * ow;
        int kw = g.KernelW, kernelRows = g.Channels * g.KernelH, taps = g.PatchSize, pixels = count * plane;
        int padded = PaddedSampleLength(g);
        var rented = pixels <= 4096 ? null : Buffers.BufferPool.RentInts(pixels);
        var pixelOffsets = rented is null ? stackalloc int[pixels] : rented.AsSpan(0, pixels);
        for (int s = 0, k = 0; s < count; s++)
        {
            for (int y = 0; y < oh; y++)
            {
                for (int x = 0; x < ow; x++, k++)
                {
                    pixelOffsets[k] = s * padded + y * wp + x;
                }
            }
        }
        // the tile's rows are kernel rows (c, i); its columns the taps j of a row
        var rowOffsets = kernelRows <= 1024 ? stackalloc int[kernelRows] : new int[kernelRows];
        for (int r = 0; r < kernelRows; r++)
        {
            rowOffsets[r] = (r / g.KernelH * hp + r % g.KernelH) * wp;
        }
        int rowsPerTile = Math.Min(MaxRows, MaxAccumulators / kw);
        fixed (float* ps = samples, pg = outputGrads, pw = weightGrad, pp = scratch)
        fixed (int* pk = pixelOffsets, pr = rowOffsets)
        {
            for (int s = 0; s < count; s++)
            {
                PaddedPlanes.Pad(ps + (long)s * g.SampleSize, g.Channels, g.Height, g.Width, g.PadH, g.PadW, pp + (long)s * padded);
            }
            float* byPixel = pp + (long)count * padded; // [O/16, count * OH*OW, 16]
            float* byTap = byPixel + (long)outChannels * pixels; // [C*kh*kw, 16]
            for (int block = 0; block < outChannels / Lanes; block++)
            {
                for (int s = 0; s < count; s++)
                {
                    Transpose(pg + ((long)s * outChannels + block * Lanes) * plane, plane, byPixel + ((long)block * pixels + s * plane) * Lanes, Lanes,
                        Lanes, plane);
                }
            }
            for (int block = 0; block < outChannels / Lanes; block++)
            {
                for (int r0 = 0; r0 < kernelRows; r0 += rowsPerTile)
                {
                    // the tile's rows of kw taps land side by side: byTap in tap order
                    RunTile(Math.Min(rowsPerTile, kernelRows - r0), kw, pp, pr + r0, byPixel + (long)block * pixels * Lanes, pk, pixels,
                        byTap + (long)r0 * kw * Lanes, (long)kw * Lanes);
                }
                Transpose(byTap, Lanes, pw + (long)block * Lanes * taps, taps, taps, Lanes);
            }
        }
        Buffers.BufferPool.ReturnInts(rented);
    }

    private static int PaddedSampleLength(in ConvGeometry g) => g.Channels * (g.Height + 2 * g.PadH) * (g.Width + 2 * g.PadW);

    /// <summary>Where each tap (c, i, j) starts reading the padded input.</summary>
    private static void TapOffsets(in ConvGeometry g, Span<int> offsets)
    {
        int hp = g.Height + 2 * g.PadH, wp = g.Width + 2 * g.PadW, kernel = g.KernelH * g.KernelW;
        for (int t = 0; t < offsets.Length; t++)
        {
            offsets[t] = (t / kernel * hp + t / g.KernelW % g.KernelH) * wp + t % g.KernelW;
        }
    }

    /// <summary>
    /// target [columns, rows] = the transpose of source [rows, columns] (rows <paramref name="sourceStride"/> and
    /// <paramref name="targetStride"/> floats apart), one side of which is 16: register transposes of 16 x 16 blocks
    /// along the other side, then the leftover rows or columns one value at a time.
    /// </summary>
    private static void Transpose(float* source, long sourceStride, float* target, long targetStride, int rows, int columns)
    {
        bool wide = rows == Lanes; // 16 rows of many columns (else many rows of 16)
        int length = wide ? columns : rows, k = 0;
        for (; k <= length - Lanes; k += Lanes)
        {
            if (wide)
            {
                Transpose16(source + k, sourceStride, target + k * targetStride, targetStride);
            }
            else
            {
                Transpose16(source + k * sourceStride, sourceStride, target + k, targetStride);
            }
        }
        for (int r = wide ? 0 : k; r < rows; r++)
        {
            for (int c = wide ? k : 0; c < columns; c++)
            {
                target[c * targetStride + r] = source[r * sourceStride + c];
            }
        }
    }

    // Index vectors of the 16 x 16 transpose: stage b swaps bit b of the row and column index (see Transpose16).
    private static readonly Vector512<int> Low8 = SwapIndices(8, false), High8 = SwapIndices(8, true);
    private static readonly Vector512<int> Low4 = SwapIndices(4, false), High4 = SwapIndices(4, true);
    private static readonly Vector512<int> Low2 = SwapIndices(2, false), High2 = SwapIndices(2, true);
    private static readonly Vector512<int> Low1 = SwapIndices(1, false), High1 = SwapIndices(1, true);

    /// <summary>
    /// The lanes of rows i and i + b (bit b of i clear) after swapping their off-diagonal b x b blocks: row i keeps the
    /// lanes without bit b and takes row i + b's lanes shifted up by b; row i + b the other way round.
    /// </summary>
    private static Vector512<int> SwapIndices(int b, bool high)
    {
        var indices = new int[Lanes];
        for (int c = 0; c < Lanes; c++)
        {
            bool own = (c & b) == 0;
            indices[c] = high ? (own ? c + b : Lanes + c) : (own ? c : Lanes + c - b);
        }
        return Vector512.Create(indices);
    }

    /// <summary>
    /// target's 16 rows of 16 (<paramref name="targetStride"/> apart) = the transpose of source's: four stages of
    /// two-source permutes, each swapping one bit of the row and column index, all in registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose16(float* source, long sourceStride, float* target, long targetStride)
    {
        Vector512<float> r0 = Vector512.Load(source + 0 * sourceStride), r1 = Vector512.Load(source + 1 * sourceStride), r2 = Vector512.Load(source + 2 * sourceStride), r3 = Vector512.Load(source + 3 * sourceStride);
        Vector512<float> r4 = Vector512.Load(source + 4 * sourceStride), r5 = Vector512.Load(source + 5 * sourceStride), r6 = Vector512.Load(source + 6 * sourceStride), r7 = Vector512.Load(source + 7 * sourceStride);
        Vector512<float> r8 = Vector512.Load(source + 8 * sourceStride), r9 = Vector512.Load(source + 9 * sourceStride), r10 = Vector512.Load(source + 10 * sourceStride), r11 = Vector512.Load(source + 11 * sourceStride);
        Vector512<float> r12 = Vector512.Load(source + 12 * sourceStride), r13 = Vector512.Load(source + 13 * sourceStride), r14 = Vector512.Load(source + 14 * sourceStride), r15 = Vector512.Load(source + 15 * sourceStride);
        // swap the off-diagonal 8 x 8 blocks of each 16 x 16 block
        (r0, r8) = (Avx512F.PermuteVar16x32x2(r0, Low8, r8), Avx512F.PermuteVar16x32x2(r0, High8, r8));
        (r1, r9) = (Avx512F.PermuteVar16x32x2(r1, Low8, r9), Avx512F.PermuteVar16x32x2(r1, High8, r9));
        (r2, r10) = (Avx512F.PermuteVar16x32x2(r2, Low8, r10), Avx512F.PermuteVar16x32x2(r2, High8, r10));
        (r3, r11) = (Avx512F.PermuteVar16x32x2(r3, Low8, r11), Avx512F.PermuteVar16x32x2(r3, High8, r11));
        (r4, r12) = (Avx512F.PermuteVar16x32x2(r4, Low8, r12), Avx512F.PermuteVar16x32x2(r4, High8, r12));
        (r5, r13) = (Avx512F.PermuteVar16x32x2(r5, Low8, r13), Avx512F.PermuteVar16x32x2(r5, High8, r13));
        (r6, r14) = (Avx512F.PermuteVar16x32x2(r6, Low8, r14), Avx512F.PermuteVar16x32x2(r6, High8, r14));
        (r7, r15) = (Avx512F.PermuteVar16x32x2(r7, Low8, r15), Avx512F.PermuteVar16x32x2(r7, High8, r15));
        // swap the off-diagonal 4 x 4 blocks of each 8 x 8 block
        (r0, r4) = (Avx512F.PermuteVar16x32x2(r0, Low4, r4), Avx512F.PermuteVar16x32x2(r0, High4, r4));
        (r1, r5) = (Avx512F.PermuteVar16x32x2(r1, Low4, r5), Avx512F.PermuteVar16x32x2(r1, High4, r5));
        (r2, r6) = (Avx512F.PermuteVar16x32x2(r2, Low4, r6), Avx512F.PermuteVar16x32x2(r2, High4, r6));
        (r3, r7) = (Avx512F.PermuteVar16x32x2(r3, Low4, r7), Avx512F.PermuteVar16x32x2(r3, High4, r7));
        (r8, r12) = (Avx512F.PermuteVar16x32x2(r8, Low4, r12), Avx512F.PermuteVar16x32x2(r8, High4, r12));
        (r9, r13) = (Avx512F.PermuteVar16x32x2(r9, Low4, r13), Avx512F.PermuteVar16x32x2(r9, High4, r13));
        (r10, r14) = (Avx512F.PermuteVar16x32x2(r10, Low4, r14), Avx512F.PermuteVar16x32x2(r10, High4, r14));
        (r11, r15) = (Avx512F.PermuteVar16x32x2(r11, Low4, r15), Avx512F.PermuteVar16x32x2(r11, High4, r15));
        // swap the off-diagonal 2 x 2 blocks of each 4 x 4 block
        (r0, r2) = (Avx512F.PermuteVar16x32x2(r0, Low2, r2), Avx512F.PermuteVar16x32x2(r0, High2, r2));
        (r1, r3) = (Avx512F.PermuteVar16x32x2(r1, Low2, r3), Avx512F.PermuteVar16x32x2(r1, High2, r3));
        (r4, r6) = (Avx512F.PermuteVar16x32x2(r4, Low2, r6), Avx512F.PermuteVar16x32x2(r4, High2, r6));
        (r5, r7) = (Avx512F.PermuteVar16x32x2(r5, Low2, r7), Avx512F.PermuteVar16x32x2(r5, High2, r7));
        (r8, r10) = (Avx512F.PermuteVar16x32x2(r8, Low2, r10), Avx512F.PermuteVar16x32x2(r8, High2, r10));
        (r9, r11) = (Avx512F.PermuteVar16x32x2(r9, Low2, r11), Avx512F.PermuteVar16x32x2(r9, High2, r11));
        (r12, r14) = (Avx512F.PermuteVar16x32x2(r12, Low2, r14), Avx512F.PermuteVar16x32x2(r12, High2, r14));
        (r13, r15) = (Avx512F.PermuteVar16x32x2(r13, Low2, r15), Avx512F.PermuteVar16x32x2(r13, High2, r15));
        // swap the off-diagonal 1 x 1 blocks of each 2 x 2 block
        (r0, r1) = (Avx512F.PermuteVar16x32x2(r0, Low1, r1), Avx512F.PermuteVar16x32x2(r0, High1, r1));
        (r2, r3) = (Avx512F.PermuteVar16x32x2(r2, Low1, r3), Avx512F.PermuteVar16x32x2(r2, High1, r3));
        (r4, r5) = (Avx512F.PermuteVar16x32x2(r4, Low1, r5), Avx512F.PermuteVar16x32x2(r4, High1, r5));
        (r6, r7) = (Avx512F.PermuteVar16x32x2(r6, Low1, r7), Avx512F.PermuteVar16x32x2(r6, High1, r7));
        (r8, r9) = (Avx512F.PermuteVar16x32x2(r8, Low1, r9), Avx512F.PermuteVar16x32x2(r8, High1, r9));
        (r10, r11) = (Avx512F.PermuteVar16x32x2(r10, Low1, r11), Avx512F.PermuteVar16x32x2(r10, High1, r11));
        (r12, r13) = (Avx512F.PermuteVar16x32x2(r12, Low1, r13), Avx512F.PermuteVar16x32x2(r12, High1, r13));
        (r14, r15) = (Avx512F.PermuteVar16x32x2(r14, Low1, r15), Avx512F.PermuteVar16x32x2(r14, High1, r15));
        Vector512.Store(r0, target + 0 * targetStride);
        Vector512.Store(r1, target + 1 * targetStride);
        Vector512.Store(r2, target + 2 * targetStride);
        Vector512.Store(r3, target + 3 * targetStride);
        Vector512.Store(r4, target + 4 * targetStride);
        Vector512.Store(r5, target + 5 * targetStride);
        Vector512.Store(r6, target + 6 * targetStride);
        Vector512.Store(r7, target + 7 * targetStride);
        Vector512.Store(r8, target + 8 * targetStride);
        Vector512.Store(r9, target + 9 * targetStride);
        Vector512.Store(r10, target + 10 * targetStride);
        Vector512.Store(r11, target + 11 * targetStride);
        Vector512.Store(r12, target + 12 * targetStride);
        Vector512.Store(r13, target + 13 * targetStride);
        Vector512.Store(r14, target + 14 * targetStride);
        Vector512.Store(r15, target + 15 * targetStride);
    }

    /// <summary><see cref="Tile{TRows, TColumns}"/> for <paramref name="rows"/> (1-4) by <paramref name="columns"/> (1-8).</summary>
    private static void RunTile(int rows, int columns, float* origin, int* rowOffsets, float* vectors, int* streamOffsets, int length, float* sums,
        long rowStride)
    {
        switch (rows)
        {
            case 1: RunTile<One>(columns, origin, rowOffsets, vectors, streamOffsets, length, sums, rowStride); break;
            case 2: RunTile<Two>(columns, origin, rowOffsets, vectors, streamOffsets, length, sums, rowStride); break;
            case 3: RunTile<Three>(columns, origin, rowOffsets, vectors, streamOffsets, length, sums, rowStride); break;
            default: RunTile<Four>(columns, origin, rowOffsets, vectors, streamOffsets, length, sums, rowStride); break;
        }
    }

    private static void RunTile<TRows>(int columns, float* origin, int* rowOffsets, float* vectors, int* streamOffsets, int length, float* sums,
        long rowStride)
        where TRows : struct, ICount
    {
        switch (columns)
        {
            case 1: Tile<TRows, One>(origin, rowOffsets, vectors, streamOffsets, length, sums, rowStride); break;
            case 2: Tile<TRows, Two>(origin, rowOffsets, vectors, streamOffsets, length, sums, rowStride); break;
            case 3: Tile<TRows, Three>(origin, rowOffsets, vectors, streamOffsets, length, sums, rowStride); break;
            case 4: Tile<TRows, Four>(origin, rowOffsets, vectors, streamOffsets, length, sums, rowStride); break;
            case 5: Tile<TRows, Five>(origin, rowOffsets, vectors, streamOffsets, length, sums, rowStride); break;
            case 6: Tile<TRows, Six>(origin, rowOffsets, vectors, streamOffsets, length, sums, rowStride); break;
            case 7: Tile<TRows, Seven>(origin, rowOffsets, vectors, streamOffsets, length, sums, rowStride); break;
            default: Tile<TRows, Eight>(origin, rowOffsets, vectors, streamOffsets, length, sums, rowStride); break;
        }
    }

    /// <summary>
    /// sums[r, c] (16 lanes each, rows <paramref name="rowStride"/> floats apart) = the sum over k of vectors[k] *
    /// origin[rowOffsets[r] + streamOffsets[k] + c], for r &lt; TRows and c &lt; TColumns: each input value is one
    /// broadcast operand of one multiply-add.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TRows, TColumns>(float* origin, int* rowOffsets, float* vectors, int* streamOffsets, int length, float* sums, long rowStride)
        where TRows : struct, ICount where TColumns : struct, ICount
    {
        long row0 = rowOffsets[0];
        long row1 = TRows.Value > 1 ? rowOffsets[1] : 0, row2 = TRows.Value > 2 ? rowOffsets[2] : 0, row3 = TRows.Value > 3 ? rowOffsets[3] : 0;
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default, a04 = default, a05 = default, a06 = default, a07 = default;
        Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default, a14 = default, a15 = default, a16 = default, a17 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default, a24 = default, a25 = default, a26 = default, a27 = default;
        Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default, a34 = default, a35 = default, a36 = default, a37 = default;
        for (int k = 0; k < length; k++)
        {
            var v = Vector512.Load(vectors + (long)k * Lanes);
            float* p = origin + streamOffsets[k];
            if (TRows.Value > 0)
            {
                float* q = p + row0;
                a00 = Fma(q + 0, v, a00);
                if (TColumns.Value > 1) a01 = Fma(q + 1, v, a01);
                if (TColumns.Value > 2) a02 = Fma(q + 2, v, a02);
                if (TColumns.Value > 3) a03 = Fma(q + 3, v, a03);
                if (TColumns.Value > 4) a04 = Fma(q + 4, v, a04);
                if (TColumns.Value > 5) a05 = Fma(q + 5, v, a05);
                if (TColumns.Value > 6) a06 = Fma(q + 6, v, a06);
                if (TColumns.Value > 7) a07 = Fma(q + 7, v, a07);
            }
            if (TRows.Value > 1)
            {
                float* q = p + row1;
                a10 = Fma(q + 0, v, a10);
                if (TColumns.Value > 1) a11 = Fma(q + 1, v, a11);
                if (TColumns.Value > 2) a12 = Fma(q + 2, v, a12);
                if (TColumns.Value > 3) a13 = Fma(q + 3, v, a13);
                if (TColumns.Value > 4) a14 = Fma(q + 4, v, a14);
                if (TColumns.Value > 5) a15 = Fma(q + 5, v, a15);
                if (TColumns.Value > 6) a16 = Fma(q + 6, v, a16);
                if (TColumns.Value > 7) a17 = Fma(q + 7, v, a17);
            }
            if (TRows.Value > 2)
            {
                float* q = p + row2;
                a20 = Fma(q + 0, v, a20);
                if (TColumns.Value > 1) a21 = Fma(q + 1, v, a21);
                if (TColumns.Value > 2) a22 = Fma(q + 2, v, a22);
                if (TColumns.Value > 3) a23 = Fma(q + 3, v, a23);
                if (TColumns.Value > 4) a24 = Fma(q + 4, v, a24);
                if (TColumns.Value > 5) a25 = Fma(q + 5, v, a25);
                if (TColumns.Value > 6) a26 = Fma(q + 6, v, a26);
                if (TColumns.Value > 7) a27 = Fma(q + 7, v, a27);
            }
            if (TRows.Value > 3)
            {
                float* q = p + row3;
                a30 = Fma(q + 0, v, a30);
                if (TColumns.Value > 1) a31 = Fma(q + 1, v, a31);
                if (TColumns.Value > 2) a32 = Fma(q + 2, v, a32);
                if (TColumns.Value > 3) a33 = Fma(q + 3, v, a33);
                if (TColumns.Value > 4) a34 = Fma(q + 4, v, a34);
                if (TColumns.Value > 5) a35 = Fma(q + 5, v, a35);
                if (TColumns.Value > 6) a36 = Fma(q + 6, v, a36);
                if (TColumns.Value > 7) a37 = Fma(q + 7, v, a37);
            }
        }
        StoreRow<TColumns>(sums, a00, a01, a02, a03, a04, a05, a06, a07);
        if (TRows.Value > 1)
        {
            StoreRow<TColumns>(sums + rowStride, a10, a11, a12, a13, a14, a15, a16, a17);
        }
        if (TRows.Value > 2)
        {
            StoreRow<TColumns>(sums + 2 * rowStride, a20, a21, a22, a23, a24, a25, a26, a27);
        }
        if (TRows.Value > 3)
        {
            StoreRow<TColumns>(sums + 3 * rowStride, a30, a31, a32, a33, a34, a35, a36, a37);
        }
    }

    /// <summary>Stores the first TColumns of a tile row's accumulators side by side.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow<TColumns>(float* target, Vector512<float> a0, Vector512<float> a1, Vector512<float> a2, Vector512<float> a3,
        Vector512<float> a4, Vector512<float> a5, Vector512<float> a6, Vector512<float> a7) where TColumns : struct, ICount
    {
        Vector512.Store(a0, target);
        if (TColumns.Value > 1) Vector512.Store(a1, target + Lanes);
        if (TColumns.Value > 2) Vector512.Store(a2, target + 2 * Lanes);
        if (TColumns.Value > 3) Vector512.Store(a3, target + 3 * Lanes);
        if (TColumns.Value > 4) Vector512.Store(a4, target + 4 * Lanes);
        if (TColumns.Value > 5) Vector512.Store(a5, target + 5 * Lanes);
        if (TColumns.Value > 6) Vector512.Store(a6, target + 6 * Lanes);
        if (TColumns.Value > 7) Vector512.Store(a7, target + 7 * Lanes);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Fma(float* input, Vector512<float> vector, Vector512<float> sum)
        => Vector512.FusedMultiplyAdd(Vector512.Create(*input), vector, sum);
}
