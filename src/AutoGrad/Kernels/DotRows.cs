using System.Runtime.CompilerServices;

namespace AutoGrad.Kernels;

/// <summary>
/// C[m, n] (+)= A[m, k] B^T for a few rows of A (m up to 4) with B stored [n, k]: a linear layer's forward at batch 1 to
/// 4, where the packed GEMM would copy and transpose the whole weight matrix to produce one row. Each element is a dot
/// product of two contiguous rows, in vector lanes and then summed across them; each row of B is read once for all the
/// rows of A. The order of the additions differs from the packed GEMM's, so these products agree with it to rounding,
/// not bitwise; they are the same for any thread count.
/// </summary>
internal static unsafe class DotRows
{
    /// <summary>The most rows of A this path takes.</summary>
    public const int MaxRows = 4;

    /// <summary>C[0..m, j0..j1) of the product, on the calling thread.</summary>
    public static void Multiply<TVec>(float* a, float* b, float* c, int m, int n, int k, bool accumulate, int j0, int j1) where TVec : unmanaged, ISimd<TVec>
    {
        // four rows of A at a time with 32 registers (16 sums, four B vectors, one A vector), two with 16
        int rowsPerPass = TVec.Registers >= 32 ? 4 : 2;
        for (int i = 0; i < m; i += rowsPerPass)
        {
            switch (Math.Min(rowsPerPass, m - i))
            {
                case 1: Rows<TVec, One>(a + (long)i * k, b, c + (long)i * n, n, k, accumulate, j0, j1); break;
                case 2: Rows<TVec, Two>(a + (long)i * k, b, c + (long)i * n, n, k, accumulate, j0, j1); break;
                case 3: Rows<TVec, Three>(a + (long)i * k, b, c + (long)i * n, n, k, accumulate, j0, j1); break;
                default: Rows<TVec, Four>(a + (long)i * k, b, c + (long)i * n, n, k, accumulate, j0, j1); break;
            }
        }
    }

    /// <summary>TRows rows of A against the rows [j0, j1) of B, four rows of B at a time (the last block repeating its last row).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows<TVec, TRows>(float* a, float* b, float* c, int ldc, int k, bool accumulate, int j0, int j1)
        where TVec : unmanaged, ISimd<TVec> where TRows : struct, ICount
    {
        int w = TVec.Count, full = k / w * w, rest = k - full;
        float* r0 = a, r1 = a + Math.Min(1, TRows.Value - 1) * (long)k, r2 = a + Math.Min(2, TRows.Value - 1) * (long)k, r3 = a + Math.Min(3, TRows.Value - 1) * (long)k;
        for (int j = j0; j < j1; j += 4)
        {
            int count = Math.Min(4, j1 - j);
            float* q0 = b + (long)j * k, q1 = b + (long)Math.Min(j + 1, j1 - 1) * k;
            float* q2 = b + (long)Math.Min(j + 2, j1 - 1) * k, q3 = b + (long)Math.Min(j + 3, j1 - 1) * k;
            TVec s00 = default, s01 = default, s02 = default, s03 = default;
            TVec s10 = default, s11 = default, s12 = default, s13 = default;
            TVec s20 = default, s21 = default, s22 = default, s23 = default;
            TVec s30 = default, s31 = default, s32 = default, s33 = default;
            int p = 0;
            for (; p < full; p += w)
            {
                var b0 = TVec.Load(q0 + p); var b1 = TVec.Load(q1 + p); var b2 = TVec.Load(q2 + p); var b3 = TVec.Load(q3 + p);
                var a0 = TVec.Load(r0 + p); s00 = TVec.FusedMultiplyAdd(a0, b0, s00); s01 = TVec.FusedMultiplyAdd(a0, b1, s01); s02 = TVec.FusedMultiplyAdd(a0, b2, s02); s03 = TVec.FusedMultiplyAdd(a0, b3, s03);
                if (TRows.Value > 1) { var a1 = TVec.Load(r1 + p); s10 = TVec.FusedMultiplyAdd(a1, b0, s10); s11 = TVec.FusedMultiplyAdd(a1, b1, s11); s12 = TVec.FusedMultiplyAdd(a1, b2, s12); s13 = TVec.FusedMultiplyAdd(a1, b3, s13); }
                if (TRows.Value > 2) { var a2 = TVec.Load(r2 + p); s20 = TVec.FusedMultiplyAdd(a2, b0, s20); s21 = TVec.FusedMultiplyAdd(a2, b1, s21); s22 = TVec.FusedMultiplyAdd(a2, b2, s22); s23 = TVec.FusedMultiplyAdd(a2, b3, s23); }
                if (TRows.Value > 3) { var a3 = TVec.Load(r3 + p); s30 = TVec.FusedMultiplyAdd(a3, b0, s30); s31 = TVec.FusedMultiplyAdd(a3, b1, s31); s32 = TVec.FusedMultiplyAdd(a3, b2, s32); s33 = TVec.FusedMultiplyAdd(a3, b3, s33); }
            }
            if (rest > 0)
            {
                var b0 = TVec.LoadFirst(q0 + p, rest); var b1 = TVec.LoadFirst(q1 + p, rest); var b2 = TVec.LoadFirst(q2 + p, rest); var b3 = TVec.LoadFirst(q3 + p, rest);
                var a0 = TVec.LoadFirst(r0 + p, rest); s00 = TVec.FusedMultiplyAdd(a0, b0, s00); s01 = TVec.FusedMultiplyAdd(a0, b1, s01); s02 = TVec.FusedMultiplyAdd(a0, b2, s02); s03 = TVec.FusedMultiplyAdd(a0, b3, s03);
                if (TRows.Value > 1) { var a1 = TVec.LoadFirst(r1 + p, rest); s10 = TVec.FusedMultiplyAdd(a1, b0, s10); s11 = TVec.FusedMultiplyAdd(a1, b1, s11); s12 = TVec.FusedMultiplyAdd(a1, b2, s12); s13 = TVec.FusedMultiplyAdd(a1, b3, s13); }
                if (TRows.Value > 2) { var a2 = TVec.LoadFirst(r2 + p, rest); s20 = TVec.FusedMultiplyAdd(a2, b0, s20); s21 = TVec.FusedMultiplyAdd(a2, b1, s21); s22 = TVec.FusedMultiplyAdd(a2, b2, s22); s23 = TVec.FusedMultiplyAdd(a2, b3, s23); }
                if (TRows.Value > 3) { var a3 = TVec.LoadFirst(r3 + p, rest); s30 = TVec.FusedMultiplyAdd(a3, b0, s30); s31 = TVec.FusedMultiplyAdd(a3, b1, s31); s32 = TVec.FusedMultiplyAdd(a3, b2, s32); s33 = TVec.FusedMultiplyAdd(a3, b3, s33); }
            }
            Store4(c + 0 * (long)ldc + j, count, accumulate, TVec.Sum(s00), TVec.Sum(s01), TVec.Sum(s02), TVec.Sum(s03));
            if (TRows.Value > 1) { Store4(c + 1 * (long)ldc + j, count, accumulate, TVec.Sum(s10), TVec.Sum(s11), TVec.Sum(s12), TVec.Sum(s13)); }
            if (TRows.Value > 2) { Store4(c + 2 * (long)ldc + j, count, accumulate, TVec.Sum(s20), TVec.Sum(s21), TVec.Sum(s22), TVec.Sum(s23)); }
            if (TRows.Value > 3) { Store4(c + 3 * (long)ldc + j, count, accumulate, TVec.Sum(s30), TVec.Sum(s31), TVec.Sum(s32), TVec.Sum(s33)); }
        }
    }

    /// <summary>Writes (or adds) the first <paramref name="count"/> of four sums to consecutive elements of C.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store4(float* c, int count, bool accumulate, float s0, float s1, float s2, float s3)
    {
        c[0] = accumulate ? c[0] + s0 : s0;
        if (count > 1)
        {
            c[1] = accumulate ? c[1] + s1 : s1;
        }
        if (count > 2)
        {
            c[2] = accumulate ? c[2] + s2 : s2;
        }
        if (count > 3)
        {
            c[3] = accumulate ? c[3] + s3 : s3;
        }
    }
}
