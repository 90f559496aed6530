namespace AutoGrad.Buffers;

/// <summary>
/// Arrays in power-of-two size classes, kept in per-class stacks under one lock. Unlike ArrayPool.Shared it is never
/// trimmed by the garbage collector, and unlike ArrayPool.Create it counts what it holds, for
/// <see cref="Memory.Report"/>. An array that is rented and never returned is simply collected by the GC.
/// </summary>
internal sealed class SizeClassPool<T>(int minimumLength, int maxPerClass)
{
    private const int MaxClass = 30; // 2^30 elements; larger requests are allocated exactly and never pooled
    private readonly Stack<T[]>[] _classes = CreateClasses();
    private readonly Lock _lock = new();
    private readonly int _elementSize = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
    private long _pooledBytes, _inUseBytes, _peakBytes, _rents, _reuses;
    private int _pooledCount, _inUseCount;

    /// <summary>An array of at least <paramref name="length"/> elements (contents undefined).</summary>
    public T[] Rent(int length)
    {
        if (length < minimumLength || length > 1 << MaxClass)
        {
            return GC.AllocateUninitializedArray<T>(length);
        }
        int sizeClass = length <= 1 ? 0 : 32 - System.Numerics.BitOperations.LeadingZeroCount((uint)(length - 1));
        long bytes = (long)_elementSize << sizeClass;
        lock (_lock)
        {
            _rents++;
            _inUseCount++;
            _inUseBytes += bytes;
            if (_classes[sizeClass].TryPop(out var array))
            {
                _reuses++;
                _pooledCount--;
                _pooledBytes -= bytes;
                return array;
            }
            _peakBytes = Math.Max(_peakBytes, _pooledBytes + _inUseBytes);
        }
        return GC.AllocateUninitializedArray<T>(1 << sizeClass);
    }

    /// <summary>Takes back an array from <see cref="Rent"/>; arrays of other sizes (or a full class) are left to the GC.</summary>
    public void Return(T[] array)
    {
        int length = array.Length;
        if (length < minimumLength || length > 1 << MaxClass || !System.Numerics.BitOperations.IsPow2(length))
        {
            return;
        }
        int sizeClass = System.Numerics.BitOperations.Log2((uint)length);
        long bytes = (long)_elementSize << sizeClass;
        lock (_lock)
        {
            _inUseCount--;
            _inUseBytes -= bytes;
            if (_classes[sizeClass].Count < maxPerClass)
            {
                _classes[sizeClass].Push(array);
                _pooledCount++;
                _pooledBytes += bytes;
            }
        }
    }

    /// <summary>Forgets an array that will never come back (its tensor now belongs to a user-visible owner).</summary>
    public void Release(T[] array)
    {
        if (array.Length >= minimumLength && System.Numerics.BitOperations.IsPow2(array.Length))
        {
            lock (_lock)
            {
                _inUseCount--;
                _inUseBytes -= (long)_elementSize * array.Length;
            }
        }
    }

    /// <summary>Pooled and handed-out counts and bytes, the peak of their sum, and how often a rent found an array.</summary>
    public (int Pooled, long PooledBytes, int InUse, long InUseBytes, long PeakBytes, long Rents, long Reuses) Counters()
    {
        lock (_lock)
        {
            return (_pooledCount, _pooledBytes, _inUseCount, _inUseBytes, _peakBytes, _rents, _reuses);
        }
    }

    private static Stack<T[]>[] CreateClasses()
    {
        var classes = new Stack<T[]>[MaxClass + 1];
        for (int i = 0; i < classes.Length; i++)
        {
            classes[i] = new Stack<T[]>();
        }
        return classes;
    }
}
