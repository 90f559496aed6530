using System.Numerics.Tensors;
using AutoGrad.Data;
using AutoGrad.Nn;

namespace AutoGrad.Metrics;

/// <summary>Classification metrics over logits or predicted classes.</summary>
public static class Classification
{
    /// <summary>The arg-max class of each row of <paramref name="scores"/> [N, classes] (the first on ties).</summary>
    public static int[] ArgMax(Tensor scores)
    {
        ArgumentNullException.ThrowIfNull(scores);
        if (scores.Rank != 2 || scores.Shape[1] == 0)
        {
            throw new ArgumentException($"ArgMax: scores must be [N, classes] with classes > 0; got {Shapes.Format(scores.Shape)}.");
        }
        int n = scores.Shape[0], classes = scores.Shape[1];
        var result = new int[n];
        var s = scores.AsReadOnlySpan();
        for (int i = 0; i < n; i++)
        {
            result[i] = TensorPrimitives.IndexOfMax(s.Slice(i * classes, classes));
        }
        return result;
    }

    /// <summary>The fraction of <paramref name="predicted"/> equal to <paramref name="labels"/>.</summary>
    public static float Accuracy(ReadOnlySpan<int> predicted, ReadOnlySpan<int> labels)
    {
        if (predicted.Length != labels.Length)
        {
            throw new ArgumentException($"Accuracy: {predicted.Length} predictions but {labels.Length} labels.");
        }
        return predicted.Length == 0 ? 0f : (float)CountCorrect(predicted, labels) / predicted.Length;
    }

    /// <summary>The fraction of rows of <paramref name="scores"/> whose arg-max equals the label.</summary>
    public static float Accuracy(Tensor scores, ReadOnlySpan<int> labels) => Accuracy(ArgMax(scores), labels);

    /// <summary>The number of positions where the two agree.</summary>
    public static int CountCorrect(ReadOnlySpan<int> predicted, ReadOnlySpan<int> labels)
    {
        int correct = 0;
        for (int i = 0; i < predicted.Length; i++)
        {
            correct += predicted[i] == labels[i] ? 1 : 0;
        }
        return correct;
    }

    /// <summary>
    /// The model's outputs for every sample of <paramref name="loader"/> (in loader order), [N, outputs], computed
    /// batch by batch in evaluation mode without recording a graph. The model's training mode is restored.
    /// </summary>
    public static Tensor Predict(Module model, DataLoader loader)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(loader);
        using var evaluation = model.EvalMode();
        using var noGrad = GradMode.NoGrad();
        var rows = new List<float>();
        int width = 0;
        foreach (var batch in loader)
        {
            var output = model.Call(batch.Features).Value;
            width = output.Length / Math.Max(1, batch.Count);
            rows.AddRange(output.AsReadOnlySpan());
        }
        return Tensor.FromArray([.. rows], rows.Count / Math.Max(1, width), width);
    }

    /// <summary>
    /// Runs <paramref name="model"/> over <paramref name="loader"/> in evaluation mode without recording a graph and
    /// returns the mean cross-entropy, the accuracy and the confusion matrix. The model's training mode is restored.
    /// </summary>
    /// <exception cref="ArgumentException">The loader yields no samples: an empty set has no loss or accuracy.</exception>
    public static EvaluationResult Evaluate(Module model, DataLoader loader, int classes)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(loader);
        using var evaluation = model.EvalMode();
        using var noGrad = GradMode.NoGrad();
        var confusion = new ConfusionMatrix(classes);
        double lossSum = 0;
        int count = 0;
        foreach (var batch in loader)
        {
            var logits = model.Call(batch.Features);
            lossSum += F.CrossEntropy(logits, batch.Labels, Reduction.Sum).Item();
            confusion.Add(ArgMax(logits.Value), batch.Labels);
            count += batch.Count;
        }
        if (count == 0)
        {
            throw new ArgumentException("Evaluate: the loader yielded no samples; an empty data set has no loss or accuracy.", nameof(loader));
        }
        return new EvaluationResult((float)(lossSum / count), confusion.Accuracy, confusion);
    }
}

/// <summary>What <see cref="Classification.Evaluate"/> measured.</summary>
public sealed record EvaluationResult(float Loss, float Accuracy, ConfusionMatrix Confusion);

/// <summary>Counts of (true class, predicted class) pairs.</summary>
public sealed class ConfusionMatrix
{
    private readonly long[,] _counts;

    /// <summary>An empty matrix for <paramref name="classes"/> classes.</summary>
    public ConfusionMatrix(int classes)
    {
        if (classes <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(classes), classes, "ConfusionMatrix: the number of classes must be positive.");
        }
        Classes = classes;
        _counts = new long[classes, classes];
    }

    /// <summary>The number of classes.</summary>
    public int Classes { get; }

    /// <summary>How many samples of class <paramref name="actual"/> were predicted as <paramref name="predicted"/>.</summary>
    public long this[int actual, int predicted] => _counts[actual, predicted];

    /// <summary>The number of samples counted.</summary>
    public long Total { get; private set; }

    /// <summary>The fraction on the diagonal.</summary>
    public float Accuracy => Total == 0 ? 0f : (float)Enumerable.Range(0, Classes).Sum(c => _counts[c, c]) / Total;

    /// <summary>Counts each (label, prediction) pair.</summary>
    public void Add(ReadOnlySpan<int> predicted, ReadOnlySpan<int> labels)
    {
        if (predicted.Length != labels.Length)
        {
            throw new ArgumentException($"ConfusionMatrix.Add: {predicted.Length} predictions but {labels.Length} labels.");
        }
        for (int i = 0; i < predicted.Length; i++)
        {
            if ((uint)predicted[i] >= (uint)Classes || (uint)labels[i] >= (uint)Classes)
            {
                throw new ArgumentOutOfRangeException(nameof(labels),
                    $"ConfusionMatrix.Add: pair {i} (label {labels[i]}, prediction {predicted[i]}) is outside 0..{Classes - 1}.");
            }
            _counts[labels[i], predicted[i]]++;
        }
        Total += predicted.Length;
    }

    /// <summary>The matrix as text: rows are true classes, columns predictions.</summary>
    public override string ToString()
    {
        var sb = new System.Text.StringBuilder();
        for (int a = 0; a < Classes; a++)
        {
            for (int p = 0; p < Classes; p++)
            {
                sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"{_counts[a, p],6}");
            }
            sb.AppendLine();
        }
        return sb.ToString();
    }
}
