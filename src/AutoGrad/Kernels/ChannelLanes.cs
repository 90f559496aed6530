using System.Runtime.CompilerServices;

namespace AutoGrad.Kernels;

/// <summary>
/// Direct convolution with the vector lanes across output channels (16 with AVX-512, 8 with AVX2, 4 with NEON), for
/// layers whose output channels fill whole vectors (the geometries of <see cref="DirectConvolution"/>). With pixels
/// in the lanes a row of 10 pixels leaves 6 of 16 lanes idle; with channels in the lanes every multiply-add is useful
/// work, whatever the image width.
/// The forward and the weight gradient are one tile: sums, for a block of rows x columns of the zero-padded input, of a
/// stream of channel vectors each times one broadcast input value.
/// <list type="bullet">
/// <item>forward: the stream runs over the kernel taps (vector: the tap's weights for a block of channels) and the tile
/// is a block of output pixels;</item>
/// <item>weight gradient: the stream runs over the output pixels of a group of samples (vector: their output gradient
/// for a block of channels) and the tile is a block of taps.</item>
/// </list>
/// Each output element is one chain of fused multiply-adds in a fixed order, independent of threads.
/// </summary>
internal static unsafe class ChannelLanes
{
    // A tile holds at most 8 columns; with 32 registers 4 rows and 24 accumulators (with the stream vector, 25 of the
    // 32), with 16 registers 2 rows and 12.
    private const int MaxColumns = 8;

    private static int MaxRows<TVec>() where TVec : unmanaged, ISimd<TVec> => TVec.Registers >= 32 ? 4 : 2;

    private static int MaxAccumulators<TVec>() where TVec : unmanaged, ISimd<TVec> => TVec.Registers >= 32 ? 24 : 12;

    /// <summary>Output channels per vector at the width this process runs.</summary>
    public static int Lanes => Simd.Width / 32;

    /// <summary>Whether these kernels handle <paramref name="g"/> with <paramref name="outChannels"/> output channels.</summary>
    public static bool Applies(in ConvGeometry g, int outChannels)
        => DirectConvolution.Applies(g) && outChannels % Lanes == 0 && g.KernelW <= MaxColumns;

    /// <summary>
    /// Whether <see cref="Forward"/> pays for <paramref name="g"/>: a forward tile streams over the taps, and below about
    /// 64 of them (one input channel, 5 x 5) its set-up and the transposes cost more than the idle lanes they save
    /// (measured with AVX-512: LeNet's second layer, 150 taps, 1.35x faster; 25 taps, 1.6x slower).
    /// </summary>
    public static bool PaysForForward(in ConvGeometry g, int outChannels) => Applies(g, outChannels) && g.PatchSize >= 64;

    /// <summary>
    /// The weight [O, C*kh*kw] as the forward's stream: [O/L, C*kh*kw, L] for L = <see cref="Lanes"/>, the L channels
    /// of a tap side by side.
    /// </summary>
    public static void PrepareWeights(ReadOnlySpan<float> weight, int outChannels, int taps, Span<float> lanes)
        => PrepareWeights(weight, outChannels, taps, lanes, Lanes);

    /// <summary><see cref="PrepareWeights(ReadOnlySpan{float}, int, int, Span{float})"/> for vectors of <paramref name="width"/> floats.</summary>
    internal static void PrepareWeights(ReadOnlySpan<float> weight, int outChannels, int taps, Span<float> lanes, int width)
    {
        for (int block = 0; block < outChannels / width; block++)
        {
            for (int t = 0; t < taps; t++)
            {
                for (int l = 0; l < width; l++)
                {
                    lanes[(block * taps + t) * width + l] = weight[(block * width + l) * taps + t];
                }
            }
        }
    }

    /// <summary>Floats of scratch <see cref="Forward"/> needs at any width: a padded sample and one channel block's output by pixel.</summary>
    public static int ForwardScratchLength(in ConvGeometry g) => PaddedSampleLength(g) + g.OutPlane * 16;

    /// <summary>
    /// outputs [count, O, OH, OW] = conv(samples [count, C, H, W], weight) + bias, then max(0, .) when
    /// <paramref name="relu"/>, given the weights from <see cref="PrepareWeights(ReadOnlySpan{float}, int, int, Span{float})"/>.
    /// </summary>
    public static void Forward(ReadOnlySpan<float> samples, int count, in ConvGeometry g, ReadOnlySpan<float> weightLanes, int outChannels,
        ReadOnlySpan<float> bias, bool relu, Span<float> outputs, Span<float> scratch)
    {
        switch (Simd.Width)
        {
            case 512: Forward<Simd512>(samples, count, g, weightLanes, outChannels, bias, relu, outputs, scratch); break;
            case 256: Forward<Simd256>(samples, count, g, weightLanes, outChannels, bias, relu, outputs, scratch); break;
            case 128: Forward<Simd128>(samples, count, g, weightLanes, outChannels, bias, relu, outputs, scratch); break;
            default: Forward<SimdScalar>(samples, count, g, weightLanes, outChannels, bias, relu, outputs, scratch); break;
        }
    }

    /// <summary><see cref="Forward"/> at one width (the weights prepared for that width).</summary>
    internal static void Forward<TVec>(ReadOnlySpan<float> samples, int count, in ConvGeometry g, ReadOnlySpan<float> weightLanes, int outChannels,
        ReadOnlySpan<float> bias, bool relu, Span<float> outputs, Span<float> scratch) where TVec : unmanaged, ISimd<TVec>
    {
        int lanes = TVec.Count, maxRows = MaxRows<TVec>();
        int wp = g.Width + 2 * g.PadW, oh = g.OutHeight, ow = g.OutWidth, plane = oh * ow, taps = g.PatchSize;
        var rented = taps <= 4096 ? null : Buffers.BufferPool.RentInts(taps);
        var tapOffsets = rented is null ? stackalloc int[taps] : rented.AsSpan(0, taps);
        TapOffsets(g, tapOffsets);
        // output rows four (or two) at a time; each row in near-equal chunks of at most 6 pixels (4 x 6 = 24 accumulators)
        int chunks = (ow + 5) / 6, chunk = (ow + chunks - 1) / chunks;
        Span<int> rowOffsets = [0, wp, 2 * wp, 3 * wp];
        fixed (float* ps = samples, pw = weightLanes, pb = bias, po = outputs, pp = scratch)
        fixed (int* pt = tapOffsets, pr = rowOffsets)
        {
            float* byPixel = pp + PaddedSampleLength(g); // [OH*OW, lanes]
            for (int s = 0; s < count; s++)
            {
                PaddedPlanes.Pad<TVec>(ps + (long)s * g.SampleSize, g.Channels, g.Height, g.Width, g.PadH, g.PadW, pp);
                for (int block = 0; block < outChannels / lanes; block++)
                {
                    for (int y0 = 0; y0 < oh; y0 += maxRows)
                    {
                        for (int x0 = 0; x0 < ow; x0 += chunk)
                        {
                            RunTile<TVec>(Math.Min(maxRows, oh - y0), Math.Min(chunk, ow - x0), pp + y0 * wp + x0, pr, pw + (long)block * taps * lanes, pt,
                                taps, byPixel + ((long)y0 * ow + x0) * lanes, (long)ow * lanes);
                        }
                    }
                    var b = pb is null ? TVec.Zero : TVec.Load(pb + block * lanes);
                    for (int p = 0; p < plane; p++)
                    {
                        var v = TVec.Load(byPixel + p * lanes) + b;
                        TVec.Store(relu ? TVec.Max(v, TVec.Zero) : v, byPixel + p * lanes);
                    }
                    Transpose<TVec>(byPixel, lanes, po + ((long)s * outChannels + block * lanes) * plane, plane, plane, lanes);
                }
            }
        }
        Buffers.BufferPool.ReturnInts(rented);
    }

    /// <summary>Floats of scratch <see cref="WeightGradient"/> needs for <paramref name="count"/> samples, at any width.</summary>
    public static int WeightScratchLength(in ConvGeometry g, int count, int outChannels)
        => count * PaddedSampleLength(g) + count * g.OutPlane * outChannels + g.PatchSize * 16;

    /// <summary>
    /// weightGrad [O, C*kh*kw] = the weight gradient summed over <paramref name="count"/> consecutive samples, given their
    /// output gradients [count, O, OH, OW].
    /// </summary>
    public static void WeightGradient(ReadOnlySpan<float> samples, int count, in ConvGeometry g, ReadOnlySpan<float> outputGrads, int outChannels,
        Span<float> weightGrad, Span<float> scratch)
    {
        switch (Simd.Width)
        {
            case 512: WeightGradient<Simd512>(samples, count, g, outputGrads, outChannels, weightGrad, scratch); break;
            case 256: WeightGradient<Simd256>(samples, count, g, outputGrads, outChannels, weightGrad, scratch); break;
            case 128: WeightGradient<Simd128>(samples, count, g, outputGrads, outChannels, weightGrad, scratch); break;
            default: WeightGradient<SimdScalar>(samples, count, g, outputGrads, outChannels, weightGrad, scratch); break;
        }
    }

    /// <summary><see cref="WeightGradient"/> at one width.</summary>
    internal static void WeightGradient<TVec>(ReadOnlySpan<float> samples, int count, in ConvGeometry g, ReadOnlySpan<float> outputGrads, int outChannels,
        Span<float> weightGrad, Span<float> scratch) where TVec : unmanaged, ISimd<TVec>
    {
        int lanes = TVec.Count;
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
        int rowsPerTile = Math.Max(1, Math.Min(MaxRows<TVec>(), MaxAccumulators<TVec>() / kw));
        fixed (float* ps = samples, pg = outputGrads, pw = weightGrad, pp = scratch)
        fixed (int* pk = pixelOffsets, pr = rowOffsets)
        {
            for (int s = 0; s < count; s++)
            {
                PaddedPlanes.Pad<TVec>(ps + (long)s * g.SampleSize, g.Channels, g.Height, g.Width, g.PadH, g.PadW, pp + (long)s * padded);
            }
            float* byPixel = pp + (long)count * padded; // [O/lanes, count * OH*OW, lanes]
            float* byTap = byPixel + (long)outChannels * pixels; // [C*kh*kw, lanes]
            for (int block = 0; block < outChannels / lanes; block++)
            {
                for (int s = 0; s < count; s++)
                {
                    Transpose<TVec>(pg + ((long)s * outChannels + block * lanes) * plane, plane, byPixel + ((long)block * pixels + s * plane) * lanes, lanes,
                        lanes, plane);
                }
            }
            for (int block = 0; block < outChannels / lanes; block++)
            {
                for (int r0 = 0; r0 < kernelRows; r0 += rowsPerTile)
                {
                    // the tile's rows of kw taps land side by side: byTap in tap order
                    RunTile<TVec>(Math.Min(rowsPerTile, kernelRows - r0), kw, pp, pr + r0, byPixel + (long)block * pixels * lanes, pk, pixels,
                        byTap + (long)r0 * kw * lanes, (long)kw * lanes);
                }
                Transpose<TVec>(byTap, lanes, pw + (long)block * lanes * taps, taps, taps, lanes);
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
    /// <paramref name="targetStride"/> floats apart), one side of which is the vector width: register transposes of
    /// square blocks along the other side, then the leftover rows or columns one value at a time.
    /// </summary>
    private static void Transpose<TVec>(float* source, long sourceStride, float* target, long targetStride, int rows, int columns)
        where TVec : unmanaged, ISimd<TVec>
    {
        int lanes = TVec.Count;
        bool wide = rows == lanes; // a vector's worth of rows of many columns (else many rows of a vector's worth)
        int length = wide ? columns : rows, k = 0;
        for (; k <= length - lanes; k += lanes)
        {
            if (wide)
            {
                TVec.Transpose(source + k, sourceStride, target + k * targetStride, targetStride);
            }
            else
            {
                TVec.Transpose(source + k * sourceStride, sourceStride, target + k, targetStride);
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

    /// <summary><see cref="Tile{TVec, TRows, TColumns}"/> for <paramref name="rows"/> (1-4) by <paramref name="columns"/> (1-8).</summary>
    private static void RunTile<TVec>(int rows, int columns, float* origin, int* rowOffsets, float* vectors, int* streamOffsets, int length, float* sums,
        long rowStride)
        where TVec : unmanaged, ISimd<TVec>
    {
        switch (rows)
        {
            case 1: RunTile<TVec, One>(columns, origin, rowOffsets, vectors, streamOffsets, length, sums, rowStride); break;
            case 2: RunTile<TVec, Two>(columns, origin, rowOffsets, vectors, streamOffsets, length, sums, rowStride); break;
            case 3: RunTile<TVec, Three>(columns, origin, rowOffsets, vectors, streamOffsets, length, sums, rowStride); break;
            default: RunTile<TVec, Four>(columns, origin, rowOffsets, vectors, streamOffsets, length, sums, rowStride); break;
        }
    }

    private static void RunTile<TVec, TRows>(int columns, float* origin, int* rowOffsets, float* vectors, int* streamOffsets, int length, float* sums,
        long rowStride)
        where TVec : unmanaged, ISimd<TVec> where TRows : struct, ICount
    {
        switch (columns)
        {
            case 1: Tile<TVec, TRows, One>(origin, rowOffsets, vectors, streamOffsets, length, sums, rowStride); break;
            case 2: Tile<TVec, TRows, Two>(origin, rowOffsets, vectors, streamOffsets, length, sums, rowStride); break;
            case 3: Tile<TVec, TRows, Three>(origin, rowOffsets, vectors, streamOffsets, length, sums, rowStride); break;
            case 4: Tile<TVec, TRows, Four>(origin, rowOffsets, vectors, streamOffsets, length, sums, rowStride); break;
            case 5: Tile<TVec, TRows, Five>(origin, rowOffsets, vectors, streamOffsets, length, sums, rowStride); break;
            case 6: Tile<TVec, TRows, Six>(origin, rowOffsets, vectors, streamOffsets, length, sums, rowStride); break;
            case 7: Tile<TVec, TRows, Seven>(origin, rowOffsets, vectors, streamOffsets, length, sums, rowStride); break;
            default: Tile<TVec, TRows, Eight>(origin, rowOffsets, vectors, streamOffsets, length, sums, rowStride); break;
        }
    }

    /// <summary>
    /// sums[r, c] (a vector each, rows <paramref name="rowStride"/> floats apart) = the sum over k of vectors[k] *
    /// origin[rowOffsets[r] + streamOffsets[k] + c], for r &lt; TRows and c &lt; TColumns: each input value is one
    /// broadcast operand of one multiply-add.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TVec, TRows, TColumns>(float* origin, int* rowOffsets, float* vectors, int* streamOffsets, int length, float* sums, long rowStride)
        where TVec : unmanaged, ISimd<TVec> where TRows : struct, ICount where TColumns : struct, ICount
    {
        long row0 = rowOffsets[0];
        long row1 = TRows.Value > 1 ? rowOffsets[1] : 0, row2 = TRows.Value > 2 ? rowOffsets[2] : 0, row3 = TRows.Value > 3 ? rowOffsets[3] : 0;
        TVec a00 = default, a01 = default, a02 = default, a03 = default, a04 = default, a05 = default, a06 = default, a07 = default;
        TVec a10 = default, a11 = default, a12 = default, a13 = default, a14 = default, a15 = default, a16 = default, a17 = default;
        TVec a20 = default, a21 = default, a22 = default, a23 = default, a24 = default, a25 = default, a26 = default, a27 = default;
        TVec a30 = default, a31 = default, a32 = default, a33 = default, a34 = default, a35 = default, a36 = default, a37 = default;
        for (int k = 0; k < length; k++)
        {
            var v = TVec.Load(vectors + (long)k * TVec.Count);
            float* p = origin + streamOffsets[k];
            if (TRows.Value > 0)
            {
                float* q = p + row0;
                a00 = Fma<TVec>(q + 0, v, a00);
                if (TColumns.Value > 1) a01 = Fma<TVec>(q + 1, v, a01);
                if (TColumns.Value > 2) a02 = Fma<TVec>(q + 2, v, a02);
                if (TColumns.Value > 3) a03 = Fma<TVec>(q + 3, v, a03);
                if (TColumns.Value > 4) a04 = Fma<TVec>(q + 4, v, a04);
                if (TColumns.Value > 5) a05 = Fma<TVec>(q + 5, v, a05);
                if (TColumns.Value > 6) a06 = Fma<TVec>(q + 6, v, a06);
                if (TColumns.Value > 7) a07 = Fma<TVec>(q + 7, v, a07);
            }
            if (TRows.Value > 1)
            {
                float* q = p + row1;
                a10 = Fma<TVec>(q + 0, v, a10);
                if (TColumns.Value > 1) a11 = Fma<TVec>(q + 1, v, a11);
                if (TColumns.Value > 2) a12 = Fma<TVec>(q + 2, v, a12);
                if (TColumns.Value > 3) a13 = Fma<TVec>(q + 3, v, a13);
                if (TColumns.Value > 4) a14 = Fma<TVec>(q + 4, v, a14);
                if (TColumns.Value > 5) a15 = Fma<TVec>(q + 5, v, a15);
                if (TColumns.Value > 6) a16 = Fma<TVec>(q + 6, v, a16);
                if (TColumns.Value > 7) a17 = Fma<TVec>(q + 7, v, a17);
            }
            if (TRows.Value > 2)
            {
                float* q = p + row2;
                a20 = Fma<TVec>(q + 0, v, a20);
                if (TColumns.Value > 1) a21 = Fma<TVec>(q + 1, v, a21);
                if (TColumns.Value > 2) a22 = Fma<TVec>(q + 2, v, a22);
                if (TColumns.Value > 3) a23 = Fma<TVec>(q + 3, v, a23);
                if (TColumns.Value > 4) a24 = Fma<TVec>(q + 4, v, a24);
                if (TColumns.Value > 5) a25 = Fma<TVec>(q + 5, v, a25);
                if (TColumns.Value > 6) a26 = Fma<TVec>(q + 6, v, a26);
                if (TColumns.Value > 7) a27 = Fma<TVec>(q + 7, v, a27);
            }
            if (TRows.Value > 3)
            {
                float* q = p + row3;
                a30 = Fma<TVec>(q + 0, v, a30);
                if (TColumns.Value > 1) a31 = Fma<TVec>(q + 1, v, a31);
                if (TColumns.Value > 2) a32 = Fma<TVec>(q + 2, v, a32);
                if (TColumns.Value > 3) a33 = Fma<TVec>(q + 3, v, a33);
                if (TColumns.Value > 4) a34 = Fma<TVec>(q + 4, v, a34);
                if (TColumns.Value > 5) a35 = Fma<TVec>(q + 5, v, a35);
                if (TColumns.Value > 6) a36 = Fma<TVec>(q + 6, v, a36);
                if (TColumns.Value > 7) a37 = Fma<TVec>(q + 7, v, a37);
            }
        }
        StoreRow<TVec, TColumns>(sums, a00, a01, a02, a03, a04, a05, a06, a07);
        if (TRows.Value > 1)
        {
            StoreRow<TVec, TColumns>(sums + rowStride, a10, a11, a12, a13, a14, a15, a16, a17);
        }
        if (TRows.Value > 2)
        {
            StoreRow<TVec, TColumns>(sums + 2 * rowStride, a20, a21, a22, a23, a24, a25, a26, a27);
        }
        if (TRows.Value > 3)
        {
            StoreRow<TVec, TColumns>(sums + 3 * rowStride, a30, a31, a32, a33, a34, a35, a36, a37);
        }
    }

    /// <summary>Stores the first TColumns of a tile row's accumulators side by side.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow<TVec, TColumns>(float* target, TVec a0, TVec a1, TVec a2, TVec a3,
        TVec a4, TVec a5, TVec a6, TVec a7)
        where TVec : unmanaged, ISimd<TVec> where TColumns : struct, ICount
    {
        TVec.Store(a0, target);
        if (TColumns.Value > 1) TVec.Store(a1, target + TVec.Count);
        if (TColumns.Value > 2) TVec.Store(a2, target + 2 * TVec.Count);
        if (TColumns.Value > 3) TVec.Store(a3, target + 3 * TVec.Count);
        if (TColumns.Value > 4) TVec.Store(a4, target + 4 * TVec.Count);
        if (TColumns.Value > 5) TVec.Store(a5, target + 5 * TVec.Count);
        if (TColumns.Value > 6) TVec.Store(a6, target + 6 * TVec.Count);
        if (TColumns.Value > 7) TVec.Store(a7, target + 7 * TVec.Count);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVec Fma<TVec>(float* input, TVec vector, TVec sum) where TVec : unmanaged, ISimd<TVec>
        => TVec.MultiplyAddScalar(vector, input, sum);
}
