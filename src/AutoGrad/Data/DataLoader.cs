namespace AutoGrad.Data;

/// <summary>
/// One mini-batch: features [B, ...] and B labels. The features are valid until the loader produces the next batch (it
/// reuses their buffer): reading them afterwards throws, so keep a batch with <c>batch.Features.Clone()</c>. The labels
/// are the batch's own.
/// </summary>
public sealed class Batch
{
    internal Batch(Tensor features, int[] labels)
    {
        Features = features;
        Labels = labels;
    }

    /// <summary>The features, [B, ...sample shape].</summary>
    public Tensor Features { get; }

    /// <summary>The class labels.</summary>
    public int[] Labels { get; }

    /// <summary>The number of samples in the batch.</summary>
    public int Count => Labels.Length;
}

/// <summary>
/// Iterates a dataset in mini-batches (PyTorch's DataLoader): optional shuffling from a seeded generator (a new order
/// every epoch, reproducible from the seed) and an optional dropped last partial batch. The feature buffers are reused
/// from one batch to the next, so an epoch allocates no large array; the previous batch's features are retired when the
/// next batch is made (they throw when read, never show the next batch's values), so clone a batch's tensor to keep it.
/// </summary>
public sealed class DataLoader : IEnumerable<Batch>
{
    private readonly int[] _order;
    private Tensor? _full, _partial; // the features of the last full and partial batch, over the reused buffers

    /// <summary>Creates the loader; with <paramref name="shuffle"/> the order comes from <paramref name="generator"/> (or a new one from <paramref name="seed"/>).</summary>
    public DataLoader(Dataset dataset, int batchSize, bool shuffle = false, bool dropLast = false, long seed = 0, Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (batchSize <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "DataLoader: batch size must be positive.");
        }
        Dataset = dataset;
        BatchSize = batchSize;
        Shuffle = shuffle;
        DropLast = dropLast;
        Generator = generator ?? new Generator(seed);
        _order = Enumerable.Range(0, dataset.Count).ToArray();
    }

    /// <summary>The data set.</summary>
    public Dataset Dataset { get; }

    /// <summary>Samples per batch.</summary>
    public int BatchSize { get; }

    /// <summary>Whether each epoch visits the samples in a new random order.</summary>
    public bool Shuffle { get; }

    /// <summary>Whether a last batch smaller than <see cref="BatchSize"/> is skipped.</summary>
    public bool DropLast { get; }

    /// <summary>The generator that orders the epochs (its state is part of a training checkpoint).</summary>
    public Generator Generator { get; }

    /// <summary>The number of batches per epoch.</summary>
    public int BatchCount => DropLast ? Dataset.Count / BatchSize : (Dataset.Count + BatchSize - 1) / BatchSize;

    /// <summary>Starts an epoch: shuffles (when enabled) and yields the batches.</summary>
    public IEnumerator<Batch> GetEnumerator()
    {
        if (Shuffle)
        {
            for (int i = 0; i < _order.Length; i++)
            {
                _order[i] = i;
            }
            Generator.Shuffle(_order.AsSpan());
        }
        int sampleLength = Dataset.SampleLength;
        for (int b = 0; b < BatchCount; b++)
        {
            int start = b * BatchSize;
            int count = Math.Min(BatchSize, Dataset.Count - start);
            var features = count == BatchSize ? _full = NextFeatures(_full, count) : _partial = NextFeatures(_partial, count);
            var labels = new int[count];
            var target = features.AsSpan();
            for (int i = 0; i < count; i++)
            {
                int index = _order[start + i];
                Dataset.CopyFeatures(index, target.Slice(i * sampleLength, sampleLength));
                labels[i] = Dataset.Label(index);
            }
            yield return new Batch(features, labels);
        }
    }

    /// <summary>
    /// A features tensor of <paramref name="count"/> samples over the buffer of <paramref name="previous"/> (a new one
    /// the first time or when the count changes); the previous tensor is retired, so whoever kept it gets an exception.
    /// </summary>
    private Tensor NextFeatures(Tensor? previous, int count)
    {
        int[] shape = [count, .. Dataset.SampleShape];
        if (previous is null || previous.Shape[0] != count)
        {
            return Tensor.Zeros(shape);
        }
        var buffer = previous.Storage.Data;
        previous.Storage.TryRecycle();
        return new Tensor(buffer, shape);
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
