using System.Runtime.Intrinsics;

namespace AutoGrad.Kernels;

/// <summary>
/// A vector of <see cref="Count"/> floats at one width: the vocabulary every width-generic kernel is written in, once.
/// <see cref="Simd512"/>, <see cref="Simd256"/> and <see cref="Simd128"/> wrap the hardware vectors (Vector128 is NEON on
/// ARM64 and SSE/AVX on x86); <see cref="SimdScalar"/> is one float, the path where there is no SIMD at all. A kernel
/// generic over <c>TVec : unmanaged, ISimd&lt;TVec&gt;</c> is specialized per width by the JIT, and every call below
/// inlines to the one instruction it names, so the generic form costs nothing (measured: the 8 x 32 GEMM tile runs at
/// the same speed as its hand-written Vector512 twin). Every width uses fused multiply-adds, so a kernel gives the
/// same bits at every width.
/// </summary>
internal unsafe interface ISimd<TSelf> where TSelf : unmanaged, ISimd<TSelf>
{
    /// <summary>Floats per vector.</summary>
    static abstract int Count { get; }

    /// <summary>
    /// Vector registers the JIT can allocate at this width: 32 with AVX-512's EVEX encoding (at any width) and on
    /// ARM64, else 16. Register tiles are sized from it.
    /// </summary>
    static abstract int Registers { get; }

    /// <summary>Whether the hardware runs this width (and the JIT is allowed to use it).</summary>
    static abstract bool IsSupported { get; }

    static abstract TSelf Zero { get; }

    /// <summary>Every lane <paramref name="value"/>.</summary>
    static abstract TSelf Create(float value);

    /// <summary>Count floats from <paramref name="source"/>, any alignment.</summary>
    static abstract TSelf Load(float* source);

    static abstract void Store(TSelf value, float* destination);

    /// <summary>The first <paramref name="count"/> (0..Count) floats at <paramref name="source"/>, zeros above; never reads past them.</summary>
    static abstract TSelf LoadFirst(float* source, int count);

    /// <summary>Writes the first <paramref name="count"/> (0..Count) lanes; never writes past them.</summary>
    static abstract void StoreFirst(TSelf value, float* destination, int count);

    /// <summary>left * right + addend with one rounding.</summary>
    static abstract TSelf FusedMultiplyAdd(TSelf left, TSelf right, TSelf addend);

    /// <summary>
    /// vector * (*scalar) + addend with one rounding (the bits of <see cref="FusedMultiplyAdd"/> with a broadcast):
    /// the broadcast made inside, on the hardware vector, lets the JIT fold it into the multiply-add's memory operand
    /// and accumulate in place; a broadcast passed in as a wrapper value costs a separate broadcast and a register copy
    /// per multiply-add.
    /// </summary>
    static abstract TSelf MultiplyAddScalar(TSelf vector, float* scalar, TSelf addend);

    static abstract TSelf operator +(TSelf left, TSelf right);

    static abstract TSelf operator *(TSelf left, TSelf right);

    /// <summary>Bitwise and: with a mask from <see cref="FirstLanes"/>, keeps the first lanes and zeroes the rest.</summary>
    static abstract TSelf operator &(TSelf left, TSelf right);

    /// <summary>The lanewise maximum (as Vector128.Max: NaN propagates).</summary>
    static abstract TSelf Max(TSelf left, TSelf right);

    /// <summary>The lanewise minimum (as Vector128.Min: NaN propagates).</summary>
    static abstract TSelf Min(TSelf left, TSelf right);

    static abstract TSelf operator /(TSelf left, TSelf right);

    /// <summary>Each lane rounded to the nearest integer, ties to even.</summary>
    static abstract TSelf Round(TSelf value);

    /// <summary>2^n for lanes holding integers n in [-126, 127], built in the exponent bits.</summary>
    static abstract TSelf PowerOfTwo(TSelf n);

    /// <summary>A mask with all bits set in lanes [0, count) and clear above.</summary>
    static abstract TSelf FirstLanes(int count);

    /// <summary>Bitwise or (of masks).</summary>
    static abstract TSelf operator |(TSelf left, TSelf right);

    static abstract TSelf operator -(TSelf left, TSelf right);

    /// <summary>All bits set in the lanes where left == right.</summary>
    static abstract TSelf EqualTo(TSelf left, TSelf right);

    /// <summary>All bits set in the lanes where left &gt; right.</summary>
    static abstract TSelf GreaterThan(TSelf left, TSelf right);

    /// <summary>All bits set in the lanes that hold a NaN.</summary>
    static abstract TSelf IsNaN(TSelf value);

    /// <summary>Per bit: <paramref name="mask"/> ? <paramref name="left"/> : <paramref name="right"/>.</summary>
    static abstract TSelf ConditionalSelect(TSelf mask, TSelf left, TSelf right);

    /// <summary>0, 1, 2, ... in the lanes.</summary>
    static abstract TSelf LaneIndices { get; }

    /// <summary>The even and the odd lanes of the 2 x Count floats low, high (in that order).</summary>
    static abstract (TSelf Even, TSelf Odd) Deinterleave(TSelf low, TSelf high);

    /// <summary>The inverse of <see cref="Deinterleave"/>: even[0], odd[0], even[1], odd[1], ... as two vectors.</summary>
    static abstract (TSelf Low, TSelf High) Interleave(TSelf even, TSelf odd);

    /// <summary>Count ints from <paramref name="source"/>, each minus <paramref name="subtract"/> (in integers), as floats.</summary>
    static abstract TSelf LoadInt32AsSingle(int* source, int subtract);

    /// <summary>
    /// Writes the first <paramref name="count"/> lanes, integral floats, as ints plus <paramref name="offset"/> (added in
    /// integers, so offsets beyond float precision stay exact); never writes past them.
    /// </summary>
    static abstract void StoreFirstAsInt32(TSelf value, int offset, int* destination, int count);

    /// <summary>The sum of the lanes.</summary>
    static abstract float Sum(TSelf value);

    /// <summary>
    /// The transpose of the Count x Count block at <paramref name="source"/> (rows <paramref name="sourceStride"/> floats
    /// apart) written to <paramref name="destination"/> (rows <paramref name="destinationStride"/> apart), in registers.
    /// </summary>
    static abstract void Transpose(float* source, long sourceStride, float* destination, long destinationStride);
}

/// <summary>The widths a kernel can run at, widest first, and the one this process uses.</summary>
internal static class Simd
{
    /// <summary>
    /// The widest width the JIT accelerates here: 512 with AVX-512, 256 with AVX2 (or AVX-512 under
    /// DOTNET_PreferredVectorBitWidth=256 or DOTNET_EnableAVX512=0), 128 on ARM64 or under
    /// DOTNET_PreferredVectorBitWidth=128, 1 (scalar) under DOTNET_EnableHWIntrinsic=0.
    /// </summary>
    public static readonly int Width = Vector512.IsHardwareAccelerated ? 512 : Vector256.IsHardwareAccelerated ? 256
        : Vector128.IsHardwareAccelerated ? 128 : 32;

    /// <summary>The widths this machine runs, in bits (32 is the scalar path, always present): what kernel tests cover.</summary>
    public static IReadOnlyList<int> Supported { get; } =
        new[] { (512, Simd512.IsSupported), (256, Simd256.IsSupported), (128, Simd128.IsSupported), (32, true) }
            .Where(w => w.Item2).Select(w => w.Item1).ToArray();
}
