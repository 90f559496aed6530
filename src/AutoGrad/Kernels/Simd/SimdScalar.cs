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
    public static SimdScalar FirstLanes(int count) => new(count > 0 ? BitConverter.Int32BitsToSingle(-1) : 0f);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(SimdScalar value) => value._v;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Transpose(float* source, long sourceStride, float* destination, long destinationStride) => *destination = *source;
}
