using System.Runtime.CompilerServices;

namespace AutoGrad.Kernels;

/// <summary>
/// One float: the width-generic kernels run unchanged where there is no SIMD at all (DOTNET_EnableHWIntrinsic=0, or a
/// CPU the JIT does not vectorize for), with the same fused multiply-adds and so the same bits as the vector widths.
/// </summary>
internal readonly unsafe struct SimdScalar : ISimd<SimdScalar>
{
    private readonly float _v;

    private SimdScalar(float v) => _v = v;

    public static int Count => 1;

    public static int Registers => 16;

    public static bool IsSupported => true;

    public static SimdScalar Zero => default;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdScalar Create(float value) => new(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdScalar Load(float* source) => new(*source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(SimdScalar value, float* destination) => *destination = value._v;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdScalar LoadFirst(float* source, int count) => new(count > 0 ? *source : 0f);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreFirst(SimdScalar value, float* destination, int count)
    {
        if (count > 0)
        {
            *destination = value._v;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdScalar FusedMultiplyAdd(SimdScalar left, SimdScalar right, SimdScalar addend) => new(MathF.FusedMultiplyAdd(left._v, right._v, addend._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdScalar MultiplyAddScalar(SimdScalar vector, float* scalar, SimdScalar addend) => new(MathF.FusedMultiplyAdd(vector._v, *scalar, addend._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdScalar operator +(SimdScalar left, SimdScalar right) => new(left._v + right._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdScalar operator *(SimdScalar left, SimdScalar right) => new(left._v * right._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdScalar operator &(SimdScalar left, SimdScalar right)
        => new(BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(left._v) & BitConverter.SingleToInt32Bits(right._v)));

    /// <summary>As Vector128.Max: NaN if either is NaN, and +0 over -0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdScalar Max(SimdScalar left, SimdScalar right) => new(MathF.Max(left._v, right._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdScalar Min(SimdScalar left, SimdScalar right) => new(MathF.Min(left._v, right._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdScalar operator /(SimdScalar left, SimdScalar right) => new(left._v / right._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdScalar Round(SimdScalar value) => new(MathF.Round(value._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdScalar PowerOfTwo(SimdScalar n) => new(BitConverter.Int32BitsToSingle(((int)n._v + 127) << 23));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdScalar FirstLanes(int count) => new(count > 0 ? AllBits : 0f);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdScalar operator |(SimdScalar left, SimdScalar right)
        => new(BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(left._v) | BitConverter.SingleToInt32Bits(right._v)));

    private static float AllBits
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => BitConverter.Int32BitsToSingle(-1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdScalar operator -(SimdScalar left, SimdScalar right) => new(left._v - right._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdScalar EqualTo(SimdScalar left, SimdScalar right) => new(left._v == right._v ? AllBits : 0f);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdScalar GreaterThan(SimdScalar left, SimdScalar right) => new(left._v > right._v ? AllBits : 0f);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdScalar IsNaN(SimdScalar value) => new(float.IsNaN(value._v) ? AllBits : 0f);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdScalar ConditionalSelect(SimdScalar mask, SimdScalar left, SimdScalar right)
    {
        int m = BitConverter.SingleToInt32Bits(mask._v);
        return new(BitConverter.Int32BitsToSingle((BitConverter.SingleToInt32Bits(left._v) & m) | (BitConverter.SingleToInt32Bits(right._v) & ~m)));
    }

    public static SimdScalar LaneIndices
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => default;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (SimdScalar Even, SimdScalar Odd) Deinterleave(SimdScalar low, SimdScalar high) => (low, high);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (SimdScalar Low, SimdScalar High) Interleave(SimdScalar even, SimdScalar odd) => (even, odd);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SimdScalar LoadInt32AsSingle(int* source, int subtract) => new(*source - subtract);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreFirstAsInt32(SimdScalar value, int offset, int* destination, int count)
    {
        if (count > 0)
        {
            *destination = (int)value._v + offset;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(SimdScalar value) => value._v;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Transpose(float* source, long sourceStride, float* destination, long destinationStride) => *destination = *source;
}
