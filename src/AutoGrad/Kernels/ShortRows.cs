using System.Runtime.CompilerServices;

namespace AutoGrad.Kernels;

/// <summary>
/// Copy, add and clear for the short rows of small images (a 28-pixel row is one and a bit 16-float vectors), written
/// once over the vector width: whole vectors, then one partial vector (or, for a copy, one overlapping whole vector)
/// instead of a call with a loop and a scalar tail.
/// </summary>
internal static unsafe class ShortRows
{
    /// <summary>destination[0..count) = source[0..count) (the two do not overlap).</summary>
    public static void Copy(float* destination, float* source, int count)
    {
        switch (Simd.Width)
        {
            case 512: Copy<Simd512>(destination, source, count); break;
            case 256: Copy<Simd256>(destination, source, count); break;
            case 128: Copy<Simd128>(destination, source, count); break;
            default: Copy<SimdScalar>(destination, source, count); break;
        }
    }

    /// <summary><see cref="Copy"/> at one width.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Copy<TVec>(float* destination, float* source, int count) where TVec : unmanaged, ISimd<TVec>
    {
        int w = TVec.Count;
        if (count < w)
        {
            TVec.StoreFirst(TVec.LoadFirst(source, count), destination, count);
            return;
        }
        int i = 0;
        for (; i <= count - w; i += w)
        {
            TVec.Store(TVec.Load(source + i), destination + i);
        }
        if (i < count)
        {
            // one whole vector ending at the last float: the overlap is written twice with the same values
            TVec.Store(TVec.Load(source + count - w), destination + count - w);
        }
    }

    /// <summary>
    /// destination[i] = source[2 i] for i in [0, count): a row taken at stride 2. Reads (never uses) up to 2 x 16 floats
    /// past source[2 count - 2].
    /// </summary>
    public static void CopyEvens(float* destination, float* source, int count)
    {
        switch (Simd.Width)
        {
            case 512: CopyEvens<Simd512>(destination, source, count); break;
            case 256: CopyEvens<Simd256>(destination, source, count); break;
            case 128: CopyEvens<Simd128>(destination, source, count); break;
            default: CopyEvens<SimdScalar>(destination, source, count); break;
        }
    }

    /// <summary><see cref="CopyEvens"/> at one width.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void CopyEvens<TVec>(float* destination, float* source, int count) where TVec : unmanaged, ISimd<TVec>
    {
        int w = TVec.Count, i = 0;
        for (; i <= count - w; i += w)
        {
            TVec.Store(TVec.Deinterleave(TVec.Load(source + 2 * i), TVec.Load(source + 2 * i + w)).Even, destination + i);
        }
        if (i < count)
        {
            TVec.StoreFirst(TVec.Deinterleave(TVec.Load(source + 2 * i), TVec.Load(source + 2 * i + w)).Even, destination + i, count - i);
        }
    }

    /// <summary>
    /// destination[2 i] += source[i] for i in [0, count), the adjoint of <see cref="CopyEvens"/>. The values between and
    /// up to 2 x 16 floats past destination[2 count - 2] are read and written back plus zero: unchanged, as long as
    /// none of them is -0 (true of any sum that started from a cleared buffer).
    /// </summary>
    public static void AddEvens(float* destination, float* source, int count)
    {
        switch (Simd.Width)
        {
            case 512: AddEvens<Simd512>(destination, source, count); break;
            case 256: AddEvens<Simd256>(destination, source, count); break;
            case 128: AddEvens<Simd128>(destination, source, count); break;
            default: AddEvens<SimdScalar>(destination, source, count); break;
        }
    }

    /// <summary><see cref="AddEvens"/> at one width.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AddEvens<TVec>(float* destination, float* source, int count) where TVec : unmanaged, ISimd<TVec>
    {
        int w = TVec.Count;
        for (int i = 0; i < count; i += w)
        {
            var values = i + w <= count ? TVec.Load(source + i) : TVec.LoadFirst(source + i, count - i);
            var (low, high) = TVec.Interleave(values, TVec.Zero);
            float* target = destination + 2 * i;
            TVec.Store(TVec.Load(target) + low, target);
            TVec.Store(TVec.Load(target + w) + high, target + w);
        }
    }

    /// <summary>destination[0..count) += source[0..count).</summary>
    public static void Add(float* destination, float* source, int count)
    {
        switch (Simd.Width)
        {
            case 512: Add<Simd512>(destination, source, count); break;
            case 256: Add<Simd256>(destination, source, count); break;
            case 128: Add<Simd128>(destination, source, count); break;
            default: Add<SimdScalar>(destination, source, count); break;
        }
    }

    /// <summary><see cref="Add"/> at one width.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Add<TVec>(float* destination, float* source, int count) where TVec : unmanaged, ISimd<TVec>
    {
        int w = TVec.Count, i = 0;
        for (; i <= count - w; i += w)
        {
            TVec.Store(TVec.Load(destination + i) + TVec.Load(source + i), destination + i);
        }
        if (i < count)
        {
            int rest = count - i;
            TVec.StoreFirst(TVec.LoadFirst(destination + i, rest) + TVec.LoadFirst(source + i, rest), destination + i, rest);
        }
    }

    /// <summary>
    /// destination[0..count) = 0 with plain vector stores: for the few kilobytes of a padded plane this is several
    /// times faster than Span.Clear, whose memset path measured microseconds per call here.
    /// </summary>
    public static void Clear(float* destination, int count)
    {
        switch (Simd.Width)
        {
            case 512: Clear<Simd512>(destination, count); break;
            case 256: Clear<Simd256>(destination, count); break;
            case 128: Clear<Simd128>(destination, count); break;
            default: Clear<SimdScalar>(destination, count); break;
        }
    }

    /// <summary><see cref="Clear"/> at one width.</summary>
    public static void Clear<TVec>(float* destination, int count) where TVec : unmanaged, ISimd<TVec>
    {
        int w = TVec.Count, i = 0;
        for (; i <= count - w; i += w)
        {
            TVec.Store(TVec.Zero, destination + i);
        }
        for (; i < count; i++)
        {
            destination[i] = 0;
        }
    }
}
