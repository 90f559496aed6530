using AutoGrad.Buffers;

namespace AutoGrad;

/// <summary>What AutoGrad's buffer pool holds; see <see cref="Memory.Report"/>.</summary>
/// <param name="LiveTensorBuffers">
/// Buffers of 1 KiB and up handed out for tensors and scratch that have not come back: the tensors in use now,
/// those the caller keeps, and those dropped to the garbage collector (which frees them without telling the pool).
/// </param>
/// <param name="LiveBytes">The bytes of <paramref name="LiveTensorBuffers"/>.</param>
/// <param name="PooledBuffers">Buffers waiting in the pool for the next step.</param>
/// <param name="PooledBytes">The bytes of <paramref name="PooledBuffers"/>.</param>
/// <param name="PeakBytes">The highest <paramref name="LiveBytes"/> + <paramref name="PooledBytes"/> so far.</param>
/// <param name="Rents">How many large buffers were asked for.</param>
/// <param name="Reuses">How many of those the pool could serve without allocating.</param>
/// <param name="ManagedHeapBytes">The whole managed heap as the GC sees it now (GC.GetTotalMemory without collecting).</param>
public readonly record struct MemoryReport(
    int LiveTensorBuffers, long LiveBytes, int PooledBuffers, long PooledBytes, long PeakBytes, long Rents, long Reuses, long ManagedHeapBytes)
{
    /// <summary>One line with sizes in MiB.</summary>
    public override string ToString()
        => FormattableString.Invariant(
            $"live {LiveTensorBuffers} buffers / {LiveBytes / 1048576.0:F1} MiB, pooled {PooledBuffers} / {PooledBytes / 1048576.0:F1} MiB, peak {PeakBytes / 1048576.0:F1} MiB, reused {Reuses} of {Rents} rents, managed heap {ManagedHeapBytes / 1048576.0:F1} MiB");
}

/// <summary>
/// AutoGrad's memory at a glance. Op outputs and gradients of 1 KiB and more come from a pool; a training step built from
/// <see cref="Nn.Sequential"/> and the built-in layers gives every intermediate buffer back, so the next step allocates
/// nothing large. Tensors never need Dispose: what the pool does not get back, the garbage collector frees.
/// </summary>
public static class Memory
{
    /// <summary>The pool's counters and the managed heap size now.</summary>
    public static MemoryReport Report()
    {
        var c = BufferPool.Counters();
        return new(c.InUse, c.InUseBytes, c.Pooled, c.PooledBytes, c.PeakBytes, c.Rents, c.Reuses, GC.GetTotalMemory(false));
    }
}
