using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace AutoGrad.Kernels;

/// <summary>
/// Single-precision matrix multiply, C = op(A) op(B) (+ C), in the GotoBLAS structure: B is packed into panels of
/// <see cref="NR"/> columns and A into panels of <see cref="MR"/> rows, cache blocked by <see cref="KC"/> (depth) and
/// <see cref="MC"/> (rows), and a register-tiled micro-kernel keeps an MR x NR block of C in vector registers.
/// Transposed operands are handled while packing, never materialized. Large products split the rows of C across
/// cores; every element of C is computed by the same sequence of operations whatever the thread count.
/// </summary>
internal static unsafe class Gemm
{
    // Rows of the micro-tile: 6 x 2 accumulators fit AVX2's 16 registers; with AVX-512's 32 registers 8 rows measured
    // best (16 accumulators; 12 and 14 rows were not faster here), and 8 rows are packed with register transposes.
    private const int MR256 = 6;
    private const int MR512 = 8;
    private static readonly int MR = Vector512.IsHardwareAccelerated ? MR512 : MR256;

    // Panel width: two vectors per row of the micro-tile, 32 floats with AVX-512, else 16. Each element of C is the
    // same chain of fused multiply-adds either way, so both widths give bitwise identical results.
    private static readonly int NR = Vector512.IsHardwareAccelerated ? 32 : 16;
    private const int KC = 512; // depth block: 512 ran the skinny training shapes (k = 784) 10-20% faster than 256 on 2 threads, squares alike
    private const int MC = 96;
    private const int NC = 2048;
    private const long ParallelThreshold = 1L << 23; // multiply-adds below which threads cost more than they save

    /// <summary>
    /// C[m, n] = op(A)[m, k] * op(B)[k, n], or C += that when <paramref name="accumulate"/>. A is stored [m, k]
    /// (or [k, m] when <paramref name="transA"/>), B is stored [k, n] (or [n, k] when <paramref name="transB"/>), all row-major.
    /// <paramref name="serial"/> keeps the product on the calling thread (the caller already runs one per core); the
    /// result is the same either way.
    /// </summary>
    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k,
        bool transA = false, bool transB = false, bool accumulate = false, bool serial = false)
    {
        if ((long)m * k > a.Length || (long)k * n > b.Length || (long)m * n > c.Length)
        {
            throw new ArgumentException($"Gemm: buffers of {a.Length}, {b.Length}, {c.Length} floats are too small for m={m}, n={n}, k={k}.");
        }
        if (m == 0 || n == 0)
        {
            return;
        }
        if (k == 0)
        {
            if (!accumulate)
            {
                c[..(m * n)].Clear();
            }
            return;
        }
        if (!Vector256.IsHardwareAccelerated)
        {
            Reference(a, b, c, m, n, k, transA, transB, accumulate);
            return;
        }

        int maxThreads = !serial && (long)m * n * k >= ParallelThreshold ? Parallelism.MaxThreads : 1;
        int rowTiles = (m + MR - 1) / MR, columnTiles = (n + NR - 1) / NR;
        fixed (float* pa = a, pb = b, pc = c)
        {
            var job = new Job(pa, pb, pc, m, n, k, transA, transB);
            int threads = Math.Min(maxThreads, Math.Max(rowTiles, columnTiles));
            if (threads <= 1)
            {
                Block(job, 0, m, 0, n, accumulate);
                return;
            }
            MultiplyInParallel(job, threads, rowTiles, columnTiles, accumulate);
        }
    }

    /// <summary>
    /// One parallel region per call: each thread owns a band of whole MR-row tiles (or, when C has few rows, of whole
    /// NR-column tiles) and packs its own panels, so threads never wait on each other inside. A method of its own so
    /// that the serial path does not allocate the closure.
    /// </summary>
    private static void MultiplyInParallel(Job job, int threads, int rowTiles, int columnTiles, bool accumulate)
    {
        int m = job.M, n = job.N;
        bool splitRows = rowTiles >= columnTiles || rowTiles >= 4 * threads;
        int tiles = splitRows ? rowTiles : columnTiles, size = splitRows ? MR : NR, extent = splitRows ? m : n;
        int tilesPerThread = (tiles + threads - 1) / threads;
        Workers.Run(threads, t =>
        {
            int start = Math.Min(extent, t * tilesPerThread * size), end = Math.Min(extent, (t + 1) * tilesPerThread * size);
            if (start < end)
            {
                if (splitRows)
                {
                    Block(job, start, end, 0, n, accumulate);
                }
                else
                {
                    Block(job, 0, m, start, end, accumulate);
                }
            }
        });
    }

    /// <summary>
    /// Computes C[i0..i1, j0..j1) on the calling thread. Every element's sum over k runs through the same KC blocks and
    /// the same micro-kernel whatever the band, so results are bitwise identical for any thread count.
    /// </summary>
    private static void Block(Job job, int i0, int i1, int j0, int j1, bool accumulate)
    {
        int k = job.K;
        for (int jc = j0; jc < j1; jc += NC)
        {
            int nc = Math.Min(NC, j1 - jc);
            int panelsB = (nc + NR - 1) / NR;
            for (int pcIndex = 0; pcIndex < k; pcIndex += KC)
            {
                int kc = Math.Min(KC, k - pcIndex);
                fixed (float* bp = Scratch(ref t_packedB, panelsB * NR * kc))
                {
                    job.PackB(bp, pcIndex, kc, jc, nc);
                    job.RowBlocks(i0, i1, bp, pcIndex, kc, jc, nc, accumulate || pcIndex > 0);
                }
            }
        }
    }

    // Packing buffers belong to the thread: a block never waits or re-enters while it packs and multiplies, so one A
    // and one B buffer per thread suffice, and small products neither allocate nor take the pool's lock.
    [ThreadStatic]
    private static float[]? t_packedA, t_packedB;

    private static float[] Scratch(ref float[]? buffer, int length)
    {
        if (buffer is null || buffer.Length < length)
        {
            buffer = GC.AllocateUninitializedArray<float>(Math.Max(length, 4096));
        }
        return buffer;
    }

    /// <summary>The plain triple loop: the fallback without SIMD, and the reference the tests compare against.</summary>
    internal static void Reference(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k,
        bool transA, bool transB, bool accumulate)
    {
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                float sum = 0;
                for (int p = 0; p < k; p++)
                {
                    float av = transA ? a[p * m + i] : a[i * k + p];
                    float bv = transB ? b[j * k + p] : b[p * n + j];
                    sum += av * bv;
                }
                c[i * n + j] = accumulate ? c[i * n + j] + sum : sum;
            }
        }
    }

    private readonly struct Job(float* a, float* b, float* c, int m, int n, int k, bool transA, bool transB)
    {
        public int M => m;

        public int N => n;

        public int K => k;

        /// <summary>Packs B[p0..p0+kc, j0..j0+nc] into column panels: panel q holds kc rows of NR values, zero padded.</summary>
        public void PackB(float* destination, int p0, int kc, int j0, int nc)
        {
            for (int q = 0; q < nc; q += NR)
            {
                int cols = Math.Min(NR, nc - q);
                float* panel = destination + q * kc;
                if (transB)
                {
                    // B is stored [n, k]: its rows are the panel's columns. Full blocks of 8 rows x 8 depths are
                    // transposed in registers; the rest is copied one value at a time.
                    int fullRows = Avx.IsSupported ? cols / 8 * 8 : 0, fullDepth = kc / 8 * 8;
                    for (int j = 0; j < fullRows; j += 8)
                    {
                        float* src = b + (long)(j0 + q + j) * k + p0;
                        for (int p = 0; p < fullDepth; p += 8)
                        {
                            Transpose8x8(src + p, k, panel + p * NR + j, NR);
                        }
                        for (int jj = j; jj < j + 8; jj++)
                        {
                            float* rowSrc = b + (long)(j0 + q + jj) * k + p0;
                            for (int p = fullDepth; p < kc; p++)
                            {
                                panel[p * NR + jj] = rowSrc[p];
                            }
                        }
                    }
                    for (int j = fullRows; j < cols; j++)
                    {
                        float* src = b + (long)(j0 + q + j) * k + p0;
                        for (int p = 0; p < kc; p++)
                        {
                            panel[p * NR + j] = src[p];
                        }
                    }
                    for (int p = 0; p < kc; p++)
                    {
                        for (int j = cols; j < NR; j++)
                        {
                            panel[p * NR + j] = 0;
                        }
                    }
                    continue;
                }
                for (int p = 0; p < kc; p++)
                {
                    float* row = panel + p * NR;
                    float* src = b + (long)(p0 + p) * n + j0 + q;
                    if (cols == NR)
                    {
                        for (int j = 0; j < NR; j += 8)
                        {
                            Vector256.Store(Vector256.Load(src + j), row + j);
                        }
                        continue;
                    }
                    for (int j = 0; j < cols; j++)
                    {
                        row[j] = src[j];
                    }
                    for (int j = cols; j < NR; j++)
                    {
                        row[j] = 0;
                    }
                }
            }
        }

        /// <summary>Writes the transpose of the 8x8 block at <paramref name="source"/> (row stride <paramref name="sourceStride"/>) to <paramref name="destination"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Transpose8x8(float* source, int sourceStride, float* destination, int destinationStride)
        {
            var r0 = Avx.LoadVector256(source);
            var r1 = Avx.LoadVector256(source + sourceStride);
            var r2 = Avx.LoadVector256(source + 2 * (long)sourceStride);
            var r3 = Avx.LoadVector256(source + 3 * (long)sourceStride);
            var r4 = Avx.LoadVector256(source + 4 * (long)sourceStride);
            var r5 = Avx.LoadVector256(source + 5 * (long)sourceStride);
            var r6 = Avx.LoadVector256(source + 6 * (long)sourceStride);
            var r7 = Avx.LoadVector256(source + 7 * (long)sourceStride);
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

        /// <summary>Packs A[i0..i0+mc, p0..p0+kc] into row panels: panel r holds kc columns of MR values, zero padded.</summary>
        private void PackA(float* destination, int i0, int mc, int p0, int kc)
        {
            for (int r = 0; r < mc; r += MR)
            {
                int rows = Math.Min(MR, mc - r);
                float* panel = destination + r * kc;
                if (MR == 8 && rows == 8 && Avx.IsSupported)
                {
                    PackFullPanel8(panel, i0 + r, p0, kc);
                    continue;
                }
                for (int p = 0; p < kc; p++)
                {
                    float* column = panel + p * MR;
                    for (int i = 0; i < rows; i++)
                    {
                        int row = i0 + r + i;
                        column[i] = transA ? a[(long)(p0 + p) * m + row] : a[(long)row * k + p0 + p];
                    }
                    for (int i = rows; i < MR; i++)
                    {
                        column[i] = 0;
                    }
                }
            }
        }

        /// <summary>
        /// One full 8-row panel: 8 x 8 blocks of a row-major A are transposed in registers; a transposed A already has
        /// the panel's rows side by side, so each depth is one 8-float copy.
        /// </summary>
        private void PackFullPanel8(float* panel, int row0, int p0, int kc)
        {
            if (transA)
            {
                for (int p = 0; p < kc; p++)
                {
                    Vector256.Store(Vector256.Load(a + (long)(p0 + p) * m + row0), panel + p * 8);
                }
                return;
            }
            float* source = a + (long)row0 * k + p0;
            int fullDepth = kc / 8 * 8;
            for (int p = 0; p < fullDepth; p += 8)
            {
                Transpose8x8(source + p, k, panel + p * 8, 8);
            }
            for (int p = fullDepth; p < kc; p++)
            {
                for (int i = 0; i < 8; i++)
                {
                    panel[p * 8 + i] = source[(long)i * k + p];
                }
            }
        }

        /// <summary>Rows [rowStart, rowEnd) of C for one packed block of B.</summary>
        public void RowBlocks(int rowStart, int rowEnd, float* packedB, int p0, int kc, int j0, int nc, bool add)
        {
            int mcMax = Math.Min(MC, rowEnd - rowStart);
            fixed (float* ap = Scratch(ref t_packedA, ((mcMax + MR - 1) / MR) * MR * kc))
            {
                for (int ic = rowStart; ic < rowEnd; ic += MC)
                {
                    int mc = Math.Min(MC, rowEnd - ic);
                    PackA(ap, ic, mc, p0, kc);
                    for (int jr = 0; jr < nc; jr += NR)
                    {
                        for (int ir = 0; ir < mc; ir += MR)
                        {
                            if (NR == 32)
                            {
                                MicroKernel512(kc, ap + ir * kc, packedB + jr * kc, c + (long)(ic + ir) * n + j0 + jr, n,
                                    Math.Min(MR, mc - ir), Math.Min(NR, nc - jr), add);
                            }
                            else
                            {
                                MicroKernel(kc, ap + ir * kc, packedB + jr * kc, c + (long)(ic + ir) * n + j0 + jr, n,
                                    Math.Min(MR, mc - ir), Math.Min(NR, nc - jr), add);
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>C[0..rows, 0..cols] (+)= the product of one A panel and one 16-wide B panel, accumulated in 12 AVX registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MicroKernel(int kc, float* a, float* b, float* c, int ldc, int rows, int cols, bool add)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var av = Vector256.Create(a[0]);
            c00 = Vector256.FusedMultiplyAdd(av, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(av, b1, c01);
            av = Vector256.Create(a[1]);
            c10 = Vector256.FusedMultiplyAdd(av, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(av, b1, c11);
            av = Vector256.Create(a[2]);
            c20 = Vector256.FusedMultiplyAdd(av, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(av, b1, c21);
            av = Vector256.Create(a[3]);
            c30 = Vector256.FusedMultiplyAdd(av, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(av, b1, c31);
            av = Vector256.Create(a[4]);
            c40 = Vector256.FusedMultiplyAdd(av, b0, c40);
            c41 = Vector256.FusedMultiplyAdd(av, b1, c41);
            av = Vector256.Create(a[5]);
            c50 = Vector256.FusedMultiplyAdd(av, b0, c50);
            c51 = Vector256.FusedMultiplyAdd(av, b1, c51);
            a += MR256;
            b += 16;
        }

        if (rows == MR256 && cols == 16)
        {
            StoreRow(c, c00, c01, add);
            StoreRow(c + ldc, c10, c11, add);
            StoreRow(c + 2 * ldc, c20, c21, add);
            StoreRow(c + 3 * ldc, c30, c31, add);
            StoreRow(c + 4 * ldc, c40, c41, add);
            StoreRow(c + 5 * ldc, c50, c51, add);
            return;
        }

        // Edge tile: spill to a stack tile, then copy the valid part.
        float* tile = stackalloc float[MR256 * 16];
        Vector256.Store(c00, tile); Vector256.Store(c01, tile + 8);
        Vector256.Store(c10, tile + 16); Vector256.Store(c11, tile + 24);
        Vector256.Store(c20, tile + 32); Vector256.Store(c21, tile + 40);
        Vector256.Store(c30, tile + 48); Vector256.Store(c31, tile + 56);
        Vector256.Store(c40, tile + 64); Vector256.Store(c41, tile + 72);
        Vector256.Store(c50, tile + 80); Vector256.Store(c51, tile + 88);
        CopyEdgeTile(tile, 16, c, ldc, rows, cols, add);
    }

    /// <summary>The AVX-512 micro-kernel: a 8 x 32 tile of C in 16 registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MicroKernel512(int kc, float* a, float* b, float* c, int ldc, int rows, int cols, bool add)
    {
        Vector512<float> c00 = default, c01 = default;
        Vector512<float> c10 = default, c11 = default;
        Vector512<float> c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default;
        Vector512<float> c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default;
        Vector512<float> c70 = default, c71 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var av = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(av, b0, c00);
            c01 = Vector512.FusedMultiplyAdd(av, b1, c01);
            av = Vector512.Create(a[1]);
            c10 = Vector512.FusedMultiplyAdd(av, b0, c10);
            c11 = Vector512.FusedMultiplyAdd(av, b1, c11);
            av = Vector512.Create(a[2]);
            c20 = Vector512.FusedMultiplyAdd(av, b0, c20);
            c21 = Vector512.FusedMultiplyAdd(av, b1, c21);
            av = Vector512.Create(a[3]);
            c30 = Vector512.FusedMultiplyAdd(av, b0, c30);
            c31 = Vector512.FusedMultiplyAdd(av, b1, c31);
            av = Vector512.Create(a[4]);
            c40 = Vector512.FusedMultiplyAdd(av, b0, c40);
            c41 = Vector512.FusedMultiplyAdd(av, b1, c41);
            av = Vector512.Create(a[5]);
            c50 = Vector512.FusedMultiplyAdd(av, b0, c50);
            c51 = Vector512.FusedMultiplyAdd(av, b1, c51);
            av = Vector512.Create(a[6]);
            c60 = Vector512.FusedMultiplyAdd(av, b0, c60);
            c61 = Vector512.FusedMultiplyAdd(av, b1, c61);
            av = Vector512.Create(a[7]);
            c70 = Vector512.FusedMultiplyAdd(av, b0, c70);
            c71 = Vector512.FusedMultiplyAdd(av, b1, c71);
            a += MR512;
            b += 32;
        }

        if (rows == MR512 && cols == 32)
        {
            StoreRow512(c, c00, c01, add);
            StoreRow512(c + ldc, c10, c11, add);
            StoreRow512(c + 2 * ldc, c20, c21, add);
            StoreRow512(c + 3 * ldc, c30, c31, add);
            StoreRow512(c + 4 * ldc, c40, c41, add);
            StoreRow512(c + 5 * ldc, c50, c51, add);
            StoreRow512(c + 6 * ldc, c60, c61, add);
            StoreRow512(c + 7 * ldc, c70, c71, add);
            return;
        }

        float* tile = stackalloc float[MR512 * 32];
        Vector512.Store(c00, tile); Vector512.Store(c01, tile + 16);
        Vector512.Store(c10, tile + 32); Vector512.Store(c11, tile + 48);
        Vector512.Store(c20, tile + 64); Vector512.Store(c21, tile + 80);
        Vector512.Store(c30, tile + 96); Vector512.Store(c31, tile + 112);
        Vector512.Store(c40, tile + 128); Vector512.Store(c41, tile + 144);
        Vector512.Store(c50, tile + 160); Vector512.Store(c51, tile + 176);
        Vector512.Store(c60, tile + 192); Vector512.Store(c61, tile + 208);
        Vector512.Store(c70, tile + 224); Vector512.Store(c71, tile + 240);
        CopyEdgeTile(tile, 32, c, ldc, rows, cols, add);
    }

    /// <summary>Writes (or adds) the valid rows x cols part of a spilled micro-tile whose rows are <paramref name="width"/> floats apart.</summary>
    private static void CopyEdgeTile(float* tile, int width, float* c, int ldc, int rows, int cols, bool add)
    {
        for (int i = 0; i < rows; i++)
        {
            float* row = c + (long)i * ldc;
            for (int j = 0; j < cols; j++)
            {
                row[j] = add ? row[j] + tile[i * width + j] : tile[i * width + j];
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow512(float* c, Vector512<float> v0, Vector512<float> v1, bool add)
    {
        if (add)
        {
            v0 += Vector512.Load(c);
            v1 += Vector512.Load(c + 16);
        }
        Vector512.Store(v0, c);
        Vector512.Store(v1, c + 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(float* c, Vector256<float> v0, Vector256<float> v1, bool add)
    {
        if (add)
        {
            v0 += Vector256.Load(c);
            v1 += Vector256.Load(c + 8);
        }
        Vector256.Store(v0, c);
        Vector256.Store(v1, c + 8);
    }

    /// <summary>
    /// A batch of products whose batch dims broadcast: for each index of <paramref name="batchShape"/> multiplies the
    /// A and B matrices found at the given batch strides (0 where an operand is broadcast) into consecutive C matrices.
    /// </summary>
    public static void MultiplyBatched(ReadOnlySpan<float> a, ReadOnlySpan<int> aBatchStrides, ReadOnlySpan<float> b, ReadOnlySpan<int> bBatchStrides,
        Span<float> c, ReadOnlySpan<int> batchShape, int m, int n, int k, bool transA, bool transB)
    {
        int rank = batchShape.Length;
        int batches = Shapes.Numel(batchShape);
        Span<int> index = stackalloc int[Math.Max(rank, 1)];
        index.Clear();
        int ao = 0, bo = 0;
        for (int t = 0; t < batches; t++)
        {
            Multiply(a[ao..], b[bo..], c.Slice(t * m * n, m * n), m, n, k, transA, transB);
            for (int d = rank - 1; d >= 0; d--)
            {
                index[d]++;
                ao += aBatchStrides[d];
                bo += bBatchStrides[d];
                if (index[d] < batchShape[d])
                {
                    break;
                }
                ao -= aBatchStrides[d] * batchShape[d];
                bo -= bBatchStrides[d] * batchShape[d];
                index[d] = 0;
            }
        }
    }
}
