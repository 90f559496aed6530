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

    /// <summary>The window settings as op attributes (ONNX names: kernel_shape, strides, pads as [top, left, bottom, right], dilations).</summary>
    public IReadOnlyDictionary<string, object> Attributes() => new Dictionary<string, object>
    {
        ["kernel_shape"] = new[] { KernelH, KernelW },
        ["strides"] = new[] { StrideH, StrideW },
        ["pads"] = new[] { PadH, PadW, PadH, PadW },
        ["dilations"] = new[] { DilationH, DilationW },
    };
}

/// <summary>
/// im2col and its adjoint col2im: a convolution becomes one matrix product. The column matrix is
/// [C*kh*kw, N*OH*OW]: row (c, i, j) holds, for every output pixel of every sample, the input value under kernel tap
/// (i, j) of channel c (0 in the zero padding). One GEMM with the [O, C*kh*kw] weights then convolves the whole batch.
/// </summary>
internal static class Convolution
{
    public static unsafe void Im2Col(ReadOnlySpan<float> x, in ConvGeometry g, Span<float> columns)
    {
        var geometry = g;
        int xLength = x.Length, columnsLength = g.PatchSize * g.Batch * g.OutPlane;
        fixed (float* px = x, pc = columns)
        {
            nint ax = (nint)px, ac = (nint)pc;
            ParallelRanges.For(g.PatchSize, columnsLength, (r0, r1) => Im2ColRows(
                new ReadOnlySpan<float>((float*)ax, xLength), geometry, new Span<float>((float*)ac, columnsLength), r0, r1));
        }
    }

    // Rows r0..r1 of the column matrix; row r is kernel tap (c, i, j) = (r / (kh kw), r / kw % kh, r % kw).
    private static void Im2ColRows(ReadOnlySpan<float> x, in ConvGeometry g, Span<float> columns, int r0, int r1)
    {
        int oh = g.OutHeight, ow = g.OutWidth, plane = g.Height * g.Width;
        int rowLength = g.Batch * oh * ow;
        for (int r = r0; r < r1; r++)
        {
            int c = r / (g.KernelH * g.KernelW), i = r / g.KernelW % g.KernelH, j = r % g.KernelW;
            var row = columns.Slice(r * rowLength, rowLength);
            int offsetH = i * g.DilationH - g.PadH;
            int offsetW = j * g.DilationW - g.PadW;
            var (owStart, owEnd) = ValidRange(offsetW, g.StrideW, g.Width, ow);
            for (int n = 0; n < g.Batch; n++)
            {
                var source = x.Slice((n * g.Channels + c) * plane, plane);
                for (int y = 0; y < oh; y++)
                {
                    var target = row.Slice((n * oh + y) * ow, ow);
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
    }

    /// <summary>The adjoint of <see cref="Im2Col"/>: adds every column entry back onto the input position it came from.</summary>
    public static unsafe void Col2Im(ReadOnlySpan<float> columns, in ConvGeometry g, Span<float> x)
    {
        var geometry = g;
        int xLength = x.Length, columnsLength = g.PatchSize * g.Batch * g.OutPlane;
        x.Clear();
        fixed (float* px = x, pc = columns)
        {
            nint ax = (nint)px, ac = (nint)pc;
            ParallelRanges.For(g.Channels, columnsLength, (c0, c1) => Col2ImChannels(
                new ReadOnlySpan<float>((float*)ac, columnsLength), geometry, new Span<float>((float*)ax, xLength), c0, c1));
        }
    }

    // Channels c0..c1 of x: each channel only receives from its own rows, in the same order whatever the split.
    private static void Col2ImChannels(ReadOnlySpan<float> columns, in ConvGeometry g, Span<float> x, int c0, int c1)
    {
        int oh = g.OutHeight, ow = g.OutWidth, plane = g.Height * g.Width;
        int rowLength = g.Batch * oh * ow;
        for (int c = c0; c < c1; c++)
        {
            for (int i = 0; i < g.KernelH; i++)
            {
                for (int j = 0; j < g.KernelW; j++)
                {
                    var row = columns.Slice(((c * g.KernelH + i) * g.KernelW + j) * rowLength, rowLength);
                    int offsetH = i * g.DilationH - g.PadH;
                    int offsetW = j * g.DilationW - g.PadW;
                    var (owStart, owEnd) = ValidRange(offsetW, g.StrideW, g.Width, ow);
                    for (int n = 0; n < g.Batch; n++)
                    {
                        var target = x.Slice((n * g.Channels + c) * plane, plane);
                        for (int y = 0; y < oh; y++)
                        {
                            int ih = y * g.StrideH + offsetH;
                            if ((uint)ih >= (uint)g.Height || owStart >= owEnd)
                            {
                                continue;
                            }
                            var source = row.Slice((n * oh + y) * ow, ow);
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
            }
        }
    }

    /// <summary>The output columns [start, end) whose input column ow*stride + offset lies inside [0, width).</summary>
    private static (int Start, int End) ValidRange(int offset, int stride, int width, int outWidth)
    {
        int start = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
        int end = width - offset <= 0 ? 0 : Math.Min(outWidth, (width - offset + stride - 1) / stride);
        return (Math.Min(start, outWidth), Math.Max(end, Math.Min(start, outWidth)));
    }
}
