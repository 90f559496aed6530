using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AutoGrad.Kernels;

/// <summary>16 floats (AVX-512).</summary>
internal readonly unsafe struct Simd512 : ISimd<Simd512>
{
    // Index vectors as expressions, not static readonly fields: the JIT makes them constants even in methods compiled
    // before this type is initialized (AggressiveOptimization kernels), where a static field costs a helper call that
    // forces every live accumulator onto the stack.
    private static Vector512<int> Indices
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    }

    private static Vector512<int> Evens
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    }

    private static Vector512<int> Odds
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    }

    private static Vector512<int> ZipLow
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    }

    private static Vector512<int> ZipHigh
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    }

    // the 16 x 16 transpose: stage b swaps bit b of the row and column index; row i (bit b clear) keeps its lanes
    // without bit b and takes row i + b's shifted up by b (Low), row i + b the other way round (High)
    private static Vector512<int> Low8
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
    }

    private static Vector512<int> High8
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector512.Create(8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
    }

    private static Vector512<int> Low4
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector512.Create(0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27);
    }

    private static Vector512<int> High4
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector512.Create(4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31);
    }

    private static Vector512<int> Low2
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector512.Create(0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29);
    }

    private static Vector512<int> High2
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector512.Create(2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31);
    }

    private static Vector512<int> Low1
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector512.Create(0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30);
    }

    private static Vector512<int> High1
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector512.Create(1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31);
    }

    private readonly Vector512<float> _v;

    private Simd512(Vector512<float> v) => _v = v;

    public static int Count => 16;

    public static int Registers => 32;

    public static bool IsSupported => Vector512.IsHardwareAccelerated && Avx512F.IsSupported;

    public static Simd512 Zero => default;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512 Create(float value) => new(Vector512.Create(value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512 Load(float* source) => new(Vector512.Load(source));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Simd512 value, float* destination) => Vector512.Store(value._v, destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512 LoadFirst(float* source, int count) => new(Avx512F.MaskLoad(source, FirstLanes(count)._v, Vector512<float>.Zero));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreFirst(Simd512 value, float* destination, int count) => Avx512F.MaskStore(destination, FirstLanes(count)._v, value._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512 FusedMultiplyAdd(Simd512 left, Simd512 right, Simd512 addend) => new(Vector512.FusedMultiplyAdd(left._v, right._v, addend._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512 MultiplyAddScalar(Simd512 vector, float* scalar, Simd512 addend) => new(Vector512.FusedMultiplyAdd(vector._v, Vector512.Create(*scalar), addend._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512 operator +(Simd512 left, Simd512 right) => new(left._v + right._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512 operator *(Simd512 left, Simd512 right) => new(left._v * right._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512 operator &(Simd512 left, Simd512 right) => new(left._v & right._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512 Max(Simd512 left, Simd512 right) => new(Vector512.Max(left._v, right._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512 Min(Simd512 left, Simd512 right) => new(Vector512.Min(left._v, right._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512 operator /(Simd512 left, Simd512 right) => new(left._v / right._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512 Round(Simd512 value) => new(Vector512.Round(value._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512 PowerOfTwo(Simd512 n) => new(Vector512.ShiftLeft(Vector512.ConvertToInt32(n._v) + Vector512.Create(127), 23).AsSingle());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512 FirstLanes(int count) => new(Vector512.LessThan(Indices, Vector512.Create(count)).AsSingle());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512 operator |(Simd512 left, Simd512 right) => new(left._v | right._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512 operator -(Simd512 left, Simd512 right) => new(left._v - right._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512 EqualTo(Simd512 left, Simd512 right) => new(Vector512.Equals(left._v, right._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512 GreaterThan(Simd512 left, Simd512 right) => new(Vector512.GreaterThan(left._v, right._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512 IsNaN(Simd512 value) => new(~Vector512.Equals(value._v, value._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512 ConditionalSelect(Simd512 mask, Simd512 left, Simd512 right) => new(Vector512.ConditionalSelect(mask._v, left._v, right._v));

    public static Simd512 LaneIndices
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => new(Vector512.ConvertToSingle(Indices));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Simd512 Even, Simd512 Odd) Deinterleave(Simd512 low, Simd512 high)
        => (new(Avx512F.PermuteVar16x32x2(low._v, Evens, high._v)), new(Avx512F.PermuteVar16x32x2(low._v, Odds, high._v)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Simd512 Low, Simd512 High) Interleave(Simd512 even, Simd512 odd)
        => (new(Avx512F.PermuteVar16x32x2(even._v, ZipLow, odd._v)), new(Avx512F.PermuteVar16x32x2(even._v, ZipHigh, odd._v)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd512 LoadInt32AsSingle(int* source, int subtract) => new(Vector512.ConvertToSingle(Vector512.Load(source) - Vector512.Create(subtract)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreFirstAsInt32(Simd512 value, int offset, int* destination, int count)
        => Avx512F.MaskStore(destination, Vector512.LessThan(Indices, Vector512.Create(count)), Vector512.ConvertToInt32(value._v) + Vector512.Create(offset));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Simd512 value) => Vector512.Sum(value._v);

    /// <summary>Four stages of two-source permutes, each swapping one bit of the row and column index.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Transpose(float* source, long sourceStride, float* destination, long destinationStride)
    {
        Vector512<float> r0 = Vector512.Load(source), r1 = Vector512.Load(source + sourceStride), r2 = Vector512.Load(source + 2 * sourceStride);
        Vector512<float> r3 = Vector512.Load(source + 3 * sourceStride), r4 = Vector512.Load(source + 4 * sourceStride), r5 = Vector512.Load(source + 5 * sourceStride);
        Vector512<float> r6 = Vector512.Load(source + 6 * sourceStride), r7 = Vector512.Load(source + 7 * sourceStride), r8 = Vector512.Load(source + 8 * sourceStride);
        Vector512<float> r9 = Vector512.Load(source + 9 * sourceStride), r10 = Vector512.Load(source + 10 * sourceStride), r11 = Vector512.Load(source + 11 * sourceStride);
        Vector512<float> r12 = Vector512.Load(source + 12 * sourceStride), r13 = Vector512.Load(source + 13 * sourceStride);
        Vector512<float> r14 = Vector512.Load(source + 14 * sourceStride), r15 = Vector512.Load(source + 15 * sourceStride);
        (r0, r8) = (Avx512F.PermuteVar16x32x2(r0, Low8, r8), Avx512F.PermuteVar16x32x2(r0, High8, r8));
        (r1, r9) = (Avx512F.PermuteVar16x32x2(r1, Low8, r9), Avx512F.PermuteVar16x32x2(r1, High8, r9));
        (r2, r10) = (Avx512F.PermuteVar16x32x2(r2, Low8, r10), Avx512F.PermuteVar16x32x2(r2, High8, r10));
        (r3, r11) = (Avx512F.PermuteVar16x32x2(r3, Low8, r11), Avx512F.PermuteVar16x32x2(r3, High8, r11));
        (r4, r12) = (Avx512F.PermuteVar16x32x2(r4, Low8, r12), Avx512F.PermuteVar16x32x2(r4, High8, r12));
        (r5, r13) = (Avx512F.PermuteVar16x32x2(r5, Low8, r13), Avx512F.PermuteVar16x32x2(r5, High8, r13));
        (r6, r14) = (Avx512F.PermuteVar16x32x2(r6, Low8, r14), Avx512F.PermuteVar16x32x2(r6, High8, r14));
        (r7, r15) = (Avx512F.PermuteVar16x32x2(r7, Low8, r15), Avx512F.PermuteVar16x32x2(r7, High8, r15));
        (r0, r4) = (Avx512F.PermuteVar16x32x2(r0, Low4, r4), Avx512F.PermuteVar16x32x2(r0, High4, r4));
        (r1, r5) = (Avx512F.PermuteVar16x32x2(r1, Low4, r5), Avx512F.PermuteVar16x32x2(r1, High4, r5));
        (r2, r6) = (Avx512F.PermuteVar16x32x2(r2, Low4, r6), Avx512F.PermuteVar16x32x2(r2, High4, r6));
        (r3, r7) = (Avx512F.PermuteVar16x32x2(r3, Low4, r7), Avx512F.PermuteVar16x32x2(r3, High4, r7));
        (r8, r12) = (Avx512F.PermuteVar16x32x2(r8, Low4, r12), Avx512F.PermuteVar16x32x2(r8, High4, r12));
        (r9, r13) = (Avx512F.PermuteVar16x32x2(r9, Low4, r13), Avx512F.PermuteVar16x32x2(r9, High4, r13));
        (r10, r14) = (Avx512F.PermuteVar16x32x2(r10, Low4, r14), Avx512F.PermuteVar16x32x2(r10, High4, r14));
        (r11, r15) = (Avx512F.PermuteVar16x32x2(r11, Low4, r15), Avx512F.PermuteVar16x32x2(r11, High4, r15));
        (r0, r2) = (Avx512F.PermuteVar16x32x2(r0, Low2, r2), Avx512F.PermuteVar16x32x2(r0, High2, r2));
        (r1, r3) = (Avx512F.PermuteVar16x32x2(r1, Low2, r3), Avx512F.PermuteVar16x32x2(r1, High2, r3));
        (r4, r6) = (Avx512F.PermuteVar16x32x2(r4, Low2, r6), Avx512F.PermuteVar16x32x2(r4, High2, r6));
        (r5, r7) = (Avx512F.PermuteVar16x32x2(r5, Low2, r7), Avx512F.PermuteVar16x32x2(r5, High2, r7));
        (r8, r10) = (Avx512F.PermuteVar16x32x2(r8, Low2, r10), Avx512F.PermuteVar16x32x2(r8, High2, r10));
        (r9, r11) = (Avx512F.PermuteVar16x32x2(r9, Low2, r11), Avx512F.PermuteVar16x32x2(r9, High2, r11));
        (r12, r14) = (Avx512F.PermuteVar16x32x2(r12, Low2, r14), Avx512F.PermuteVar16x32x2(r12, High2, r14));
        (r13, r15) = (Avx512F.PermuteVar16x32x2(r13, Low2, r15), Avx512F.PermuteVar16x32x2(r13, High2, r15));
        (r0, r1) = (Avx512F.PermuteVar16x32x2(r0, Low1, r1), Avx512F.PermuteVar16x32x2(r0, High1, r1));
        (r2, r3) = (Avx512F.PermuteVar16x32x2(r2, Low1, r3), Avx512F.PermuteVar16x32x2(r2, High1, r3));
        (r4, r5) = (Avx512F.PermuteVar16x32x2(r4, Low1, r5), Avx512F.PermuteVar16x32x2(r4, High1, r5));
        (r6, r7) = (Avx512F.PermuteVar16x32x2(r6, Low1, r7), Avx512F.PermuteVar16x32x2(r6, High1, r7));
        (r8, r9) = (Avx512F.PermuteVar16x32x2(r8, Low1, r9), Avx512F.PermuteVar16x32x2(r8, High1, r9));
        (r10, r11) = (Avx512F.PermuteVar16x32x2(r10, Low1, r11), Avx512F.PermuteVar16x32x2(r10, High1, r11));
        (r12, r13) = (Avx512F.PermuteVar16x32x2(r12, Low1, r13), Avx512F.PermuteVar16x32x2(r12, High1, r13));
        (r14, r15) = (Avx512F.PermuteVar16x32x2(r14, Low1, r15), Avx512F.PermuteVar16x32x2(r14, High1, r15));
        Vector512.Store(r0, destination); Vector512.Store(r1, destination + destinationStride);
        Vector512.Store(r2, destination + 2 * destinationStride); Vector512.Store(r3, destination + 3 * destinationStride);
        Vector512.Store(r4, destination + 4 * destinationStride); Vector512.Store(r5, destination + 5 * destinationStride);
        Vector512.Store(r6, destination + 6 * destinationStride); Vector512.Store(r7, destination + 7 * destinationStride);
        Vector512.Store(r8, destination + 8 * destinationStride); Vector512.Store(r9, destination + 9 * destinationStride);
        Vector512.Store(r10, destination + 10 * destinationStride); Vector512.Store(r11, destination + 11 * destinationStride);
        Vector512.Store(r12, destination + 12 * destinationStride); Vector512.Store(r13, destination + 13 * destinationStride);
        Vector512.Store(r14, destination + 14 * destinationStride); Vector512.Store(r15, destination + 15 * destinationStride);
    }
}
