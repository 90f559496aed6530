namespace AutoGrad.Buffers;

/// <summary>
/// Reuses buffers: op outputs and gradients (through <see cref="Tensor"/>'s factory), and the scratch of
/// convolution, pooling and the GEMM packing. Without it every step put megabytes on the large-object heap and forced
/// full garbage collections. A buffer goes back only where its last reader is known: scratch when the op is done,
/// gradients when the engine has consumed them (<see cref="Autograd.Engine"/>), intermediate activations of a
/// <see cref="Nn.Sequential"/> when the node that produced them is released. Anything else is left to the GC, so no
/// tensor ever needs Dispose. Buffers are not cleared on rent.
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

    // The buffers the tensor factory hands out on this thread while a backward pass runs: only those may be recycled by it.
    [ThreadStatic]
    private static HashSet<float[]>? t_tracked;

    /// <summary>A tensor of <paramref name="shape"/> over a pooled buffer (contents undefined); give it back with <see cref="Return(Tensor?)"/>.</summary>
    public static Tensor Rent(int[] shape) => new(Floats.Rent(Shapes.Numel(shape)), shape);

    /// <summary>Returns a tensor's buffer from <see cref="Rent"/>; the tensor must not be used afterwards.</summary>
    public static void Return(Tensor? tensor)
    {
        if (tensor is not null)
        {
            Floats.Return(tensor.Buffer);
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

    /// <summary>The buffer of a new tensor from the factory: pooled (and tracked during backward) when it is large.</summary>
    public static float[] RentForTensor(int length)
    {
        var buffer = Floats.Rent(length);
        if (length >= MinPooledLength)
        {
            t_tracked?.Add(buffer);
        }
        return buffer;
    }

    /// <summary>
    /// Records, until the returned scope ends, which buffers the tensor factory hands out on this thread; the caller
    /// (the engine) owns exactly those and may give them back with <see cref="ReturnTracked"/>.
    /// </summary>
    public static TrackingScope Track() => new(t_tracked);

    /// <summary>Gives back a tracked buffer once; false (and nothing happens) when it was not handed out in this scope.</summary>
    public static bool ReturnTracked(float[] buffer)
    {
        if (t_tracked is { } tracked && tracked.Remove(buffer))
        {
            Floats.Return(buffer);
            return true;
        }
        return false;
    }

    /// <summary>Whether <paramref name="buffer"/> was handed out in the current scope and not yet given back or kept.</summary>
    public static bool IsTracked(float[] buffer) => t_tracked is { } tracked && tracked.Contains(buffer);

    /// <summary>Stops tracking a buffer that now has another owner (a leaf's gradient, a hook); it is never given back.</summary>
    public static void Untrack(float[] buffer)
    {
        if (t_tracked is { } tracked && tracked.Remove(buffer))
        {
            Floats.Release(buffer);
        }
    }

    /// <summary>
    /// Forgets a pooled buffer that now belongs to user code (a model's output): it is never given back, so it stops
    /// counting as handed out, and the GC frees it with its tensor.
    /// </summary>
    public static void Disown(float[] buffer) => Floats.Release(buffer);

    /// <summary>Counters of the float pool (the int pool only holds pooling arg-max indices).</summary>
    public static (int Pooled, long PooledBytes, int InUse, long InUseBytes, long PeakBytes, long Rents, long Reuses) Counters()
        => Floats.Counters();

    /// <summary>Restores the previous tracking set (a backward pass run from inside a hook) when disposed.</summary>
    public readonly struct TrackingScope : IDisposable
    {
        private readonly HashSet<float[]>? _previous;

        internal TrackingScope(HashSet<float[]>? previous)
        {
            _previous = previous;
            t_tracked = t_spare ?? new HashSet<float[]>(ReferenceEqualityComparer.Instance);
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
        private static HashSet<float[]>? t_spare;
    }
}
