namespace AutoGrad;

/// <summary>
/// How many threads AutoGrad's kernels may use (process-wide; default: every core). Work is partitioned so that each
/// output element is computed the same way whatever the thread count: results are bitwise identical with 1 or N.
/// </summary>
public static class Parallelism
{
    private static int s_maxThreads = Environment.ProcessorCount;

    /// <summary>The largest number of threads one kernel call uses (at least 1).</summary>
    public static int MaxThreads
    {
        get => Volatile.Read(ref s_maxThreads);
        set
        {
            if (value < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "Parallelism.MaxThreads must be at least 1.");
            }
            Volatile.Write(ref s_maxThreads, value);
        }
    }
}
