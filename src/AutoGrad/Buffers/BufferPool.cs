namespace AutoGrad.Buffers;

/// <summary>
/// Reuses buffers: op outputs and gradients (through <see cref="Tensor"/>'s factory), and the scratch of
/// convolution, pooling and the GEMM packing. Without it every step put megabytes on the large-object heap and forced
/// full garbage collections. Tensors hold their buffer through a <see cref="Storage"/> (the storage model: who owns a
/// buffer, when it goes back, and the guard that makes a recycled tensor throw). A buffer goes back only where its last
/// reader is known: scratch when the op is done, gradients when the engine has consumed them
/// (<see cref="Graph.Engine"/>), intermediate activations when the node that produced them is released. Anything
/// else is left to the GC, so no tensor ever needs Dispose. Buffers are not cleared on rent.
/// </summary>
internal static class BufferPool
{
    /// <summary>
    /// Smaller requests are ordinary allocations. Small buffers are pooled too (bias gradients, per-row losses), so a
    /// training step allocates almost nothing; below 16 floats the lock costs more than the allocation.
    /// </summary>
    public const int MinPooledLength = 16;

    private static readonly SizeClassPool<float> Floats = new(MinPooledLength, 32);
    private static readonly SizeClassPool<int> Ints = new(MinPooledLength, 16);

    // The storages the tensor factory hands out on this thread while a backward pass runs: only those may be recycled by it.
    [ThreadStatic]
    private static HashSet<Storage>? t_tracked;

    /// <summary>A tensor of <paramref name="shape"/> over a pooled buffer (contents undefined); give it back with <see cref="Return(Tensor?)"/>.</summary>
    public static Tensor Rent(int[] shape) => new(new PooledStorage(Floats.Rent(Shapes.Numel(shape))), shape);

    /// <summary>
    /// Gives a tensor's buffer back to the pool, once, and marks its storage recycled: the tensor and its views throw
    /// when used afterwards. A buffer the pool did not hand out (the garbage collector's) is left alone.
    /// </summary>
    public static void Return(Tensor? tensor)
    {
        if (tensor?.Storage is PooledStorage storage && storage.TryRecycle())
        {
            Floats.Return(storage.Data);
        }
    }

    /// <summary>A float buffer of at least <paramref name="length"/> elements (contents undefined).</summary>
    public static float[] RentFloats(int length) => Floats.Rent(length);

    /// <summary>Returns a float buffer from <see cref="RentFloats"/>.</summary>
    public static void ReturnFloats(float[]? buffer)
    {
        if (buffer is not null)
        {
            Floats.Return(buffer);
        }
    }

    /// <summary>An int buffer of at least <paramref name="length"/> elements.</summary>
    public static int[] RentInts(int length) => Ints.Rent(length);

    /// <summary>Returns an int buffer from <see cref="RentInts"/>.</summary>
    public static void ReturnInts(int[]? buffer)
    {
        if (buffer is not null)
        {
            Ints.Return(buffer);
        }
    }

    /// <summary>The storage of a new tensor from the factory: pooled (and tracked during backward) when it is large.</summary>
    public static Storage RentForTensor(int length)
    {
        if (length < MinPooledLength)
        {
            return new Storage(GC.AllocateUninitializedArray<float>(length));
        }
        var storage = new PooledStorage(Floats.Rent(length));
        t_tracked?.Add(storage);
        return storage;
    }

    /// <summary>
    /// Records, until the returned scope ends, which storages the tensor factory hands out on this thread; the caller
    /// (the engine) owns exactly those and may give them back with <see cref="ReturnTracked"/>.
    /// </summary>
    public static TrackingScope Track() => new(t_tracked);

    /// <summary>Gives back a tracked tensor's buffer once; false (and nothing happens) when it was not handed out in this scope.</summary>
    public static bool ReturnTracked(Tensor tensor)
    {
        if (t_tracked is { } tracked && tracked.Remove(tensor.Storage))
        {
            Return(tensor);
            return true;
        }
        return false;
    }

    /// <summary>Whether <paramref name="storage"/> was handed out in the current scope and not yet given back or kept.</summary>
    public static bool IsTracked(Storage storage) => t_tracked is { } tracked && tracked.Contains(storage);

    /// <summary>Stops tracking a storage that now has another owner (a leaf's gradient, a hook); it is never given back.</summary>
    public static void Untrack(Storage storage) => t_tracked?.Remove(storage);

    /// <summary>A pooled array the garbage collector took without it coming back (its storage's finalizer).</summary>
    internal static void Collected(float[] data) => Floats.Release(data);

    /// <summary>Counters of the float pool (the int pool only holds pooling arg-max indices).</summary>
    public static (int Pooled, long PooledBytes, int InUse, long InUseBytes, long PeakBytes, long Rents, long Reuses) Counters()
        => Floats.Counters();

    /// <summary>Restores the previous tracking set (a backward pass run from inside a hook) when disposed.</summary>
    public readonly struct TrackingScope : IDisposable
    {
        private readonly HashSet<Storage>? _previous;

        internal TrackingScope(HashSet<Storage>? previous)
        {
            _previous = previous;
            t_tracked = t_spare ?? new HashSet<Storage>(ReferenceEqualityComparer.Instance);
            t_spare = null;
        }

        public void Dispose()
        {
            if (t_tracked is { } done)
            {
                done.Clear();
                t_spare = done;
            }
            t_tracked = _previous;
        }

        // One set per thread is reused by the next pass, so tracking allocates nothing in steady state.
        [ThreadStatic]
        private static HashSet<Storage>? t_spare;
    }
}
