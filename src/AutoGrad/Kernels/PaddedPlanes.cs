namespace AutoGrad.Kernels;

/// <summary>
/// Zero-padded copies of [channels, h, w] planes, the working form of both convolution paths: with the border in
/// memory, every kernel tap reads (or adds into) whole rows without bounds arithmetic.
/// </summary>
internal static unsafe class PaddedPlanes
{
    /// <summary>
    /// Writes each plane into the middle of a zeroed [h + 2 padH, w + 2 padW] plane; <paramref name="slack"/> more floats
    /// after the last plane are zeroed too, for kernels whose vectors read past it.
    /// </summary>
    public static void Pad(float* source, int channels, int h, int w, int padH, int padW, float* padded, int slack = 0)
    {
        switch (Simd.Width)
        {
            case 512: Pad<Simd512>(source, channels, h, w, padH, padW, padded, slack); break;
            case 256: Pad<Simd256>(source, channels, h, w, padH, padW, padded, slack); break;
            case 128: Pad<Simd128>(source, channels, h, w, padH, padW, padded, slack); break;
            default: Pad<SimdScalar>(source, channels, h, w, padH, padW, padded, slack); break;
        }
    }

    /// <summary><see cref="Pad"/> at one width.</summary>
    public static void Pad<TVec>(float* source, int channels, int h, int w, int padH, int padW, float* padded, int slack = 0)
        where TVec : unmanaged, ISimd<TVec>
    {
        int hp = h + 2 * padH, wp = w + 2 * padW;
        ShortRows.Clear<TVec>(padded, channels * hp * wp + slack);
        for (int c = 0; c < channels; c++)
        {
            for (int y = 0; y < h; y++)
            {
                ShortRows.Copy<TVec>(padded + ((long)c * hp + y + padH) * wp + padW, source + ((long)c * h + y) * w, w);
            }
        }
    }

    /// <summary>Copies the middle [h, w] of each padded plane back out (the adjoint of <see cref="Pad"/> on the interior).</summary>
    public static void Unpad(float* padded, int channels, int h, int w, int padH, int padW, float* target)
    {
        int hp = h + 2 * padH, wp = w + 2 * padW;
        for (int c = 0; c < channels; c++)
        {
            for (int y = 0; y < h; y++)
            {
                ShortRows.Copy(target + ((long)c * h + y) * w, padded + ((long)c * hp + y + padH) * wp + padW, w);
            }
        }
    }
}
