namespace AutoGrad.Buffers;

/// <summary>
/// The buffer behind a tensor and its views, and what AutoGrad knows of it. This is the one storage model:
/// <list type="bullet">
/// <item><b>Who owns it.</b> A buffer the tensor factory took from the pool (<see cref="PooledStorage"/>) may go back to
/// the pool exactly once, by the one party that knows its last reader: the backward engine for gradients, a graph
/// node for the output it produced (when Backward releases it), a kernel for its scratch. Everything else (user
/// arrays, tensors made by Zeros/FromArray/Clone) belongs to the garbage collector and is never recycled. An op's
/// output made inside a module's forward is an intermediate: the graph owns it, and Backward gives it back when it
/// releases the node that made it, unless it <see cref="Escaped"/> (the module's output, what hooks saw).</item>
/// <item><b>The guard.</b> Going back to the pool marks the storage <see cref="Recycled"/>; from then on every tensor
/// over it throws when read or written, so a tensor never shows another step's data. Dispose is never needed.</item>
/// <item><b>The version.</b> Every in-place write through any tensor over the storage (the indexer, AsSpan, optimizer
/// updates, copies into it) bumps <see cref="Version"/>, PyTorch's version counter: a node that saved the tensor for
/// its backward compares versions there and refuses a gradient computed from changed data.</item>
/// </list>
/// </summary>
internal class Storage(float[] data)
{
    /// <summary>The floats (the pool may hand out a longer array than a tensor needs).</summary>
    public float[] Data => data;

    /// <summary>Bumped by every write through a tensor over this storage.</summary>
    public int Version;

    /// <summary>
    /// Set once code outside the graph may keep a tensor over this storage (a module's output returned to its caller, a
    /// hook's view, Detach, RetainGrad): releasing the graph then leaves the buffer to the garbage collector.
    /// </summary>
    public bool Escaped;

    /// <summary>Whether the pool has taken the buffer back (its tensors are dead).</summary>
    public bool Recycled { get; private set; }

    /// <summary>Marks the storage dead; true the first time (the caller then returns the array), false after.</summary>
    public bool TryRecycle()
    {
        if (Recycled)
        {
            return false;
        }
        Recycled = true;
        GC.SuppressFinalize(this);
        return true;
    }
}

/// <summary>
/// A storage over a pooled array. When the garbage collector takes one that never went back (a tensor the caller
/// kept and dropped), its finalizer tells the pool, so <see cref="Memory.Report"/> counts only buffers that are alive.
/// </summary>
internal sealed class PooledStorage(float[] data) : Storage(data)
{
    ~PooledStorage() => BufferPool.Collected(Data);
}
