namespace AutoGrad.Kernels;

/// <summary>The geometry of a 2-D convolution or pooling window over an NCHW tensor.</summary>
internal readonly record struct ConvGeometry(int Batch, int Channels, int Height, int Width, int KernelH, int KernelW,
    int StrideH, int StrideW, int PadH, int PadW, int DilationH, int DilationW)
{
    public int OutHeight => (Height + 2 * PadH - DilationH * (KernelH - 1) - 1) / StrideH + 1;

    public int OutWidth => (Width + 2 * PadW - DilationW * (KernelW - 1) - 1) / StrideW + 1;

    /// <summary>Output pixels per sample.</summary>
    public int OutPlane => OutHeight * OutWidth;

    /// <summary>Rows of the column matrix: one per (channel, kernel row, kernel column).</summary>
    public int PatchSize => Channels * KernelH * KernelW;

    /// <summary>Input elements per sample.</summary>
    public int SampleSize => Channels * Height * Width;
}

/// <summary>
/// im2col and its adjoint col2im for one sample: the column matrix is [C*kh*kw, OH*OW], row (c, i, j) holding, for
/// every output pixel, the input value under kernel tap (i, j) of channel c (0 in the zero padding). Several samples
/// can sit side by side in one wider matrix, so one GEMM with the [O, C*kh*kw] weights convolves a group of samples
/// while their columns are still in cache.
/// </summary>
internal static unsafe class Convolution
{
    /// <summary>
    /// Writes the column matrix of <paramref name="sample"/> ([C, H, W]) into <paramref name="columns"/>, whose rows
    /// are <paramref name="rowStride"/> floats apart (wider than OH*OW when several samples share the matrix side by side).
    /// </summary>
    public static void Im2Col(ReadOnlySpan<float> sample, in ConvGeometry g, Span<float> columns, int rowStride)
    {
        if (g.StrideW <= 2 && g.DilationW == 1)
        {
            Im2ColPadded(sample, g, columns, rowStride);
            return;
        }
        int oh = g.OutHeight, ow = g.OutWidth, plane = g.Height * g.Width, rowLength = oh * ow;
        for (int r = 0; r < g.PatchSize; r++)
        {
            // row r is kernel tap (c, i, j) = (r / (kh kw), r / kw % kh, r % kw)
            int c = r / (g.KernelH * g.KernelW), i = r / g.KernelW % g.KernelH, j = r % g.KernelW;
            var row = columns.Slice(r * rowStride, rowLength);
            var source = sample.Slice(c * plane, plane);
            int offsetH = i * g.DilationH - g.PadH;
            int offsetW = j * g.DilationW - g.PadW;
            var (owStart, owEnd) = ValidRange(offsetW, g.StrideW, g.Width, ow);
            for (int y = 0; y < oh; y++)
            {
                var target = row.Slice(y * ow, ow);
                int ih = y * g.StrideH + offsetH;
                if ((uint)ih >= (uint)g.Height || owStart >= owEnd)
                {
                    target.Clear();
                    continue;
                }
                target[..owStart].Clear();
                target[owEnd..].Clear();
                var line = source.Slice(ih * g.Width, g.Width);
                if (g.StrideW == 1)
                {
                    line.Slice(owStart + offsetW, owEnd - owStart).CopyTo(target[owStart..owEnd]);
                }
                else
                {
                    for (int xw = owStart, iw = owStart * g.StrideW + offsetW; xw < owEnd; xw++, iw += g.StrideW)
                    {
                        target[xw] = line[iw];
                    }
                }
            }
        }
    }

    /// <summary>The adjoint of <see cref="Im2Col"/>: sets <paramref name="sample"/> to the sum of every column entry at the input position it came from.</summary>
    public static void Col2Im(ReadOnlySpan<float> columns, in ConvGeometry g, Span<float> sample, int rowStride)
    {
        if (g.StrideW <= 2 && g.DilationW == 1)
        {
            Col2ImPadded(columns, g, sample, rowStride);
            return;
        }
        int oh = g.OutHeight, ow = g.OutWidth, plane = g.Height * g.Width, rowLength = oh * ow;
        sample[..g.SampleSize].Clear();
        for (int r = 0; r < g.PatchSize; r++)
        {
            int c = r / (g.KernelH * g.KernelW), i = r / g.KernelW % g.KernelH, j = r % g.KernelW;
            var row = columns.Slice(r * rowStride, rowLength);
            var target = sample.Slice(c * plane, plane);
            int offsetH = i * g.DilationH - g.PadH;
            int offsetW = j * g.DilationW - g.PadW;
            var (owStart, owEnd) = ValidRange(offsetW, g.StrideW, g.Width, ow);
            for (int y = 0; y < oh; y++)
            {
                int ih = y * g.StrideH + offsetH;
                if ((uint)ih >= (uint)g.Height || owStart >= owEnd)
                {
                    continue;
                }
                var source = row.Slice(y * ow, ow);
                var line = target.Slice(ih * g.Width, g.Width);
                if (g.StrideW == 1)
                {
                    var dst = line.Slice(owStart + offsetW, owEnd - owStart);
                    System.Numerics.Tensors.TensorPrimitives.Add(dst, source[owStart..owEnd], dst);
                }
                else
                {
                    for (int xw = owStart, iw = owStart * g.StrideW + offsetW; xw < owEnd; xw++, iw += g.StrideW)
                    {
                        line[iw] += source[xw];
                    }
                }
            }
        }
    }

    // With unit dilation along the width, every row segment of the column matrix is one run of a zero-padded copy of
    // the input plane, contiguous at unit stride and every other value at stride 2 (the downsampling layers of a
    // residual net), so each is a single short copy (or add, in the col2im adjoint) with no bounds arithmetic.

    private const int PaddedSlack = 32; // floats a stride-2 row's last vectors read past the end of the padded planes

    private static void Im2ColPadded(ReadOnlySpan<float> sample, in ConvGeometry g, Span<float> columns, int rowStride)
    {
        int hp = g.Height + 2 * g.PadH, wp = g.Width + 2 * g.PadW, oh = g.OutHeight, ow = g.OutWidth;
        var padded = Buffers.BufferPool.RentFloats(g.Channels * hp * wp + PaddedSlack);
        fixed (float* ps = sample, pp = padded, pc = columns)
        {
            PaddedPlanes.Pad(ps, g.Channels, g.Height, g.Width, g.PadH, g.PadW, pp, PaddedSlack);
            for (int r = 0; r < g.PatchSize; r++)
            {
                int c = r / (g.KernelH * g.KernelW), i = r / g.KernelW % g.KernelH, j = r % g.KernelW;
                float* row = pc + (long)r * rowStride;
                float* plane = pp + (long)c * hp * wp + i * g.DilationH * wp + j;
                for (int y = 0; y < oh; y++)
                {
                    if (g.StrideW == 1)
                    {
                        ShortRows.Copy(row + y * ow, plane + (long)y * g.StrideH * wp, ow);
                    }
                    else
                    {
                        ShortRows.CopyEvens(row + y * ow, plane + (long)y * g.StrideH * wp, ow);
                    }
                }
            }
        }
        Buffers.BufferPool.ReturnFloats(padded);
    }

    private static void Col2ImPadded(ReadOnlySpan<float> columns, in ConvGeometry g, Span<float> sample, int rowStride)
    {
        int hp = g.Height + 2 * g.PadH, wp = g.Width + 2 * g.PadW, oh = g.OutHeight, ow = g.OutWidth;
        var padded = Buffers.BufferPool.RentFloats(g.Channels * hp * wp + PaddedSlack);
        fixed (float* ps = sample, pp = padded, pc = columns)
        {
            ShortRows.Clear(pp, g.Channels * hp * wp + PaddedSlack); // cleared to +0, so AddEvens's added zeros change nothing
            for (int r = 0; r < g.PatchSize; r++)
            {
                int c = r / (g.KernelH * g.KernelW), i = r / g.KernelW % g.KernelH, j = r % g.KernelW;
                float* row = pc + (long)r * rowStride;
                float* plane = pp + (long)c * hp * wp + i * g.DilationH * wp + j;
                for (int y = 0; y < oh; y++)
                {
                    if (g.StrideW == 1)
                    {
                        ShortRows.Add(plane + (long)y * g.StrideH * wp, row + y * ow, ow);
                    }
                    else
                    {
                        ShortRows.AddEvens(plane + (long)y * g.StrideH * wp, row + y * ow, ow);
                    }
                }
            }
            PaddedPlanes.Unpad(pp, g.Channels, g.Height, g.Width, g.PadH, g.PadW, ps);
        }
        Buffers.BufferPool.ReturnFloats(padded);
    }

    /// <summary>The output columns [start, end) whose input column ow*stride + offset lies inside [0, width).</summary>
    private static (int Start, int End) ValidRange(int offset, int stride, int width, int outWidth)
    {
        int start = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
        int end = width - offset <= 0 ? 0 : Math.Min(outWidth, (width - offset + stride - 1) / stride);
        return (Math.Min(start, outWidth), Math.Max(end, Math.Min(start, outWidth)));
    }
}
