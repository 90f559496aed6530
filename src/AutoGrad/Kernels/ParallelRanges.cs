namespace AutoGrad.Kernels;

/// <summary>
/// Splits independent work items [0, count) into contiguous chunks, a few per thread (up to
/// <see cref="Parallelism.MaxThreads"/>), when the work is large enough to pay for the threads. Threads take chunks as
/// they become free, so one that the OS preempts (this machine is shared) delays the call by a chunk, not by its whole
/// share. Each item is computed by the same code whatever the split, so results do not depend on the thread count.
/// </summary>
internal static unsafe class ParallelRanges
{
    private const long Threshold = 1L << 19; // element operations below which one thread is faster
    private const int ChunksPerThread = 4;

    public static void For(int count, long work, Action<int, int> body)
    {
        int threads = work >= Threshold ? Math.Min(Parallelism.MaxThreads, count) : 1;
        if (threads <= 1)
        {
            body(0, count);
            return;
        }
        InParallel(count, threads, body);
    }

    // A method of its own so that the single-thread path does not allocate the closure.
    private static void InParallel(int count, int threads, Action<int, int> body)
    {
        int parts = Math.Min(count, threads * ChunksPerThread);
        int chunk = (count + parts - 1) / parts;
        Workers.Run(parts, t =>
        {
            int start = t * chunk, end = Math.Min(count, start + chunk);
            if (start < end)
            {
                body(start, end);
            }
        });
    }
}
