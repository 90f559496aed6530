namespace AutoGrad.Buffers;

/// <summary>
/// Arrays in size classes four per power of two (2^k times 1.25, 1.5, 1.75 and 2, so a rent wastes at most a fifth),
/// kept in per-class stacks under one lock. Unlike ArrayPool.Shared it is never
/// trimmed by the garbage collector, and unlike ArrayPool.Create it counts what it holds, for
/// <see cref="Memory.Report"/>. An array that is rented and never returned is simply collected by the GC.
/// A class keeps up to <c>maxPerClass</c> arrays, or as many as were ever handed out at once, whichever is more: a
/// workload that needs more arrays of one size at a time finds them all again on its next pass (the charlm
/// transformer holds some 60 activations of 1 MB at the end of a forward; with a fixed cap of 32 every step allocated
/// 76 MB afresh and ran a full collection every few steps). What the pool holds stays below the peak in use.
/// </summary>
internal sealed class SizeClassPool<T>(int minimumLength, int maxPerClass)
{
    private const int MaxLength = 1 << 30; // larger requests are allocated exactly and never pooled
    private const int ClassCount = (30 - 2) * 4;
    private readonly Stack<T[]>[] _classes = CreateClasses();
    private readonly int[] _inUsePerClass = new int[ClassCount], _peakPerClass = new int[ClassCount];
    private readonly Lock _lock = new();
    private readonly int _elementSize = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
    private long _pooledBytes, _inUseBytes, _peakBytes, _rents, _reuses;
    private int _pooledCount, _inUseCount;

    /// <summary>An array of at least <paramref name="length"/> elements (contents undefined).</summary>
    public T[] Rent(int length)
    {
        if (length < minimumLength || length > MaxLength)
        {
            return GC.AllocateUninitializedArray<T>(length);
        }
        int sizeClass = ClassOf(length, out int size);
        long bytes = (long)_elementSize * size;
        lock (_lock)
        {
            _rents++;
            _inUseCount++;
            _inUseBytes += bytes;
            _peakPerClass[sizeClass] = Math.Max(_peakPerClass[sizeClass], ++_inUsePerClass[sizeClass]);
            if (_classes[sizeClass].TryPop(out var array))
            {
                _reuses++;
                _pooledCount--;
                _pooledBytes -= bytes;
                return array;
            }
            _peakBytes = Math.Max(_peakBytes, _pooledBytes + _inUseBytes);
        }
        return GC.AllocateUninitializedArray<T>(size);
    }

    /// <summary>
    /// The class of a request of <paramref name="length"/> (at least 5) elements and the array size it is served with:
    /// for 2^k &lt; length &lt;= 2^(k+1), the next multiple of 2^(k-2).
    /// </summary>
    private static int ClassOf(int length, out int size)
    {
        int k = System.Numerics.BitOperations.Log2((uint)(length - 1));
        int step = 1 << (k - 2);
        int multiple = (length + step - 1) / step; // 5..8
        size = multiple * step;
        return (k - 2) * 4 + multiple - 5;
    }

    /// <summary>The class of an array of exactly <paramref name="length"/> elements, or -1 when no rent gives that size.</summary>
    private int ClassOfArray(int length)
    {
        if (length < minimumLength || length > MaxLength)
        {
            return -1;
        }
        int sizeClass = ClassOf(length, out int size);
        return size == length ? sizeClass : -1;
    }

    /// <summary>Takes back an array from <see cref="Rent"/>; arrays of other sizes (or a full class) are left to the GC.</summary>
    public void Return(T[] array)
    {
        int sizeClass = ClassOfArray(array.Length);
        if (sizeClass < 0)
        {
            return;
        }
        long bytes = (long)_elementSize * array.Length;
        lock (_lock)
        {
            _inUseCount--;
            _inUseBytes -= bytes;
            _inUsePerClass[sizeClass]--;
            if (_classes[sizeClass].Count < Math.Max(maxPerClass, _peakPerClass[sizeClass]))
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
        int sizeClass = ClassOfArray(array.Length);
        if (sizeClass >= 0)
        {
            lock (_lock)
            {
                _inUsePerClass[sizeClass]--;
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
        var classes = new Stack<T[]>[ClassCount];
        for (int i = 0; i < classes.Length; i++)
        {
            classes[i] = new Stack<T[]>();
        }
        return classes;
    }
}
