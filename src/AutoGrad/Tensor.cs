using System.Globalization;
using System.Text;

namespace AutoGrad;

/// <summary>
/// An n-dimensional array of float32 values: row-major, contiguous, rank 0..<see cref="MaxRank"/>. It knows nothing
/// of gradients (that is <see cref="Variable"/>'s job). Memory is ordinary managed memory: nothing to dispose.
/// </summary>
/// <remarks>
/// Op outputs get their buffers from one internal factory, which takes all but the smallest from a pool. A reshaped
/// tensor shares its buffer with the source (a view), exactly like <c>torch.reshape</c> on a contiguous tensor.
/// </remarks>
public sealed partial class Tensor
{
    /// <summary>The largest supported rank.</summary>
    public const int MaxRank = 6;

    private readonly Buffers.Storage _storage;
    private readonly int[] _shape;

    /// <summary>A tensor over an array nobody else recycles (the garbage collector's).</summary>
    internal Tensor(float[] data, int[] shape)
        : this(new Buffers.Storage(data), shape)
    {
    }

    /// <summary>A tensor over <paramref name="storage"/> (shared with its views).</summary>
    internal Tensor(Buffers.Storage storage, int[] shape)
    {
        _storage = storage;
        _shape = shape;
        Length = Shapes.Numel(shape);
        if (storage.Data.Length < Length)
        {
            throw new ArgumentException($"Tensor: a buffer of {storage.Data.Length} floats cannot hold shape {Shapes.Format(shape)} ({Length} elements).");
        }
    }

    /// <summary>The size of each dimension.</summary>
    public ReadOnlySpan<int> Shape => _shape;

    /// <summary>The number of dimensions (0 for a scalar).</summary>
    public int Rank => _shape.Length;

    /// <summary>The number of elements (the product of the shape; 1 for a scalar).</summary>
    public int Length { get; }

    /// <summary>The shape array itself, for internal callers that promise not to mutate it.</summary>
    internal int[] ShapeArray => _shape;

    /// <summary>The underlying buffer (may be longer than <see cref="Length"/>); throws when the pool has taken it back.</summary>
    internal float[] Buffer => Live().Data;

    /// <summary>The storage this tensor and its views share.</summary>
    internal Buffers.Storage Storage => _storage;

    /// <summary>The storage's version: how many in-place writes it has seen (PyTorch's <c>tensor._version</c>).</summary>
    internal int Version => _storage.Version;

    /// <summary>The storage, checked to be alive: a tensor whose buffer went back to the pool must never be read.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private Buffers.Storage Live()
    {
        var storage = _storage;
        if (storage.Recycled)
        {
            ThrowRecycled();
        }
        return storage;
    }

    private void ThrowRecycled() => throw new InvalidOperationException(
        $"Tensor: this tensor's memory (shape {Shapes.Format(_shape)}) was reused after Backward() released the graph that made it "
        + "(or after its DataLoader produced the next batch); Clone() it to keep it.");

    /// <summary>The size of dimension <paramref name="dim"/> (negative counts from the end).</summary>
    public int Size(int dim) => _shape[Shapes.NormalizeDim(dim, Rank, nameof(Size), _shape)];

    /// <summary>
    /// The elements in row-major order, writable in place. Counts as a write: a graph node that saved this tensor for
    /// its gradient refuses to run its backward afterwards (use <see cref="AsReadOnlySpan"/> to read).
    /// </summary>
    public Span<float> AsSpan()
    {
        var storage = Live();
        storage.Version++;
        return storage.Data.AsSpan(0, Length);
    }

    /// <summary>The elements in row-major order.</summary>
    public ReadOnlySpan<float> AsReadOnlySpan() => new(Live().Data, 0, Length);

    /// <summary>A copy of the elements in row-major order.</summary>
    public float[] ToArray() => AsReadOnlySpan().ToArray();

    /// <summary>The element at the given indices (one per dimension; negative counts from the end).</summary>
    [System.Runtime.CompilerServices.IndexerName("Element")]
    public float this[params int[] indices]
    {
        get => Live().Data[FlatIndex(indices)];
        set
        {
            var storage = Live();
            storage.Version++;
            storage.Data[FlatIndex(indices)] = value;
        }
    }

    /// <summary>The single value of a tensor with one element (like <c>tensor.item()</c>).</summary>
    public float Item()
    {
        if (Length != 1)
        {
            throw new InvalidOperationException($"Item: only a tensor with one element has an item; this one has shape {Shapes.Format(_shape)}.");
        }
        return Live().Data[0];
    }

    /// <summary>A tensor with the same elements and a new shape; one entry may be -1 (inferred). Shares the buffer.</summary>
    public Tensor Reshape(params int[] shape) => new(_storage, ResolveReshape(_shape, Length, shape, nameof(Reshape)));

    /// <summary>A deep copy.</summary>
    public Tensor Clone()
    {
        var result = Empty(_shape);
        AsReadOnlySpan().CopyTo(result.AsSpan());
        return result;
    }

    // ---- creation -------------------------------------------------------------------------------------------------

    /// <summary>A tensor of zeros.</summary>
    public static Tensor Zeros(params int[] shape) => new(new float[CheckedNumel(shape, nameof(Zeros))], (int[])shape.Clone());

    /// <summary>A tensor of ones.</summary>
    public static Tensor Ones(params int[] shape) => Full(shape, 1f);

    /// <summary>A tensor filled with <paramref name="value"/>.</summary>
    public static Tensor Full(int[] shape, float value)
    {
        var t = Empty(shape, nameof(Full));
        t.AsSpan().Fill(value);
        return t;
    }

    /// <summary>A rank-0 tensor holding <paramref name="value"/>.</summary>
    public static Tensor Scalar(float value) => new([value], []);

    /// <summary>
    /// A tensor holding a copy of <paramref name="data"/> with the given shape; with no shape, a 1-D tensor (use
    /// <see cref="Scalar"/> or <see cref="Reshape"/> with no dims for rank 0).
    /// </summary>
    public static Tensor FromArray(float[] data, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (shape.Length == 0)
        {
            shape = [data.Length];
        }
        int n = CheckedNumel(shape, nameof(FromArray));
        if (n != data.Length)
        {
            throw new ArgumentException($"FromArray: {data.Length} values do not fill shape {Shapes.Format(shape)} ({n} elements).", nameof(data));
        }
        return new((float[])data.Clone(), (int[])shape.Clone());
    }

    /// <summary>Values from <paramref name="start"/> (inclusive) to <paramref name="end"/> (exclusive) in steps of <paramref name="step"/>.</summary>
    public static Tensor Arange(float start, float end, float step = 1f)
    {
        if (step == 0 || float.IsNaN(step) || float.IsNaN(start) || float.IsNaN(end) || float.IsInfinity(start) || float.IsInfinity(end))
        {
            throw new ArgumentException($"Arange: need finite start/end and a nonzero step; got start={start}, end={end}, step={step}.");
        }
        int n = (int)Math.Max(0, Math.Ceiling((end - (double)start) / step));
        var t = Empty([n], nameof(Arange));
        var span = t.AsSpan();
        for (int i = 0; i < n; i++)
        {
            span[i] = (float)(start + (double)i * step);
        }
        return t;
    }

    /// <summary>0, 1, ..., <paramref name="count"/>-1.</summary>
    public static Tensor Arange(int count) => Arange(0, count);

    /// <summary>Uniform values in [0, 1) from the default generator.</summary>
    public static Tensor Rand(params int[] shape) => Uniform(shape, 0f, 1f, null);

    /// <summary>Uniform values in [0, 1) from <paramref name="generator"/>.</summary>
    public static Tensor Rand(Generator generator, params int[] shape) => Uniform(shape, 0f, 1f, generator);

    /// <summary>Standard normal values from the default generator.</summary>
    public static Tensor Randn(params int[] shape) => Normal(shape, 0f, 1f, null);

    /// <summary>Standard normal values from <paramref name="generator"/>.</summary>
    public static Tensor Randn(Generator generator, params int[] shape) => Normal(shape, 0f, 1f, generator);

    /// <summary>Values uniform in [<paramref name="low"/>, <paramref name="high"/>).</summary>
    public static Tensor Uniform(int[] shape, float low, float high, Generator? generator = null)
    {
        if (!(low <= high) || float.IsInfinity(high - low))
        {
            throw new ArgumentException($"Uniform: need finite low <= high; got low={low}, high={high}.");
        }
        var t = Empty(shape, nameof(Uniform));
        (generator ?? Generator.Default).FillUniform(t.AsSpan(), low, high);
        return t;
    }

    /// <summary>Normal values with the given mean and standard deviation.</summary>
    public static Tensor Normal(int[] shape, float mean, float std, Generator? generator = null)
    {
        if (!(std >= 0) || !float.IsFinite(mean) || !float.IsFinite(std))
        {
            throw new ArgumentException($"Normal: need a finite mean and a finite std >= 0; got mean={mean}, std={std}.");
        }
        var t = Empty(shape, nameof(Normal));
        (generator ?? Generator.Default).FillNormal(t.AsSpan(), mean, std);
        return t;
    }

    /// <summary>The one place tensors get fresh (uninitialized) buffers; a pool plugs in here.</summary>
    internal static Tensor Empty(int[] shape, string op = "Tensor")
    {
        int n = CheckedNumel(shape, op);
        return new(GC.AllocateUninitializedArray<float>(n), (int[])shape.Clone());
    }

    /// <summary>
    /// Like <see cref="Empty"/> but takes ownership of <paramref name="shape"/> (no copy). This is where op outputs and
    /// gradients get their buffers: large ones come from the pool (see <see cref="Buffers.BufferPool"/>).
    /// </summary>
    internal static Tensor EmptyOwned(int[] shape) => new(Buffers.BufferPool.RentForTensor(Shapes.Numel(shape)), shape);

    /// <summary>A zero tensor that takes ownership of <paramref name="shape"/>.</summary>
    internal static Tensor ZerosOwned(int[] shape)
    {
        var tensor = EmptyOwned(shape);
        tensor.AsSpan().Clear();
        return tensor;
    }

    internal Tensor WithShape(int[] shape) => new(_storage, shape);

    private static int CheckedNumel(int[] shape, string op)
    {
        ArgumentNullException.ThrowIfNull(shape);
        Shapes.CheckRank(shape, op);
        return Shapes.Numel(shape);
    }

    /// <summary>The target shape with its -1 resolved; the errors name the caller's line like every shape error.</summary>
    internal static int[] ResolveReshape(ReadOnlySpan<int> from, int length, int[] shape, string op)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Length > MaxRank)
        {
            throw new ArgumentException(Graph.CallSite.Tag($"{op}: target shape {Shapes.Format(shape)} has rank {shape.Length}; AutoGrad supports rank 0..{MaxRank}."));
        }
        var result = (int[])shape.Clone();
        int inferred = -1;
        long known = 1;
        for (int i = 0; i < result.Length; i++)
        {
            if (result[i] == -1)
            {
                if (inferred >= 0)
                {
                    throw new ArgumentException(Graph.CallSite.Tag($"{op}: target shape {Shapes.Format(shape)} has more than one -1."));
                }
                inferred = i;
            }
            else if (result[i] < 0)
            {
                throw new ArgumentException(Graph.CallSite.Tag($"{op}: target shape {Shapes.Format(shape)} has a negative dimension."));
            }
            else
            {
                known *= result[i];
            }
        }
        if (inferred >= 0)
        {
            if (known == 0 || length % known != 0)
            {
                throw new ArgumentException(Graph.CallSite.Tag($"{op}: cannot reshape {Shapes.Format(from)} ({length} elements) to {Shapes.Format(shape)}."));
            }
            result[inferred] = (int)(length / known);
        }
        else if (known != length)
        {
            throw new ArgumentException(Graph.CallSite.Tag($"{op}: cannot reshape {Shapes.Format(from)} ({length} elements) to {Shapes.Format(shape)} ({known} elements)."));
        }
        return result;
    }

    private int FlatIndex(int[] indices)
    {
        if (indices.Length != Rank)
        {
            throw new ArgumentException($"Tensor indexer: {indices.Length} indices for a tensor of shape {Shapes.Format(_shape)} (rank {Rank}).");
        }
        int flat = 0;
        for (int i = 0; i < indices.Length; i++)
        {
            int idx = indices[i];
            int size = _shape[i];
            if (idx < -size || idx >= size)
            {
                throw new ArgumentOutOfRangeException(nameof(indices),
                    $"Tensor indexer: index {idx} is out of range for dimension {i} of size {size} (shape {Shapes.Format(_shape)}).");
            }
            flat = flat * size + (idx < 0 ? idx + size : idx);
        }
        return flat;
    }

    /// <summary>Shape and values, abbreviated like PyTorch's printing for large tensors.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder("tensor(");
        AppendValues(sb, 0, 0);
        return sb.Append(", shape=").Append(Shapes.Format(_shape)).Append(')').ToString();
    }

    private const int EdgeItems = 3;

    private void AppendValues(StringBuilder sb, int dim, int offset)
    {
        if (dim == Rank)
        {
            sb.Append(Live().Data[offset].ToString("G6", CultureInfo.InvariantCulture));
            return;
        }
        int size = _shape[dim];
        int stride = 1;
        for (int i = dim + 1; i < Rank; i++)
        {
            stride *= _shape[i];
        }
        bool abbreviate = Length > 1000 && size > 2 * EdgeItems;
        sb.Append('[');
        for (int i = 0; i < size; i++)
        {
            if (abbreviate && i == EdgeItems)
            {
                sb.Append("..., ");
                i = size - EdgeItems;
            }
            AppendValues(sb, dim + 1, offset + i * stride);
            if (i < size - 1)
            {
                sb.Append(", ");
            }
        }
        sb.Append(']');
    }
}
