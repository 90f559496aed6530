namespace AutoGrad.Data;

/// <summary>
/// A classification data set: <see cref="Count"/> samples, each a float feature block of <see cref="SampleShape"/>
/// and an integer class label. Implementations copy into caller-provided buffers so loaders allocate nothing per sample.
/// </summary>
public abstract class Dataset
{
    /// <summary>The number of samples.</summary>
    public abstract int Count { get; }

    /// <summary>The shape of one sample's features (e.g. [1, 28, 28] or [4]).</summary>
    public abstract IReadOnlyList<int> SampleShape { get; }

    /// <summary>The number of floats per sample.</summary>
    public int SampleLength => SampleShape.Aggregate(1, (a, d) => a * d);

    /// <summary>Copies sample <paramref name="index"/>'s features into <paramref name="destination"/> (SampleLength floats).</summary>
    public abstract void CopyFeatures(int index, Span<float> destination);

    /// <summary>The class label of sample <paramref name="index"/>.</summary>
    public abstract int Label(int index);

    /// <summary>Throws a clear error unless 0 &lt;= index &lt; Count.</summary>
    protected void CheckIndex(int index)
    {
        if ((uint)index >= (uint)Count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"{GetType().Name}: index out of range for {Count} samples.");
        }
    }
}

/// <summary>Samples held in memory: features [N, ...] and N labels (PyTorch's TensorDataset).</summary>
public sealed class TensorDataset : Dataset
{
    private readonly int[] _sampleShape;
    private readonly int _sampleLength;

    /// <summary>Wraps <paramref name="features"/> [N, ...] (shared, not copied) and <paramref name="labels"/> (N entries).</summary>
    public TensorDataset(Tensor features, int[] labels)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        if (features.Rank < 1 || features.Shape[0] != labels.Length)
        {
            throw new ArgumentException(
                $"TensorDataset: features {Shapes.Format(features.Shape)} must have one row per label; got {labels.Length} labels.");
        }
        Features = features;
        Labels = labels;
        _sampleShape = features.Shape[1..].ToArray();
        _sampleLength = Shapes.Numel(_sampleShape);
    }

    /// <summary>All features, [N, ...].</summary>
    public Tensor Features { get; }

    /// <summary>All labels.</summary>
    public int[] Labels { get; }

    /// <inheritdoc/>
    public override int Count => Labels.Length;

    /// <inheritdoc/>
    public override IReadOnlyList<int> SampleShape => _sampleShape;

    /// <inheritdoc/>
    public override void CopyFeatures(int index, Span<float> destination)
    {
        CheckIndex(index);
        Features.AsReadOnlySpan().Slice(index * _sampleLength, _sampleLength).CopyTo(destination);
    }

    /// <inheritdoc/>
    public override int Label(int index)
    {
        CheckIndex(index);
        return Labels[index];
    }

    /// <summary>
    /// Throws unless every feature is finite, and returns this dataset. Training does not check its inputs (as in
    /// PyTorch, and because a check in every step costs time): a NaN or infinity in the data silently trains the
    /// weights to NaN. Call this once after loading data from a source that can hold such values (NPY, safetensors,
    /// IDX float files, your own arrays), or train under <see cref="AnomalyMode"/> to find the first op that makes one.
    /// </summary>
    /// <exception cref="InvalidDataException">A feature is NaN or infinite; the message names the sample and the feature.</exception>
    public TensorDataset ThrowIfNotFinite()
    {
        var values = Features.AsReadOnlySpan();
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                int sample = _sampleLength == 0 ? 0 : i / _sampleLength;
                throw new InvalidDataException(
                    $"TensorDataset: sample {sample} has {values[i]} at feature {i - sample * _sampleLength} (of {_sampleLength}); " +
                    "NaN and infinities in the data train the weights to NaN.");
            }
        }
        return this;
    }

    /// <summary>A new in-memory dataset holding the samples at <paramref name="indices"/>, in that order.</summary>
    public TensorDataset Select(IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        var features = Tensor.Zeros([indices.Count, .. _sampleShape]);
        var labels = new int[indices.Count];
        for (int i = 0; i < indices.Count; i++)
        {
            CopyFeatures(indices[i], features.AsSpan().Slice(i * _sampleLength, _sampleLength));
            labels[i] = Labels[indices[i]];
        }
        return new TensorDataset(features, labels);
    }
}

/// <summary>A view of some samples of another dataset (PyTorch's Subset).</summary>
public sealed class Subset : Dataset
{
    private readonly Dataset _source;
    private readonly int[] _indices;

    /// <summary>The samples of <paramref name="source"/> at <paramref name="indices"/>, in that order.</summary>
    public Subset(Dataset source, IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(indices);
        foreach (int i in indices)
        {
            if ((uint)i >= (uint)source.Count)
            {
                throw new ArgumentOutOfRangeException(nameof(indices), i, $"Subset: index out of range for a dataset of {source.Count} samples.");
            }
        }
        _source = source;
        _indices = [.. indices];
    }

    /// <summary>The indices into the source dataset.</summary>
    public IReadOnlyList<int> Indices => _indices;

    /// <inheritdoc/>
    public override int Count => _indices.Length;

    /// <inheritdoc/>
    public override IReadOnlyList<int> SampleShape => _source.SampleShape;

    /// <inheritdoc/>
    public override void CopyFeatures(int index, Span<float> destination)
    {
        CheckIndex(index);
        _source.CopyFeatures(_indices[index], destination);
    }

    /// <inheritdoc/>
    public override int Label(int index)
    {
        CheckIndex(index);
        return _source.Label(_indices[index]);
    }
}
