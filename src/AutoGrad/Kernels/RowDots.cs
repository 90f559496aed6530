using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AutoGrad.Kernels;

/// <summary>
/// C[i, j] (+)= sum_p A[i, p] B[j, p] for A [m, k] and B [n, k] with k contiguous in both: the product of a small
/// output and a long inner dimension, such as a convolution's weight gradient (grad [O, pixels] times columns
/// [taps, pixels]). A GEMM would first transpose-pack all of B for a handful of outputs; here a 4 x 4 block of dot
/// products streams both operands once, with 16 vector accumulators. The order of every sum is fixed by the shapes.
/// Without AVX-512 it is the GEMM with B transposed in packing (the sums then run in the GEMM's order).
/// </summary>
internal static unsafe class RowDots
{
    private const int Block = 4;

    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k, bool accumulate)
    {
        if ((long)m * k > a.Length || (long)n * k > b.Length || (long)m * n > c.Length)
        {
            throw new ArgumentException($"RowDots: buffers of {a.Length}, {b.Length}, {c.Length} floats are too small for m={m}, n={n}, k={k}.");
        }
        if (!Vector512.IsHardwareAccelerated || !Avx512F.IsSupported)
        {
            Gemm.Multiply(a, b, c, m, n, k, transB: true, accumulate: accumulate, serial: true);
            return;
        }
        fixed (float* pa = a, pb = b, pc = c)
        {
            for (int i = 0; i < m; i += Block)
            {
                for (int j = 0; j < n; j += Block)
                {
                    Block4x4(pa, pb, pc, i, j, m, n, k, accumulate);
                }
            }
        }
    }

    // Rows past the end of A or B repeat the last row (so the loads stay in bounds); their sums are not stored.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block4x4(float* a, float* b, float* c, int i, int j, int m, int n, int k, bool accumulate)
    {
        float* a0 = a + (long)i * k, a1 = a + (long)Math.Min(i + 1, m - 1) * k;
        float* a2 = a + (long)Math.Min(i + 2, m - 1) * k, a3 = a + (long)Math.Min(i + 3, m - 1) * k;
        float* b0 = b + (long)j * k, b1 = b + (long)Math.Min(j + 1, n - 1) * k;
        float* b2 = b + (long)Math.Min(j + 2, n - 1) * k, b3 = b + (long)Math.Min(j + 3, n - 1) * k;
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default;
        int full = k / 16 * 16;
        for (int p = 0; p < full; p += 16)
        {
            var x0 = Vector512.Load(a0 + p);
            var x1 = Vector512.Load(a1 + p);
            var x2 = Vector512.Load(a2 + p);
            var x3 = Vector512.Load(a3 + p);
            var y = Vector512.Load(b0 + p);
            c00 = Vector512.FusedMultiplyAdd(x0, y, c00); c10 = Vector512.FusedMultiplyAdd(x1, y, c10);
            c20 = Vector512.FusedMultiplyAdd(x2, y, c20); c30 = Vector512.FusedMultiplyAdd(x3, y, c30);
            y = Vector512.Load(b1 + p);
            c01 = Vector512.FusedMultiplyAdd(x0, y, c01); c11 = Vector512.FusedMultiplyAdd(x1, y, c11);
            c21 = Vector512.FusedMultiplyAdd(x2, y, c21); c31 = Vector512.FusedMultiplyAdd(x3, y, c31);
            y = Vector512.Load(b2 + p);
            c02 = Vector512.FusedMultiplyAdd(x0, y, c02); c12 = Vector512.FusedMultiplyAdd(x1, y, c12);
            c22 = Vector512.FusedMultiplyAdd(x2, y, c22); c32 = Vector512.FusedMultiplyAdd(x3, y, c32);
            y = Vector512.Load(b3 + p);
            c03 = Vector512.FusedMultiplyAdd(x0, y, c03); c13 = Vector512.FusedMultiplyAdd(x1, y, c13);
            c23 = Vector512.FusedMultiplyAdd(x2, y, c23); c33 = Vector512.FusedMultiplyAdd(x3, y, c33);
        }
        if (full < k)
        {
            // the last partial vector, loaded masked so nothing past the rows is read
            var (mask, _) = ShortRows.Masks(k - full);
            var zero = Vector512<float>.Zero;
            var x0 = Avx512F.MaskLoad(a0 + full, mask, zero);
            var x1 = Avx512F.MaskLoad(a1 + full, mask, zero);
            var x2 = Avx512F.MaskLoad(a2 + full, mask, zero);
            var x3 = Avx512F.MaskLoad(a3 + full, mask, zero);
            var y = Avx512F.MaskLoad(b0 + full, mask, zero);
            c00 = Vector512.FusedMultiplyAdd(x0, y, c00); c10 = Vector512.FusedMultiplyAdd(x1, y, c10);
            c20 = Vector512.FusedMultiplyAdd(x2, y, c20); c30 = Vector512.FusedMultiplyAdd(x3, y, c30);
            y = Avx512F.MaskLoad(b1 + full, mask, zero);
            c01 = Vector512.FusedMultiplyAdd(x0, y, c01); c11 = Vector512.FusedMultiplyAdd(x1, y, c11);
            c21 = Vector512.FusedMultiplyAdd(x2, y, c21); c31 = Vector512.FusedMultiplyAdd(x3, y, c31);
            y = Avx512F.MaskLoad(b2 + full, mask, zero);
            c02 = Vector512.FusedMultiplyAdd(x0, y, c02); c12 = Vector512.FusedMultiplyAdd(x1, y, c12);
            c22 = Vector512.FusedMultiplyAdd(x2, y, c22); c32 = Vector512.FusedMultiplyAdd(x3, y, c32);
            y = Avx512F.MaskLoad(b3 + full, mask, zero);
            c03 = Vector512.FusedMultiplyAdd(x0, y, c03); c13 = Vector512.FusedMultiplyAdd(x1, y, c13);
            c23 = Vector512.FusedMultiplyAdd(x2, y, c23); c33 = Vector512.FusedMultiplyAdd(x3, y, c33);
        }
        Store(c, i, j, m, n, 0, 0, c00, accumulate); Store(c, i, j, m, n, 0, 1, c01, accumulate);
        Store(c, i, j, m, n, 0, 2, c02, accumulate); Store(c, i, j, m, n, 0, 3, c03, accumulate);
        Store(c, i, j, m, n, 1, 0, c10, accumulate); Store(c, i, j, m, n, 1, 1, c11, accumulate);
        Store(c, i, j, m, n, 1, 2, c12, accumulate); Store(c, i, j, m, n, 1, 3, c13, accumulate);
        Store(c, i, j, m, n, 2, 0, c20, accumulate); Store(c, i, j, m, n, 2, 1, c21, accumulate);
        Store(c, i, j, m, n, 2, 2, c22, accumulate); Store(c, i, j, m, n, 2, 3, c23, accumulate);
        Store(c, i, j, m, n, 3, 0, c30, accumulate); Store(c, i, j, m, n, 3, 1, c31, accumulate);
        Store(c, i, j, m, n, 3, 2, c32, accumulate); Store(c, i, j, m, n, 3, 3, c33, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, int i, int j, int m, int n, int di, int dj, Vector512<float> sum, bool accumulate)
    {
        if (i + di < m && j + dj < n)
        {
            float* target = c + (long)(i + di) * n + j + dj;
            float total = Vector512.Sum(sum);
            *target = accumulate ? *target + total : total;
        }
    }
}
