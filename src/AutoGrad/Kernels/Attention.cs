using System.Numerics.Tensors;

namespace AutoGrad.Kernels;

/// <summary>
/// Scaled dot-product attention over <c>groups</c> independent (batch, head) slices, q [l, e], k [s, e], v [s, ev]:
/// weights = softmax(q k^T / sqrt(e)) with the positions above the diagonal removed when causal, output = weights v.
/// One slice's scores, mask, softmax and products run back to back in cache; the composite (MatMul, Div, MaskedFill,
/// Softmax, MatMul) wrote the [groups, l, s] scores four times and expanded the mask to that size both ways (in the
/// charlm sample 2 MB per tensor, 36% of its non-GEMM time). Slices are split across the workers and each runs its
/// products serially, so the result does not depend on the thread count.
/// </summary>
internal static unsafe class Attention
{
    private const long ParallelThreshold = 1L << 18; // multiply-adds per call below which the workers cost more than they save

    /// <summary>Fills <paramref name="weights"/> [groups, l, s] and <paramref name="output"/> [groups, l, ev].</summary>
    public static void Forward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, int groups, int l, int s, int e, int ev, bool causal,
        Span<float> weights, Span<float> output)
    {
        Check(q, k, v, groups, l, s, e, ev);
        if (weights.Length < groups * l * s || output.Length < groups * l * ev)
        {
            throw new ArgumentException($"Attention: outputs of {weights.Length} and {output.Length} floats are too small for {groups} slices of [{l}, {s}] and [{l}, {ev}].");
        }
        float root = MathF.Sqrt(e);
        fixed (float* pq = q, pk = k, pv = v, pw = weights, po = output)
        {
            nint aq = (nint)pq, ak = (nint)pk, av = (nint)pv, aw = (nint)pw, ao = (nint)po;
            Run(groups, (long)l * s * (e + ev), g =>
            {
                var w = new Span<float>((float*)aw + (long)g * l * s, l * s);
                Gemm.Multiply(Slice(aq, g, l * e), Slice(ak, g, s * e), w, l, s, e, transB: true, serial: true);
                for (int i = 0; i < l; i++)
                {
                    var row = w.Slice(i * s, s);
                    int kept = causal ? Math.Min(s, i + 1) : s;
                    var live = row[..kept];
                    if (kept > 0)
                    {
                        TensorPrimitives.Divide(live, root, live);
                        SoftmaxKernel.Row(live, live, log: false);
                    }
                    row[kept..].Clear();
                }
                Gemm.Multiply(w, Slice(av, g, s * ev), new Span<float>((float*)ao + (long)g * l * ev, l * ev), l, ev, s, serial: true);
            });
        }
    }

    /// <summary>
    /// The gradients of q, k and v from the output's <paramref name="gradOutput"/> and the forward's weights P:
    /// dv = P^T g, dP = g v^T, dS = P (dP - rowsum(dP P)) / sqrt(e), dq = dS k, dk = dS^T q. An empty destination is skipped.
    /// </summary>
    public static void Backward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, ReadOnlySpan<float> weights, ReadOnlySpan<float> gradOutput,
        int groups, int l, int s, int e, int ev, Span<float> gradQ, Span<float> gradK, Span<float> gradV)
    {
        Check(q, k, v, groups, l, s, e, ev);
        if (weights.Length < groups * l * s || gradOutput.Length < groups * l * ev)
        {
            throw new ArgumentException($"Attention: weights of {weights.Length} and output gradient of {gradOutput.Length} floats are too small for {groups} slices.");
        }
        bool wantQ = !gradQ.IsEmpty, wantK = !gradK.IsEmpty, wantV = !gradV.IsEmpty;
        float root = MathF.Sqrt(e);
        fixed (float* pq = q, pk = k, pv = v, pw = weights, pg = gradOutput, dq = gradQ, dk = gradK, dv = gradV)
        {
            nint aq = (nint)pq, ak = (nint)pk, av = (nint)pv, aw = (nint)pw, ag = (nint)pg, adq = (nint)dq, adk = (nint)dk, adv = (nint)dv;
            Run(groups, (long)l * s * (2 * e + 2 * ev), g =>
            {
                var w = Slice(aw, g, l * s);
                var go = Slice(ag, g, l * ev);
                if (wantV)
                {
                    Gemm.Multiply(w, go, new Span<float>((float*)adv + (long)g * s * ev, s * ev), s, ev, l, transA: true, serial: true);
                }
                if (!wantQ && !wantK)
                {
                    return;
                }
                float[] scratch = Buffers.BufferPool.RentFloats(l * s);
                var ds = scratch.AsSpan(0, l * s);
                Gemm.Multiply(go, Slice(av, g, s * ev), ds, l, s, ev, transB: true, serial: true);
                for (int i = 0; i < l; i++)
                {
                    var p = w.Slice(i * s, s);
                    var row = ds.Slice(i * s, s);
                    float dot = TensorPrimitives.Dot(row, p);
                    TensorPrimitives.Subtract(row, dot, row);
                    TensorPrimitives.Multiply(row, p, row);
                    TensorPrimitives.Divide(row, root, row);
                }
                if (wantQ)
                {
                    Gemm.Multiply(ds, Slice(ak, g, s * e), new Span<float>((float*)adq + (long)g * l * e, l * e), l, e, s, serial: true);
                }
                if (wantK)
                {
                    Gemm.Multiply(ds, Slice(aq, g, l * e), new Span<float>((float*)adk + (long)g * s * e, s * e), s, e, l, transA: true, serial: true);
                }
                Buffers.BufferPool.ReturnFloats(scratch);
            });
        }
    }

    /// <summary>The plain loops, softmax and all: the reference the tests compare against.</summary>
    internal static void Reference(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, int groups, int l, int s, int e, int ev, bool causal,
        Span<float> weights, Span<float> output)
    {
        for (int g = 0; g < groups; g++)
        {
            for (int i = 0; i < l; i++)
            {
                int kept = causal ? Math.Min(s, i + 1) : s;
                double max = double.NegativeInfinity, sum = 0;
                var scores = new double[s];
                for (int j = 0; j < kept; j++)
                {
                    double dot = 0;
                    for (int c = 0; c < e; c++)
                    {
                        dot += q[(g * l + i) * e + c] * k[(g * s + j) * e + c];
                    }
                    scores[j] = dot / Math.Sqrt(e);
                    max = Math.Max(max, scores[j]);
                }
                for (int j = 0; j < kept; j++)
                {
                    sum += scores[j] = Math.Exp(scores[j] - max);
                }
                for (int j = 0; j < s; j++)
                {
                    weights[(g * l + i) * s + j] = j < kept ? (float)(scores[j] / sum) : 0f;
                }
                for (int c = 0; c < ev; c++)
                {
                    double acc = 0;
                    for (int j = 0; j < kept; j++)
                    {
                        acc += scores[j] / sum * v[(g * s + j) * ev + c];
                    }
                    output[(g * l + i) * ev + c] = (float)acc;
                }
            }
        }
    }

    private static ReadOnlySpan<float> Slice(nint start, int g, int length) => new((float*)start + (long)g * length, length);

    private static void Run(int groups, long workPerGroup, Action<int> body)
    {
        if (groups * workPerGroup >= ParallelThreshold)
        {
            Workers.Run(groups, body);
            return;
        }
        for (int g = 0; g < groups; g++)
        {
            body(g);
        }
    }

    private static void Check(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, int groups, int l, int s, int e, int ev)
    {
        if (groups < 0 || l < 0 || s < 0 || e < 0 || ev < 0 || (long)groups * l * e > q.Length || (long)groups * s * e > k.Length || (long)groups * s * ev > v.Length)
        {
            throw new ArgumentException($"Attention: q, k, v of {q.Length}, {k.Length}, {v.Length} floats do not hold {groups} slices of [{l}, {e}], [{s}, {e}], [{s}, {ev}].");
        }
    }
}
