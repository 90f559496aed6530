using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace AutoGrad.Kernels;

/// <summary>4 floats: NEON on ARM64 (Apple Silicon, Windows on ARM, ARM servers), SSE/AVX on x86.</summary>
internal readonly unsafe struct Simd128 : ISimd<Simd128>
{
    // an expression, not a static readonly field: a constant even before the type is initialized (see Simd512)
    private static Vector128<int> Indices
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector128.Create(0, 1, 2, 3);
    }

    private readonly Vector128<float> _v;

    private Simd128(Vector128<float> v) => _v = v;

    public static int Count => 4;

    public static int Registers => AdvSimd.Arm64.IsSupported || Avx512F.IsSupported ? 32 : 16;

    public static bool IsSupported => Vector128.IsHardwareAccelerated;

    public static Simd128 Zero => default;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128 Create(float value) => new(Vector128.Create(value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128 Load(float* source) => new(Vector128.Load(source));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Simd128 value, float* destination) => Vector128.Store(value._v, destination);

    /// <summary>AVX's masked load on x86; elsewhere (NEON has none) the lanes one by one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128 LoadFirst(float* source, int count)
    {
        if (Avx.IsSupported)
        {
            return new(Avx.MaskLoad(source, FirstLanes(count)._v));
        }
        if (count >= 4)
        {
            return Load(source);
        }
        var v = Vector128<float>.Zero;
        for (int i = 0; i < count; i++)
        {
            v = v.WithElement(i, source[i]);
        }
        return new(v);
    }

    /// <summary>AVX's masked store on x86; elsewhere the lanes one by one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreFirst(Simd128 value, float* destination, int count)
    {
        if (Avx.IsSupported)
        {
            Avx.MaskStore(destination, FirstLanes(count)._v, value._v);
            return;
        }
        if (count >= 4)
        {
            Store(value, destination);
            return;
        }
        for (int i = 0; i < count; i++)
        {
            destination[i] = value._v.GetElement(i);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128 FusedMultiplyAdd(Simd128 left, Simd128 right, Simd128 addend) => new(Vector128.FusedMultiplyAdd(left._v, right._v, addend._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128 MultiplyAddScalar(Simd128 vector, float* scalar, Simd128 addend) => new(Vector128.FusedMultiplyAdd(vector._v, Vector128.Create(*scalar), addend._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128 operator +(Simd128 left, Simd128 right) => new(left._v + right._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128 operator *(Simd128 left, Simd128 right) => new(left._v * right._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128 operator &(Simd128 left, Simd128 right) => new(left._v & right._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128 Max(Simd128 left, Simd128 right) => new(Vector128.Max(left._v, right._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128 Min(Simd128 left, Simd128 right) => new(Vector128.Min(left._v, right._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128 operator /(Simd128 left, Simd128 right) => new(left._v / right._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128 Round(Simd128 value) => new(Vector128.Round(value._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128 PowerOfTwo(Simd128 n) => new(Vector128.ShiftLeft(Vector128.ConvertToInt32(n._v) + Vector128.Create(127), 23).AsSingle());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128 FirstLanes(int count) => new(Vector128.LessThan(Indices, Vector128.Create(count)).AsSingle());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128 operator |(Simd128 left, Simd128 right) => new(left._v | right._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128 operator -(Simd128 left, Simd128 right) => new(left._v - right._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128 EqualTo(Simd128 left, Simd128 right) => new(Vector128.Equals(left._v, right._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128 GreaterThan(Simd128 left, Simd128 right) => new(Vector128.GreaterThan(left._v, right._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128 IsNaN(Simd128 value) => new(~Vector128.Equals(value._v, value._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128 ConditionalSelect(Simd128 mask, Simd128 left, Simd128 right) => new(Vector128.ConditionalSelect(mask._v, left._v, right._v));

    public static Simd128 LaneIndices
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => new(Vector128.Create(0f, 1f, 2f, 3f));
    }

    /// <summary>ARM64: UZP1/UZP2; x86: shufps; elsewhere lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Simd128 Even, Simd128 Odd) Deinterleave(Simd128 low, Simd128 high)
    {
        if (AdvSimd.Arm64.IsSupported)
        {
            return (new(AdvSimd.Arm64.UnzipEven(low._v, high._v)), new(AdvSimd.Arm64.UnzipOdd(low._v, high._v)));
        }
        if (Sse.IsSupported)
        {
            return (new(Sse.Shuffle(low._v, high._v, 0x88)), new(Sse.Shuffle(low._v, high._v, 0xDD)));
        }
        return (new(Vector128.Create(low._v[0], low._v[2], high._v[0], high._v[2])), new(Vector128.Create(low._v[1], low._v[3], high._v[1], high._v[3])));
    }

    /// <summary>ARM64: ZIP1/ZIP2; x86: unpcklps/unpckhps; elsewhere lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (Simd128 Low, Simd128 High) Interleave(Simd128 even, Simd128 odd)
    {
        if (AdvSimd.Arm64.IsSupported)
        {
            return (new(AdvSimd.Arm64.ZipLow(even._v, odd._v)), new(AdvSimd.Arm64.ZipHigh(even._v, odd._v)));
        }
        if (Sse.IsSupported)
        {
            return (new(Sse.UnpackLow(even._v, odd._v)), new(Sse.UnpackHigh(even._v, odd._v)));
        }
        return (new(Vector128.Create(even._v[0], odd._v[0], even._v[1], odd._v[1])), new(Vector128.Create(even._v[2], odd._v[2], even._v[3], odd._v[3])));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Simd128 LoadInt32AsSingle(int* source, int subtract) => new(Vector128.ConvertToSingle(Vector128.Load(source) - Vector128.Create(subtract)));

    /// <summary>AVX2's masked store on x86; elsewhere the lanes one by one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreFirstAsInt32(Simd128 value, int offset, int* destination, int count)
    {
        var integers = Vector128.ConvertToInt32(value._v) + Vector128.Create(offset);
        if (Avx2.IsSupported)
        {
            Avx2.MaskStore(destination, Vector128.LessThan(Indices, Vector128.Create(count)), integers);
            return;
        }
        if (count >= 4)
        {
            Vector128.Store(integers, destination);
            return;
        }
        for (int i = 0; i < count; i++)
        {
            destination[i] = integers.GetElement(i);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Simd128 value) => Vector128.Sum(value._v);

    /// <summary>
    /// ARM64: TRN1/TRN2 on 32-bit lanes, then on 64-bit halves; x86: SSE's unpacks and half moves. Elsewhere value by value.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Transpose(float* source, long sourceStride, float* destination, long destinationStride)
    {
        var r0 = Vector128.Load(source);
        var r1 = Vector128.Load(source + sourceStride);
        var r2 = Vector128.Load(source + 2 * sourceStride);
        var r3 = Vector128.Load(source + 3 * sourceStride);
        if (AdvSimd.Arm64.IsSupported)
        {
            // t0 = a0 b0 a2 b2, t1 = a1 b1 a3 b3, t2 = c0 d0 c2 d2, t3 = c1 d1 c3 d3
            var t0 = AdvSimd.Arm64.TransposeEven(r0, r1).AsUInt64();
            var t1 = AdvSimd.Arm64.TransposeOdd(r0, r1).AsUInt64();
            var t2 = AdvSimd.Arm64.TransposeEven(r2, r3).AsUInt64();
            var t3 = AdvSimd.Arm64.TransposeOdd(r2, r3).AsUInt64();
            Vector128.Store(AdvSimd.Arm64.TransposeEven(t0, t2).AsSingle(), destination);
            Vector128.Store(AdvSimd.Arm64.TransposeEven(t1, t3).AsSingle(), destination + destinationStride);
            Vector128.Store(AdvSimd.Arm64.TransposeOdd(t0, t2).AsSingle(), destination + 2 * destinationStride);
            Vector128.Store(AdvSimd.Arm64.TransposeOdd(t1, t3).AsSingle(), destination + 3 * destinationStride);
            return;
        }
        if (Sse.IsSupported)
        {
            // t0 = a0 b0 a1 b1, t1 = a2 b2 a3 b3, t2 = c0 d0 c1 d1, t3 = c2 d2 c3 d3
            var t0 = Sse.UnpackLow(r0, r1);
            var t1 = Sse.UnpackHigh(r0, r1);
            var t2 = Sse.UnpackLow(r2, r3);
            var t3 = Sse.UnpackHigh(r2, r3);
            Vector128.Store(Sse.MoveLowToHigh(t0, t2), destination);
            Vector128.Store(Sse.MoveHighToLow(t2, t0), destination + destinationStride);
            Vector128.Store(Sse.MoveLowToHigh(t1, t3), destination + 2 * destinationStride);
            Vector128.Store(Sse.MoveHighToLow(t3, t1), destination + 3 * destinationStride);
            return;
        }
        for (int i = 0; i < 4; i++)
        {
            for (int j = 0; j < 4; j++)
            {
                destination[j * destinationStride + i] = source[i * sourceStride + j];
            }
        }
    }
}
