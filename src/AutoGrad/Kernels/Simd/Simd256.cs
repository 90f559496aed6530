using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AutoGrad.Kernels;

/// <summary>8 floats (AVX2 on x86; ARM64 has no 256-bit vectors, so this width is never used there).</summary>
internal readonly unsafe struct Simd256 : ISimd<Simd256>
{
    // an expression, not a static readonly field: a constant even before the type is initialized (see Simd512)
    private static Vector256<int> Indices
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
    }

    private readonly Vector256<float> _v;

    private Simd256(Vector256<float> v) => _v = v;

    public static int Count => 8;

    public static int Registers => Avx512F.IsSupported ? 32 : 16;

    public static bool IsSupported => Vector256.IsHardwareAccelerated && Avx2.IsSupported;

    public static Simd256 Zero => default;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256 Create(float value) => new(Vector256.Create(value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256 Load(float* source) => new(Vector256.Load(source));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Simd256 value, float* destination) => Vector256.Store(value._v, destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256 LoadFirst(float* source, int count) => new(Avx.MaskLoad(source, FirstLanes(count)._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreFirst(Simd256 value, float* destination, int count) => Avx.MaskStore(destination, FirstLanes(count)._v, value._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256 FusedMultiplyAdd(Simd256 left, Simd256 right, Simd256 addend) => new(Vector256.FusedMultiplyAdd(left._v, right._v, addend._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256 MultiplyAddScalar(Simd256 vector, float* scalar, Simd256 addend) => new(Vector256.FusedMultiplyAdd(vector._v, Vector256.Create(*scalar), addend._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256 operator +(Simd256 left, Simd256 right) => new(left._v + right._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256 operator *(Simd256 left, Simd256 right) => new(left._v * right._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256 operator &(Simd256 left, Simd256 right) => new(left._v & right._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256 Max(Simd256 left, Simd256 right) => new(Vector256.Max(left._v, right._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256 Min(Simd256 left, Simd256 right) => new(Vector256.Min(left._v, right._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256 operator /(Simd256 left, Simd256 right) => new(left._v / right._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256 Round(Simd256 value) => new(Vector256.Round(value._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256 PowerOfTwo(Simd256 n) => new(Vector256.ShiftLeft(Vector256.ConvertToInt32(n._v) + Vector256.Create(127), 23).AsSingle());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256 FirstLanes(int count) => new(Vector256.LessThan(Indices, Vector256.Create(count)).AsSingle());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256 operator |(Simd256 left, Simd256 right) => new(left._v | right._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256 operator -(Simd256 left, Simd256 right) => new(left._v - right._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256 EqualTo(Simd256 left, Simd256 right) => new(Vector256.Equals(left._v, right._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256 GreaterThan(Simd256 left, Simd256 right) => new(Vector256.GreaterThan(left._v, right._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256 IsNaN(Simd256 value) => new(~Vector256.Equals(value._v, value._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256 ConditionalSelect(Simd256 mask, Simd256 left, Simd256 right) => new(Vector256.ConditionalSelect(mask._v, left._v, right._v));

    public static Simd256 LaneIndices
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => new(Vector256.ConvertToSingle(Indices));
    }

    /// <summary>shufps takes the even (odd) lanes of each 128-bit half of both inputs; vpermpd puts the halves in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Simd256 Even, Simd256 Odd) Deinterleave(Simd256 low, Simd256 high)
        => (new(Avx2.Permute4x64(Avx.Shuffle(low._v, high._v, 0x88).AsDouble(), 0xD8).AsSingle()),
            new(Avx2.Permute4x64(Avx.Shuffle(low._v, high._v, 0xDD).AsDouble(), 0xD8).AsSingle()));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Simd256 Low, Simd256 High) Interleave(Simd256 even, Simd256 odd)
    {
        var low = Avx.UnpackLow(even._v, odd._v);   // e0 o0 e1 o1 | e4 o4 e5 o5
        var high = Avx.UnpackHigh(even._v, odd._v); // e2 o2 e3 o3 | e6 o6 e7 o7
        return (new(Avx.Permute2x128(low, high, 0x20)), new(Avx.Permute2x128(low, high, 0x31)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd256 LoadInt32AsSingle(int* source, int subtract) => new(Vector256.ConvertToSingle(Vector256.Load(source) - Vector256.Create(subtract)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreFirstAsInt32(Simd256 value, int offset, int* destination, int count)
        => Avx2.MaskStore(destination, Vector256.LessThan(Indices, Vector256.Create(count)), Vector256.ConvertToInt32(value._v) + Vector256.Create(offset));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Simd256 value) => Vector256.Sum(value._v);

    /// <summary>Unpacks, shuffles and lane permutes: 24 shuffles for 64 values, all in registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Transpose(float* source, long sourceStride, float* destination, long destinationStride)
    {
        var r0 = Avx.LoadVector256(source);
        var r1 = Avx.LoadVector256(source + sourceStride);
        var r2 = Avx.LoadVector256(source + 2 * sourceStride);
        var r3 = Avx.LoadVector256(source + 3 * sourceStride);
        var r4 = Avx.LoadVector256(source + 4 * sourceStride);
        var r5 = Avx.LoadVector256(source + 5 * sourceStride);
        var r6 = Avx.LoadVector256(source + 6 * sourceStride);
        var r7 = Avx.LoadVector256(source + 7 * sourceStride);
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44);
        var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44);
        var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(destination, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(destination + destinationStride, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(destination + 2 * destinationStride, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(destination + 3 * destinationStride, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(destination + 4 * destinationStride, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(destination + 5 * destinationStride, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(destination + 6 * destinationStride, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(destination + 7 * destinationStride, Avx.Permute2x128(u3, u7, 0x31));
    }
}
