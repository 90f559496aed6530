using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AutoGrad.Kernels;

/// <summary>An elementwise function of one value, in scalar and vector form (the vector form must agree with the scalar one).</summary>
internal interface IUnaryMap
{
    float Invoke(float x);
    Vector<float> Invoke(Vector<float> x);

    /// <summary>
    /// Whether the map also has a form over <see cref="ISimd{TSelf}"/>, which <see cref="Map"/> then runs at the widest
    /// width here (<see cref="Vector{T}"/> is 256 bits on x64 even with AVX-512): worth it for maps that compute more
    /// than they move. All forms must give the same bits.
    /// </summary>
    static virtual bool HasSimdForm => false;

    TVec Invoke<TVec>(TVec x) where TVec : unmanaged, ISimd<TVec> => throw new NotSupportedException($"{GetType().Name} has no ISimd form.");
}

/// <summary>An elementwise function of two values, in scalar and vector form.</summary>
internal interface IBinaryMap
{
    float Invoke(float x, float y);
    Vector<float> Invoke(Vector<float> x, Vector<float> y);

    /// <summary>As <see cref="IUnaryMap.HasSimdForm"/>.</summary>
    static virtual bool HasSimdForm => false;

    TVec Invoke<TVec>(TVec x, TVec y) where TVec : unmanaged, ISimd<TVec> => throw new NotSupportedException($"{GetType().Name} has no ISimd form.");
}

/// <summary>
/// The one shared loop behind every fused elementwise kernel that TensorPrimitives lacks: a vector body over
/// <see cref="Vector{T}"/> (or, for a map with an <see cref="ISimd{TSelf}"/> form, over the widest width) and a scalar tail. The operator is a struct, so each kernel is specialized and inlined.
/// Long inputs (at least two <see cref="Chunk"/>s, a transformer's GELU over [2048, 512]) run in chunks across the
/// workers; chunk bounds are multiples of every vector width and do not depend on the thread count, so each element
/// takes the same path (vector body or the one scalar tail at the end) and the bits match the serial loop.
/// </summary>
internal static unsafe class Map
{
    /// <summary>Elements per parallel part: 128 KB of input, some tens of microseconds of work against a wake-up of a few.</summary>
    internal const int Chunk = 1 << 15;

    private static bool Split(int length) => length >= 2 * Chunk && Parallelism.MaxThreads > 1;

    public static void Apply<T>(T op, ReadOnlySpan<float> x, Span<float> destination) where T : struct, IUnaryMap
    {
        CheckLengths(x.Length, x.Length, destination.Length);
        if (Split(x.Length))
        {
            fixed (float* px = x, pd = destination)
            {
                var job = UnaryJob<T>.Rent(op, px, pd, x.Length);
                Workers.Run((x.Length + Chunk - 1) / Chunk, job.Body);
                job.Return();
            }
            return;
        }
        Serial(op, x, destination);
    }

    private static void Serial<T>(T op, ReadOnlySpan<float> x, Span<float> destination) where T : struct, IUnaryMap
    {
        if (T.HasSimdForm)
        {
            fixed (float* px = x, pd = destination)
            {
                switch (Simd.Width)
                {
                    case 512: SerialSimd<T, Simd512>(op, px, pd, x.Length); break;
                    case 256: SerialSimd<T, Simd256>(op, px, pd, x.Length); break;
                    case 128: SerialSimd<T, Simd128>(op, px, pd, x.Length); break;
                    default: SerialSimd<T, SimdScalar>(op, px, pd, x.Length); break;
                }
            }
            return;
        }
        int i = 0;
        int w = Vector<float>.Count;
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float dr = ref MemoryMarshal.GetReference(destination);
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= x.Length - w; i += w)
            {
                var v = Vector.LoadUnsafe(ref xr, (nuint)i);
                op.Invoke(v).StoreUnsafe(ref dr, (nuint)i);
            }
        }
        for (; i < x.Length; i++)
        {
            Unsafe.Add(ref dr, i) = op.Invoke(Unsafe.Add(ref xr, i));
        }
    }

    public static void Apply<T>(T op, ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> destination) where T : struct, IBinaryMap
    {
        CheckLengths(x.Length, y.Length, destination.Length);
        if (Split(x.Length))
        {
            fixed (float* px = x, py = y, pd = destination)
            {
                var job = BinaryJob<T>.Rent(op, px, py, pd, x.Length);
                Workers.Run((x.Length + Chunk - 1) / Chunk, job.Body);
                job.Return();
            }
            return;
        }
        Serial(op, x, y, destination);
    }

    private static void Serial<T>(T op, ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> destination) where T : struct, IBinaryMap
    {
        if (T.HasSimdForm)
        {
            fixed (float* px = x, py = y, pd = destination)
            {
                switch (Simd.Width)
                {
                    case 512: SerialSimd<T, Simd512>(op, px, py, pd, x.Length); break;
                    case 256: SerialSimd<T, Simd256>(op, px, py, pd, x.Length); break;
                    case 128: SerialSimd<T, Simd128>(op, px, py, pd, x.Length); break;
                    default: SerialSimd<T, SimdScalar>(op, px, py, pd, x.Length); break;
                }
            }
            return;
        }
        int i = 0;
        int w = Vector<float>.Count;
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        ref float dr = ref MemoryMarshal.GetReference(destination);
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= x.Length - w; i += w)
            {
                var vx = Vector.LoadUnsafe(ref xr, (nuint)i);
                var vy = Vector.LoadUnsafe(ref yr, (nuint)i);
                op.Invoke(vx, vy).StoreUnsafe(ref dr, (nuint)i);
            }
        }
        for (; i < x.Length; i++)
        {
            Unsafe.Add(ref dr, i) = op.Invoke(Unsafe.Add(ref xr, i), Unsafe.Add(ref yr, i));
        }
    }

    /// <summary>x is a vector, y one value used for every element.</summary>
    public static void Apply<T>(T op, ReadOnlySpan<float> x, float y, Span<float> destination) where T : struct, IBinaryMap
    {
        CheckLengths(x.Length, x.Length, destination.Length);
        int i = 0;
        int w = Vector<float>.Count;
        var vy = new Vector<float>(y);
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float dr = ref MemoryMarshal.GetReference(destination);
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= x.Length - w; i += w)
            {
                op.Invoke(Vector.LoadUnsafe(ref xr, (nuint)i), vy).StoreUnsafe(ref dr, (nuint)i);
            }
        }
        for (; i < x.Length; i++)
        {
            Unsafe.Add(ref dr, i) = op.Invoke(Unsafe.Add(ref xr, i), y);
        }
    }

    /// <summary>x one value used for every element, y a vector.</summary>
    public static void Apply<T>(T op, float x, ReadOnlySpan<float> y, Span<float> destination) where T : struct, IBinaryMap
    {
        CheckLengths(y.Length, y.Length, destination.Length);
        int i = 0;
        int w = Vector<float>.Count;
        var vx = new Vector<float>(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        ref float dr = ref MemoryMarshal.GetReference(destination);
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= y.Length - w; i += w)
            {
                op.Invoke(vx, Vector.LoadUnsafe(ref yr, (nuint)i)).StoreUnsafe(ref dr, (nuint)i);
            }
        }
        for (; i < y.Length; i++)
        {
            Unsafe.Add(ref dr, i) = op.Invoke(x, Unsafe.Add(ref yr, i));
        }
    }

    private static void CheckLengths(int x, int y, int destination)
    {
        if (x != y || destination < x)
        {
            throw new ArgumentException($"Kernel: input lengths {x} and {y} with a destination of {destination}; inputs must match and the destination must be at least as long.");
        }
    }

    // A parallel map's operands and its part as a delegate made once: a job object is kept per thread and map and
    // reused, so a parallel map allocates nothing (a closure per call was a kilobyte per LeNet step). A map nested in
    // another's part (none today) would find the slot empty and make its own.

    /// <summary>The loop of a map with an <see cref="ISimd{TSelf}"/> form, at one width; the tail takes the scalar form.</summary>
    internal static void SerialSimd<T, TVec>(T op, float* x, float* destination, int length) where T : struct, IUnaryMap where TVec : unmanaged, ISimd<TVec>
    {
        int i = 0;
        for (; i <= length - TVec.Count; i += TVec.Count)
        {
            TVec.Store(op.Invoke(TVec.Load(x + i)), destination + i);
        }
        for (; i < length; i++)
        {
            destination[i] = op.Invoke(x[i]);
        }
    }

    /// <summary>The two-input form of <see cref="SerialSimd{T, TVec}(T, float*, float*, int)"/>.</summary>
    internal static void SerialSimd<T, TVec>(T op, float* x, float* y, float* destination, int length) where T : struct, IBinaryMap where TVec : unmanaged, ISimd<TVec>
    {
        int i = 0;
        for (; i <= length - TVec.Count; i += TVec.Count)
        {
            TVec.Store(op.Invoke(TVec.Load(x + i), TVec.Load(y + i)), destination + i);
        }
        for (; i < length; i++)
        {
            destination[i] = op.Invoke(x[i], y[i]);
        }
    }

    private sealed class UnaryJob<T> where T : struct, IUnaryMap
    {
        [ThreadStatic]
        private static UnaryJob<T>? t_free;

        private T _op;
        private float* _x, _destination;
        private int _length;

        private UnaryJob() => Body = Part;

        public Action<int> Body { get; }

        public static UnaryJob<T> Rent(T op, float* x, float* destination, int length)
        {
            var job = t_free ?? new UnaryJob<T>();
            t_free = null;
            job._op = op;
            job._x = x;
            job._destination = destination;
            job._length = length;
            return job;
        }

        public void Return()
        {
            _x = _destination = null;
            t_free = this;
        }

        private void Part(int chunk)
        {
            int start = chunk * Chunk, length = Math.Min(Chunk, _length - start);
            Serial(_op, new ReadOnlySpan<float>(_x + start, length), new Span<float>(_destination + start, length));
        }
    }

    private sealed class BinaryJob<T> where T : struct, IBinaryMap
    {
        [ThreadStatic]
        private static BinaryJob<T>? t_free;

        private T _op;
        private float* _x, _y, _destination;
        private int _length;

        private BinaryJob() => Body = Part;

        public Action<int> Body { get; }

        public static BinaryJob<T> Rent(T op, float* x, float* y, float* destination, int length)
        {
            var job = t_free ?? new BinaryJob<T>();
            t_free = null;
            job._op = op;
            job._x = x;
            job._y = y;
            job._destination = destination;
            job._length = length;
            return job;
        }

        public void Return()
        {
            _x = _y = _destination = null;
            t_free = this;
        }

        private void Part(int chunk)
        {
            int start = chunk * Chunk, length = Math.Min(Chunk, _length - start);
            Serial(_op, new ReadOnlySpan<float>(_x + start, length), new ReadOnlySpan<float>(_y + start, length), new Span<float>(_destination + start, length));
        }
    }
}
