using System.Numerics.Tensors;

namespace AutoGrad.Data;

/// <summary>Preprocessing of feature tensors, in place, returning the same tensor for chaining.</summary>
public static class Transforms
{
    /// <summary>Divides by 255 so byte pixels land in [0, 1] (ToTensor in torchvision).</summary>
    public static Tensor ScaleToUnit(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        TensorPrimitives.Divide(x.AsReadOnlySpan(), 255f, x.AsSpan());
        return x;
    }

    /// <summary>
    /// (x - mean[c]) / std[c] per channel c of dim 1 of x [N, C, ...] (torchvision's Normalize); one mean and std
    /// apply to every channel when a single value is given.
    /// </summary>
    public static Tensor Normalize(Tensor x, float[] mean, float[] std)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        int channels = x.Rank >= 2 ? x.Shape[1] : 1;
        if (mean.Length != std.Length || (mean.Length != 1 && mean.Length != channels))
        {
            throw new ArgumentException(
                $"Normalize: got {mean.Length} means and {std.Length} stds for {Shapes.Format(x.Shape)}; give 1 or {channels} of each.");
        }
        if (std.Any(s => !(s > 0f)))
        {
            throw new ArgumentException($"Normalize: every std must be > 0; got [{string.Join(", ", std)}].");
        }
        int inner = x.Rank >= 2 ? x.Length / Math.Max(1, x.Shape[0] * channels) : x.Length;
        var span = x.AsSpan();
        for (int block = 0; block * inner < span.Length; block++)
        {
            int c = mean.Length == 1 ? 0 : block % channels;
            var part = span.Slice(block * inner, inner);
            TensorPrimitives.Subtract(part, mean[c], part);
            TensorPrimitives.Multiply(part, 1f / std[c], part);
        }
        return x;
    }
}

/// <summary>
/// Per-feature standardization fitted on training data (scikit-learn's StandardScaler): (x - mean) / std over the
/// sample dim 0; features with zero spread are only centered.
/// </summary>
public sealed class Standardizer
{
    private Standardizer(float[] mean, float[] std)
    {
        Mean = mean;
        Std = std;
    }

    /// <summary>The per-feature means of the training data.</summary>
    public float[] Mean { get; }

    /// <summary>The per-feature (population) standard deviations; 1 where the feature is constant.</summary>
    public float[] Std { get; }

    /// <summary>Computes the statistics of <paramref name="train"/> [N, ...] per feature.</summary>
    public static Standardizer Fit(Tensor train)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (train.Rank < 1 || train.Shape[0] == 0)
        {
            throw new ArgumentException($"Standardizer.Fit: needs at least one sample; got shape {Shapes.Format(train.Shape)}.");
        }
        int n = train.Shape[0], features = train.Length / n;
        var sum = new double[features];
        var squares = new double[features];
        var x = train.AsReadOnlySpan();
        for (int i = 0; i < n; i++)
        {
            for (int f = 0; f < features; f++)
            {
                double v = x[i * features + f];
                sum[f] += v;
                squares[f] += v * v;
            }
        }
        var mean = new float[features];
        var std = new float[features];
        for (int f = 0; f < features; f++)
        {
            double m = sum[f] / n;
            double variance = Math.Max(0, squares[f] / n - m * m);
            mean[f] = (float)m;
            std[f] = variance > 1e-12 ? (float)Math.Sqrt(variance) : 1f;
        }
        return new Standardizer(mean, std);
    }

    /// <summary>Standardizes <paramref name="x"/> [M, ...] in place with the fitted statistics; returns it.</summary>
    public Tensor Apply(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        int features = Mean.Length;
        if (x.Rank < 1 || (x.Shape[0] > 0 && x.Length / x.Shape[0] != features))
        {
            throw new ArgumentException($"Standardizer.Apply: fitted on {features} features per sample; got shape {Shapes.Format(x.Shape)}.");
        }
        var span = x.AsSpan();
        for (int start = 0; start < span.Length; start += features)
        {
            var row = span.Slice(start, features);
            TensorPrimitives.Subtract(row, Mean, row);
            TensorPrimitives.Divide(row, Std, row);
        }
        return x;
    }
}
