using AutoGrad.Graph;
using System.Text;

namespace AutoGrad;

/// <summary>Shape arithmetic shared by tensors, ops and kernels: element counts, strides, broadcasting, dims.</summary>
internal static class Shapes
{
    public static int Numel(ReadOnlySpan<int> shape)
    {
        if (shape.Contains(0))
        {
            return 0; // an empty array such as [2147483647, 0] is valid (files hold them)
        }
        long n = 1;
        foreach (int d in shape)
        {
            n *= d;
            if (n > Array.MaxLength)
            {
                throw new ArgumentException(CallSite.Tag($"Shape {Format(shape)} has more elements than an array can hold ({Array.MaxLength})."));
            }
        }
        return (int)n;
    }

    public static int[] ContiguousStrides(ReadOnlySpan<int> shape)
    {
        var strides = new int[shape.Length];
        int s = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            strides[i] = s;
            s *= Math.Max(shape[i], 1);
        }
        return strides;
    }

    /// <summary>Strides of <paramref name="shape"/> right-aligned inside <paramref name="outShape"/>, 0 where broadcast.</summary>
    public static int[] BroadcastStrides(ReadOnlySpan<int> shape, ReadOnlySpan<int> outShape)
    {
        var own = ContiguousStrides(shape);
        var strides = new int[outShape.Length];
        int offset = outShape.Length - shape.Length;
        for (int i = 0; i < shape.Length; i++)
        {
            strides[offset + i] = shape[i] == 1 && outShape[offset + i] != 1 ? 0 : own[i];
        }
        return strides;
    }

    /// <summary>The NumPy/PyTorch broadcast of two shapes: right-aligned, each pair equal or one of them 1.</summary>
    public static int[] Broadcast(ReadOnlySpan<int> a, ReadOnlySpan<int> b, string op)
        => TryBroadcast(a, b, out var result, out int dim)
            ? result
            : throw new ArgumentException(
                CallSite.Tag($"{op}: shapes {Format(a)} and {Format(b)} cannot be broadcast together " +
                $"(dimension {dim} of the result: {Aligned(a, dim, result.Length)} vs {Aligned(b, dim, result.Length)}; each pair must be equal or one of them 1)."));

    /// <summary>The broadcast of two shapes, or false with the first result dim where they clash.</summary>
    public static bool TryBroadcast(ReadOnlySpan<int> a, ReadOnlySpan<int> b, out int[] result, out int clash)
    {
        int rank = Math.Max(a.Length, b.Length);
        result = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = Aligned(a, i, rank), db = Aligned(b, i, rank);
            if (da != db && da != 1 && db != 1)
            {
                clash = i;
                return false;
            }
            result[i] = da == 1 ? db : da;
        }
        clash = -1;
        return true;
    }

    // dim i of a shape right-aligned to rank dims (1 where it has none)
    private static int Aligned(ReadOnlySpan<int> shape, int i, int rank) => i < rank - shape.Length ? 1 : shape[i - (rank - shape.Length)];

    /// <summary>True when <paramref name="shape"/> broadcasts to <paramref name="target"/> without changing it.</summary>
    public static bool BroadcastsTo(ReadOnlySpan<int> shape, ReadOnlySpan<int> target)
    {
        if (shape.Length > target.Length)
        {
            return false;
        }
        int offset = target.Length - shape.Length;
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] != target[offset + i] && shape[i] != 1)
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Turns a possibly negative dim into 0..rank-1, or throws naming the op.</summary>
    public static int NormalizeDim(int dim, int rank, string op, ReadOnlySpan<int> shape)
    {
        int lo = rank == 0 ? -1 : -rank;
        int hi = rank == 0 ? 0 : rank - 1;
        if (dim < lo || dim > hi)
        {
            throw new ArgumentOutOfRangeException(nameof(dim),
                CallSite.Tag($"{op}: dim {dim} is out of range for a tensor of shape {Format(shape)} (rank {rank}); expected {lo}..{hi}."));
        }
        return dim < 0 ? dim + Math.Max(rank, 1) : dim;
    }

    /// <summary>Normalized, sorted, distinct dims; null means every dim.</summary>
    public static int[] NormalizeDims(int[]? dims, ReadOnlySpan<int> shape, string op)
    {
        int rank = shape.Length;
        if (dims is null)
        {
            var all = new int[rank];
            for (int i = 0; i < rank; i++)
            {
                all[i] = i;
            }
            return all;
        }
        var result = new int[dims.Length];
        for (int i = 0; i < dims.Length; i++)
        {
            result[i] = NormalizeDim(dims[i], rank, op, shape);
            if (rank == 0)
            {
                result[i] = -1; // a rank-0 tensor has no dims; dim 0/-1 means "the scalar itself"
            }
        }
        Array.Sort(result);
        for (int i = 1; i < result.Length; i++)
        {
            if (result[i] == result[i - 1] && result[i] >= 0)
            {
                throw new ArgumentException(CallSite.Tag($"{op}: dim {result[i]} appears more than once in [{string.Join(", ", dims)}]."));
            }
        }
        return rank == 0 ? [] : result;
    }

    public static bool SequenceEqual(ReadOnlySpan<int> a, ReadOnlySpan<int> b) => a.SequenceEqual(b);

    public static string Format(ReadOnlySpan<int> shape)
    {
        var sb = new StringBuilder("[");
        for (int i = 0; i < shape.Length; i++)
        {
            if (i > 0)
            {
                sb.Append(", ");
            }
            sb.Append(shape[i]);
        }
        return sb.Append(']').ToString();
    }

    public static void CheckRank(ReadOnlySpan<int> shape, string op)
    {
        if (shape.Length > Tensor.MaxRank)
        {
            throw new ArgumentException(CallSite.Tag($"{op}: shape {Format(shape)} has rank {shape.Length}; AutoGrad supports rank 0..{Tensor.MaxRank}."));
        }
        foreach (int d in shape)
        {
            if (d < 0)
            {
                throw new ArgumentException(CallSite.Tag($"{op}: shape {Format(shape)} has a negative dimension."));
            }
        }
    }
}
