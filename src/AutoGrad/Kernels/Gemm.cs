using System.Runtime.CompilerServices;

namespace AutoGrad.Kernels;

/// <summary>
/// Single-precision matrix multiply, C = op(A) op(B) (+ C), in the GotoBLAS structure: B is packed into panels of NR
/// columns and A into panels of MR rows, cache blocked by <see cref="KC"/> (depth) and <see cref="MC"/> (rows), and a
/// register-tiled micro-kernel keeps an MR x NR block of C in vector registers. The kernel is written once over the
/// vector width (<see cref="ISimd{TSelf}"/>) and its tile sized to the width and the register file (see
/// <see cref="Multiply{TVec}"/>). Transposed operands are handled while packing, never materialized. Large products
/// split the rows of C across cores; every element of C is the same chain of fused multiply-adds over k whatever the
/// thread count, the tile and the width, so all of them give bitwise identical results. Products of at most four rows
/// against a transposed B (a linear layer at batch 1 to 4) take <see cref="DotRows"/> instead: no packing, the same
/// bits for any thread count, equal to the packed path to rounding.
/// </summary>
internal static unsafe class Gemm
{
    private const int KC = 512; // depth block: 512 ran the skinny training shapes (k = 784) 10-20% faster than 256 on 2 threads, squares alike
    private const int MC = 96;
    private const int NC = 2048;
    private const int InPlaceColumns = 512; // see ReadsAInPlace
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
        switch (Simd.Width)
        {
            case 512: Multiply<Simd512>(a, b, c, m, n, k, transA, transB, accumulate, serial); break;
            case 256: Multiply<Simd256>(a, b, c, m, n, k, transA, transB, accumulate, serial); break;
            case 128: Multiply<Simd128>(a, b, c, m, n, k, transA, transB, accumulate, serial); break;
            default: Multiply<SimdScalar>(a, b, c, m, n, k, transA, transB, accumulate, serial); break;
        }
    }

    /// <summary>
    /// <see cref="Multiply"/> at one width. The micro-tile: with 32 vector registers (AVX-512 at any width, ARM64) 8 rows
    /// of two vectors (16 accumulators; 12 and 14 rows were not faster with AVX-512), or of three 4-float vectors (24);
    /// with 16 registers (AVX2) 6 rows of two vectors (12 accumulators, two B vectors and a broadcast: 15 registers).
    /// </summary>
    internal static void Multiply<TVec>(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k,
        bool transA = false, bool transB = false, bool accumulate = false, bool serial = false)
        where TVec : unmanaged, ISimd<TVec>
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
        int threads = !serial && (long)m * n * k >= ParallelThreshold ? Parallelism.MaxThreads : 1;
        fixed (float* pa = a, pb = b, pc = c)
        {
            if (m <= DotRows.MaxRows && transB && !transA)
            {
                // a few rows against B^T (a linear layer at batch 1 to 4): dot products of rows, no packing
                MultiplyDotRows<TVec>(pa, pb, pc, m, n, k, accumulate, threads);
                return;
            }
            var operands = new Operands(pa, pb, pc, m, n, k, transA, transB);
            if (TVec.Count == 1)
            {
                Job<TVec, Four, Three>.Run(operands, threads, accumulate);
            }
            else if (TVec.Registers < 32)
            {
                Job<TVec, Six, Two>.Run(operands, threads, accumulate);
            }
            else if (TVec.Count == 4)
            {
                Job<TVec, Eight, Three>.Run(operands, threads, accumulate);
            }
            else
            {
                Job<TVec, Eight, Two>.Run(operands, threads, accumulate);
            }
        }
    }

    /// <summary><see cref="DotRows"/> over the columns of C, split into bands of whole blocks of four across <paramref name="threads"/>.</summary>
    private static void MultiplyDotRows<TVec>(float* a, float* b, float* c, int m, int n, int k, bool accumulate, int threads) where TVec : unmanaged, ISimd<TVec>
    {
        int blocks = (n + 3) / 4;
        threads = Math.Min(threads, blocks);
        if (threads <= 1)
        {
            DotRows.Multiply<TVec>(a, b, c, m, n, k, accumulate, 0, n);
            return;
        }
        nint pa = (nint)a, pb = (nint)b, pc = (nint)c;
        int perThread = (blocks + threads - 1) / threads * 4;
        Workers.Run(threads, t =>
        {
            int j0 = Math.Min(n, t * perThread), j1 = Math.Min(n, j0 + perThread);
            if (j0 < j1)
            {
                DotRows.Multiply<TVec>((float*)pa, (float*)pb, (float*)pc, m, n, k, accumulate, j0, j1);
            }
        });
    }

    /// <summary>The plain triple loop: the reference the tests compare against.</summary>
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

    /// <summary>The three matrices and how A and B are stored.</summary>
    private readonly struct Operands(float* a, float* b, float* c, int m, int n, int k, bool transA, bool transB)
    {
        public float* A => a;

        public float* B => b;

        public float* C => c;

        public int M => m;

        public int N => n;

        public int K => k;

        public bool TransA => transA;

        public bool TransB => transB;
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

    /// <summary>One product with a micro-tile of TRows rows and TCols vectors of TVec: MR = TRows, NR = TCols * TVec.Count.</summary>
    private static class Job<TVec, TRows, TCols> where TVec : unmanaged, ISimd<TVec> where TRows : struct, ICount where TCols : struct, ICount
    {
        public static void Run(Operands job, int maxThreads, bool accumulate)
        {
            int mr = TRows.Value, nr = TCols.Value * TVec.Count;
            int rowTiles = (job.M + mr - 1) / mr, columnTiles = (job.N + nr - 1) / nr;
            int threads = Math.Min(maxThreads, Math.Max(rowTiles, columnTiles));
            if (threads <= 1)
            {
                Block(job, 0, job.M, 0, job.N, accumulate);
                return;
            }
            RunInParallel(job, threads, rowTiles, columnTiles, accumulate);
        }

        /// <summary>
        /// One parallel region per call: each thread owns a band of whole MR-row tiles (or, when C has few rows, of whole
        /// NR-column tiles) and packs its own panels, so threads never wait on each other inside. A method of its own so
        /// that the serial path does not allocate the closure.
        /// </summary>
        private static void RunInParallel(Operands job, int threads, int rowTiles, int columnTiles, bool accumulate)
        {
            int m = job.M, n = job.N, mr = TRows.Value, nr = TCols.Value * TVec.Count;
            // every thread packs all of the operand it does not split: split so that the smaller one is packed twice
            // (an MLP layer at batch 64: x [64, 784] rather than W [256, 784]), unless that leaves a thread idle
            bool splitRows = columnTiles < threads || rowTiles >= threads && m >= n;
            int tiles = splitRows ? rowTiles : columnTiles, size = splitRows ? mr : nr, extent = splitRows ? m : n;
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
        private static void Block(Operands job, int i0, int i1, int j0, int j1, bool accumulate)
        {
            int nr = TCols.Value * TVec.Count;
            int k = job.K;
            for (int jc = j0; jc < j1; jc += NC)
            {
                int nc = Math.Min(NC, j1 - jc);
                int panelsB = (nc + nr - 1) / nr;
                for (int pcIndex = 0; pcIndex < k; pcIndex += KC)
                {
                    int kc = Math.Min(KC, k - pcIndex);
                    fixed (float* bp = Scratch(ref t_packedB, panelsB * nr * kc))
                    {
                        PackB(job, bp, pcIndex, kc, jc, nc);
                        RowBlocks(job, i0, i1, bp, pcIndex, kc, jc, nc, accumulate || pcIndex > 0);
                    }
                }
            }
        }

        /// <summary>Packs B[p0..p0+kc, j0..j0+nc] into column panels: panel q holds kc rows of NR values, zero padded.</summary>
        private static void PackB(Operands job, float* destination, int p0, int kc, int j0, int nc)
        {
            int nr = TCols.Value * TVec.Count;
            int n = job.N, k = job.K, w = TVec.Count;
            for (int q = 0; q < nc; q += nr)
            {
                int cols = Math.Min(nr, nc - q);
                float* panel = destination + q * kc;
                if (job.TransB)
                {
                    // B is stored [n, k]: its rows are the panel's columns. Full blocks of w rows x w depths are
                    // transposed in registers; the rest is copied one value at a time.
                    int fullRows = cols / w * w, fullDepth = kc / w * w;
                    for (int j = 0; j < fullRows; j += w)
                    {
                        float* source = job.B + (long)(j0 + q + j) * k + p0;
                        for (int p = 0; p < fullDepth; p += w)
                        {
                            TVec.Transpose(source + p, k, panel + p * nr + j, nr);
                        }
                    }
                    for (int j = 0; j < cols; j++)
                    {
                        float* source = job.B + (long)(j0 + q + j) * k + p0;
                        for (int p = j < fullRows ? fullDepth : 0; p < kc; p++)
                        {
                            panel[p * nr + j] = source[p];
                        }
                    }
                    for (int p = 0; p < kc; p++)
                    {
                        for (int j = cols; j < nr; j++)
                        {
                            panel[p * nr + j] = 0;
                        }
                    }
                    continue;
                }
                for (int p = 0; p < kc; p++)
                {
                    float* row = panel + p * nr;
                    float* source = job.B + (long)(p0 + p) * n + j0 + q;
                    if (cols == nr)
                    {
                        for (int j = 0; j < nr; j += w)
                        {
                            TVec.Store(TVec.Load(source + j), row + j);
                        }
                        continue;
                    }
                    for (int j = 0; j < cols; j++)
                    {
                        row[j] = source[j];
                    }
                    for (int j = cols; j < nr; j++)
                    {
                        row[j] = 0;
                    }
                }
            }
        }

        /// <summary>Packs A[i0..i0+mc, p0..p0+kc] into row panels: panel r holds kc columns of MR values, zero padded.</summary>
        private static void PackA(Operands job, float* destination, int i0, int mc, int p0, int kc)
        {
            int mr = TRows.Value;
            int m = job.M, k = job.K;
            int packed = 0;
            if (job.TransA && mr % 8 == 0 && Simd256.IsSupported)
            {
                packed = CopyTransposedPanels<Simd256>(job, destination, i0, mc, p0, kc);
            }
            else if (job.TransA && mr % 4 == 0 && Simd128.IsSupported)
            {
                packed = CopyTransposedPanels<Simd128>(job, destination, i0, mc, p0, kc);
            }
            for (int r = packed; r < mc; r += mr)
            {
                int rows = Math.Min(mr, mc - r);
                float* panel = destination + r * kc;
                if (rows == mr && job.TransA)
                {
                    // a transposed A already has the panel's rows side by side: one short copy per depth
                    for (int p = 0; p < kc; p++)
                    {
                        ShortRows.Copy(panel + p * mr, job.A + (long)(p0 + p) * m + i0 + r, mr);
                    }
                    continue;
                }
                if (rows == mr && !job.TransA && mr % 8 == 0 && Simd256.IsSupported)
                {
                    TransposeRows<Simd256>(panel, job.A + (long)(i0 + r) * k + p0, k, kc);
                    continue;
                }
                if (rows == mr && !job.TransA && mr % 4 == 0 && Simd128.IsSupported)
                {
                    TransposeRows<Simd128>(panel, job.A + (long)(i0 + r) * k + p0, k, kc);
                    continue;
                }
                for (int p = 0; p < kc; p++)
                {
                    float* column = panel + p * mr;
                    for (int i = 0; i < rows; i++)
                    {
                        int row = i0 + r + i;
                        column[i] = job.TransA ? job.A[(long)(p0 + p) * m + row] : job.A[(long)row * k + p0 + p];
                    }
                    for (int i = rows; i < mr; i++)
                    {
                        column[i] = 0;
                    }
                }
            }
        }

        /// <summary>
        /// The full panels of a transposed A (stored [k, m]): each depth's row is read once, front to back, its MR-float
        /// pieces going to the panels in vectors of TBlock (a panel at a time would read every row once per panel, with a
        /// page per row). Returns the rows packed.
        /// </summary>
        private static int CopyTransposedPanels<TBlock>(Operands job, float* destination, int i0, int mc, int p0, int kc) where TBlock : unmanaged, ISimd<TBlock>
        {
            int mr = TRows.Value, w = TBlock.Count, full = mc / mr * mr;
            for (int p = 0; p < kc; p++)
            {
                float* source = job.A + (long)(p0 + p) * job.M + i0;
                float* slot = destination + p * mr;
                for (int r = 0; r < full; r += mr)
                {
                    for (int i = 0; i < mr; i += w)
                    {
                        TBlock.Store(TBlock.Load(source + r + i), slot + r * kc + i);
                    }
                }
            }
            return full;
        }

        /// <summary>
        /// One full panel of a row-major A (MR rows from <paramref name="source"/>, <paramref name="k"/> apart): blocks of
        /// TBlock.Count rows x depths are transposed in registers, the depths past the last block copied one at a time.
        /// </summary>
        private static void TransposeRows<TBlock>(float* panel, float* source, int k, int kc) where TBlock : unmanaged, ISimd<TBlock>
        {
            int mr = TRows.Value, w = TBlock.Count, fullDepth = kc / w * w;
            for (int i0 = 0; i0 < mr; i0 += w)
            {
                for (int p = 0; p < fullDepth; p += w)
                {
                    TBlock.Transpose(source + (long)i0 * k + p, k, panel + p * mr + i0, mr);
                }
            }
            for (int p = fullDepth; p < kc; p++)
            {
                for (int i = 0; i < mr; i++)
                {
                    panel[p * mr + i] = source[(long)i * k + p];
                }
            }
        }

        /// <summary>
        /// Rows [rowStart, rowEnd) of C for one packed block of B. Full MR-row panels of A are read where they lie when
        /// that is cheaper than packing them (<see cref="ReadsAInPlace"/>); the last, partial panel is always packed
        /// (zero padded). Either way the micro-kernel sees the same values in the same order, so the bits do not change.
        /// </summary>
        private static void RowBlocks(Operands job, int rowStart, int rowEnd, float* packedB, int p0, int kc, int j0, int nc, bool add)
        {
            int mr = TRows.Value, nr = TCols.Value * TVec.Count;
            int mcMax = Math.Min(MC, rowEnd - rowStart), n = job.N;
            bool inPlace = ReadsAInPlace(job, nc);
            // in place, A's element (i, p) of a panel at row r is at r * rowStep + p * depthStep from the block's corner
            nint rowStep = job.TransA ? 1 : job.K, depthStep = job.TransA ? job.M : 1;
            fixed (float* ap = Scratch(ref t_packedA, ((mcMax + mr - 1) / mr) * mr * kc))
            {
                for (int ic = rowStart; ic < rowEnd; ic += MC)
                {
                    int mc = Math.Min(MC, rowEnd - ic);
                    int packedFrom = inPlace ? mc / mr * mr : 0;
                    if (packedFrom < mc)
                    {
                        PackA(job, ap + packedFrom * kc, ic + packedFrom, mc - packedFrom, p0, kc);
                    }
                    float* corner = job.A + p0 * (long)depthStep + ic * (long)rowStep;
                    for (int jr = 0; jr < nc; jr += nr)
                    {
                        for (int ir = 0; ir < mc; ir += mr)
                        {
                            float* c = job.C + (long)(ic + ir) * n + j0 + jr;
                            int rows = Math.Min(mr, mc - ir), cols = Math.Min(nr, nc - jr);
                            if (ir < packedFrom)
                            {
                                MicroKernel<Unpacked>(kc, corner + ir * rowStep, rowStep, depthStep, packedB + jr * kc, c, n, rows, cols, add);
                            }
                            else
                            {
                                MicroKernel<Packed>(kc, ap + ir * kc, 1, mr, packedB + jr * kc, c, n, rows, cols, add);
                            }
                        }
                    }
                }
            }
        }

        /// <summary>
        /// Whether full panels of A are better read where they lie than packed. Packing costs a pass over A per block of
        /// B columns and pays back over the columns it serves: up to 512 columns (a transformer's linear layers, their
        /// input and weight gradients) reading in place ran 10-30% faster, and from 2000 columns up 5-10% slower.
        /// A whose rows (or, transposed, whose depths) lie a multiple of 1024 floats apart is packed anyway: 4 KB apart,
        /// they would fall in the same cache sets.
        /// </summary>
        private static bool ReadsAInPlace(Operands job, int nc) =>
            nc <= InPlaceColumns && (job.TransA ? job.M : job.K) % 1024 != 0;

        /// <summary>
        /// C[0..rows, 0..cols] (+)= the product of one A panel (MR values per depth) and one B panel (NR values per depth),
        /// accumulated in TRows x TCols vector registers. The accumulators a smaller tile does not use compile away.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        [SkipLocalsInit] // the edge tile needs no zeroing, and a zeroing call would push every accumulator onto the stack
        private static void MicroKernel<TLayout>(int kc, float* a, nint rowStep, nint depthStep, float* b, float* c, int ldc, int rows, int cols, bool add)
            where TLayout : struct, IPanelLayout
        {
            int mr = TRows.Value, nr = TCols.Value * TVec.Count;
            // a packed panel's steps are constants, so its loads keep immediate offsets
            nint r1 = TLayout.InPlace ? rowStep : 1, step = TLayout.InPlace ? depthStep : mr;
            nint r2 = 2 * r1, r3 = 3 * r1, r4 = 4 * r1, r5 = 5 * r1, r6 = 6 * r1, r7 = 7 * r1;
            TVec c00 = default, c01 = default, c02 = default;
            TVec c10 = default, c11 = default, c12 = default;
            TVec c20 = default, c21 = default, c22 = default;
            TVec c30 = default, c31 = default, c32 = default;
            TVec c40 = default, c41 = default, c42 = default;
            TVec c50 = default, c51 = default, c52 = default;
            TVec c60 = default, c61 = default, c62 = default;
            TVec c70 = default, c71 = default, c72 = default;
            for (int p = 0; p < kc; p++)
            {
                var b0 = TVec.Load(b);
                var b1 = TCols.Value > 1 ? TVec.Load(b + TVec.Count) : default;
                var b2 = TCols.Value > 2 ? TVec.Load(b + 2 * TVec.Count) : default;
                var a0 = TVec.Create(a[0]);
                c00 = TVec.FusedMultiplyAdd(a0, b0, c00);
                c01 = TCols.Value > 1 ? TVec.FusedMultiplyAdd(a0, b1, c01) : c01;
                c02 = TCols.Value > 2 ? TVec.FusedMultiplyAdd(a0, b2, c02) : c02;
                if (TRows.Value > 1)
                {
                    var a1 = TVec.Create(a[r1]);
                    c10 = TVec.FusedMultiplyAdd(a1, b0, c10);
                    c11 = TCols.Value > 1 ? TVec.FusedMultiplyAdd(a1, b1, c11) : c11;
                    c12 = TCols.Value > 2 ? TVec.FusedMultiplyAdd(a1, b2, c12) : c12;
                }
                if (TRows.Value > 2)
                {
                    var a2 = TVec.Create(a[r2]);
                    c20 = TVec.FusedMultiplyAdd(a2, b0, c20);
                    c21 = TCols.Value > 1 ? TVec.FusedMultiplyAdd(a2, b1, c21) : c21;
                    c22 = TCols.Value > 2 ? TVec.FusedMultiplyAdd(a2, b2, c22) : c22;
                }
                if (TRows.Value > 3)
                {
                    var a3 = TVec.Create(a[r3]);
                    c30 = TVec.FusedMultiplyAdd(a3, b0, c30);
                    c31 = TCols.Value > 1 ? TVec.FusedMultiplyAdd(a3, b1, c31) : c31;
                    c32 = TCols.Value > 2 ? TVec.FusedMultiplyAdd(a3, b2, c32) : c32;
                }
                if (TRows.Value > 4)
                {
                    var a4 = TVec.Create(a[r4]);
                    c40 = TVec.FusedMultiplyAdd(a4, b0, c40);
                    c41 = TCols.Value > 1 ? TVec.FusedMultiplyAdd(a4, b1, c41) : c41;
                    c42 = TCols.Value > 2 ? TVec.FusedMultiplyAdd(a4, b2, c42) : c42;
                }
                if (TRows.Value > 5)
                {
                    var a5 = TVec.Create(a[r5]);
                    c50 = TVec.FusedMultiplyAdd(a5, b0, c50);
                    c51 = TCols.Value > 1 ? TVec.FusedMultiplyAdd(a5, b1, c51) : c51;
                    c52 = TCols.Value > 2 ? TVec.FusedMultiplyAdd(a5, b2, c52) : c52;
                }
                if (TRows.Value > 6)
                {
                    var a6 = TVec.Create(a[r6]);
                    c60 = TVec.FusedMultiplyAdd(a6, b0, c60);
                    c61 = TCols.Value > 1 ? TVec.FusedMultiplyAdd(a6, b1, c61) : c61;
                    c62 = TCols.Value > 2 ? TVec.FusedMultiplyAdd(a6, b2, c62) : c62;
                }
                if (TRows.Value > 7)
                {
                    var a7 = TVec.Create(a[r7]);
                    c70 = TVec.FusedMultiplyAdd(a7, b0, c70);
                    c71 = TCols.Value > 1 ? TVec.FusedMultiplyAdd(a7, b1, c71) : c71;
                    c72 = TCols.Value > 2 ? TVec.FusedMultiplyAdd(a7, b2, c72) : c72;
                }
                a += step;
                b += nr;
            }

            if (rows == mr && cols == nr)
            {
                StoreRow<TVec, TCols>(c + 0 * (long)ldc, c00, c01, c02, add);
                if (TRows.Value > 1) StoreRow<TVec, TCols>(c + 1 * (long)ldc, c10, c11, c12, add);
                if (TRows.Value > 2) StoreRow<TVec, TCols>(c + 2 * (long)ldc, c20, c21, c22, add);
                if (TRows.Value > 3) StoreRow<TVec, TCols>(c + 3 * (long)ldc, c30, c31, c32, add);
                if (TRows.Value > 4) StoreRow<TVec, TCols>(c + 4 * (long)ldc, c40, c41, c42, add);
                if (TRows.Value > 5) StoreRow<TVec, TCols>(c + 5 * (long)ldc, c50, c51, c52, add);
                if (TRows.Value > 6) StoreRow<TVec, TCols>(c + 6 * (long)ldc, c60, c61, c62, add);
                if (TRows.Value > 7) StoreRow<TVec, TCols>(c + 7 * (long)ldc, c70, c71, c72, add);
                return;
            }

            // Edge tile: spill to a stack tile, then copy the valid part.
            float* tile = stackalloc float[mr * nr];
            StoreRow<TVec, TCols>(tile + 0 * nr, c00, c01, c02, false);
            if (TRows.Value > 1) StoreRow<TVec, TCols>(tile + 1 * nr, c10, c11, c12, false);
            if (TRows.Value > 2) StoreRow<TVec, TCols>(tile + 2 * nr, c20, c21, c22, false);
            if (TRows.Value > 3) StoreRow<TVec, TCols>(tile + 3 * nr, c30, c31, c32, false);
            if (TRows.Value > 4) StoreRow<TVec, TCols>(tile + 4 * nr, c40, c41, c42, false);
            if (TRows.Value > 5) StoreRow<TVec, TCols>(tile + 5 * nr, c50, c51, c52, false);
            if (TRows.Value > 6) StoreRow<TVec, TCols>(tile + 6 * nr, c60, c61, c62, false);
            if (TRows.Value > 7) StoreRow<TVec, TCols>(tile + 7 * nr, c70, c71, c72, false);
            for (int i = 0; i < rows; i++)
            {
                float* row = c + (long)i * ldc;
                for (int j = 0; j < cols; j++)
                {
                    row[j] = add ? row[j] + tile[i * nr + j] : tile[i * nr + j];
                }
            }
        }
    }

    /// <summary>Where the micro-kernel finds a panel of A: packed (MR values per depth, side by side) or in place.</summary>
    private interface IPanelLayout
    {
        static abstract bool InPlace { get; }
    }

    private readonly struct Packed : IPanelLayout
    {
        public static bool InPlace => false;
    }

    private readonly struct Unpacked : IPanelLayout
    {
        public static bool InPlace => true;
    }

    /// <summary>Writes (or adds to) TCols vectors of one row of C.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow<TVec, TCols>(float* c, TVec v0, TVec v1, TVec v2, bool add) where TVec : unmanaged, ISimd<TVec> where TCols : struct, ICount
    {
        int w = TVec.Count;
        if (add)
        {
            v0 += TVec.Load(c);
            v1 = TCols.Value > 1 ? v1 + TVec.Load(c + w) : v1;
            v2 = TCols.Value > 2 ? v2 + TVec.Load(c + 2 * w) : v2;
        }
        TVec.Store(v0, c);
        if (TCols.Value > 1)
        {
            TVec.Store(v1, c + w);
        }
        if (TCols.Value > 2)
        {
            TVec.Store(v2, c + 2 * w);
        }
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
