using System.Numerics.Tensors;

namespace AutoGrad.Kernels;

/// <summary>Row-wise loss kernels over [rows, classes] log-probabilities and elementwise binary losses.</summary>
internal static class Losses
{
    /// <summary>
    /// loss[i] = -(1 - s) logp[i, t_i] - (s / C) sum_c logp[i, c], or 0 where t_i == ignoreIndex (s = label smoothing).
    /// </summary>
    public static void ClassNll(ReadOnlySpan<float> logProbs, int classes, ReadOnlySpan<int> targets, int ignoreIndex, float smoothing, Span<float> losses)
    {
        for (int i = 0; i < targets.Length; i++)
        {
            if (targets[i] == ignoreIndex)
            {
                losses[i] = 0;
                continue;
            }
            var row = logProbs.Slice(i * classes, classes);
            float loss = -(1f - smoothing) * row[targets[i]];
            if (smoothing != 0)
            {
                loss -= smoothing / classes * TensorPrimitives.Sum(row);
            }
            losses[i] = loss;
        }
    }

    /// <summary>
    /// The gradient of <see cref="ClassNll"/> with respect to the logits of a log-softmax: for row i with weight
    /// g_i, g_i * (softmax - (1 - s) onehot(t_i) - s / C). Rows with the ignore index get 0.
    /// </summary>
    public static void ClassNllLogitsBackward(ReadOnlySpan<float> logProbs, int classes, ReadOnlySpan<int> targets, int ignoreIndex, float smoothing,
        ReadOnlySpan<float> rowGrad, Span<float> destination)
    {
        for (int i = 0; i < targets.Length; i++)
        {
            var d = destination.Slice(i * classes, classes);
            if (targets[i] == ignoreIndex)
            {
                d.Clear();
                continue;
            }
            float g = rowGrad[i];
            TensorPrimitives.Exp(logProbs.Slice(i * classes, classes), d);
            TensorPrimitives.Multiply(d, g, d);
            if (smoothing != 0)
            {
                TensorPrimitives.Subtract(d, g * smoothing / classes, d);
            }
            d[targets[i]] -= g * (1f - smoothing);
        }
    }

    /// <summary>The gradient of <see cref="ClassNll"/> (no smoothing) with respect to the log-probabilities: -g_i at the target.</summary>
    public static void ClassNllBackward(int classes, ReadOnlySpan<int> targets, int ignoreIndex, ReadOnlySpan<float> rowGrad, Span<float> destination)
    {
        destination.Clear();
        for (int i = 0; i < targets.Length; i++)
        {
            if (targets[i] != ignoreIndex)
            {
                destination[i * classes + targets[i]] = -rowGrad[i];
            }
        }
    }

    /// <summary>
    /// The class targets as a [rows, classes] matrix: <paramref name="hit"/> at (i, t_i), <paramref name="rest"/>
    /// elsewhere in the row, a row of zeros where t_i == ignoreIndex (the constants of a differentiable backward).
    /// </summary>
    public static void ClassTargetMatrix(ReadOnlySpan<int> targets, int classes, int ignoreIndex, float hit, float rest, Span<float> destination)
    {
        for (int i = 0; i < targets.Length; i++)
        {
            var row = destination.Slice(i * classes, classes);
            if (targets[i] == ignoreIndex)
            {
                row.Clear();
                continue;
            }
            row.Fill(rest);
            row[targets[i]] = hit;
        }
    }

    /// <summary>1 for each row whose target is a class, 0 where it is <paramref name="ignoreIndex"/>.</summary>
    public static void KeptRows(ReadOnlySpan<int> targets, int ignoreIndex, Span<float> destination)
    {
        for (int i = 0; i < targets.Length; i++)
        {
            destination[i] = targets[i] == ignoreIndex ? 0f : 1f;
        }
    }

    /// <summary>-(y log p + (1 - y) log(1 - p)) with each log clamped at -100, as PyTorch.</summary>
    public static void BinaryCrossEntropy(ReadOnlySpan<float> p, ReadOnlySpan<float> y, Span<float> destination)
    {
        for (int i = 0; i < p.Length; i++)
        {
            float logP = MathF.Max(MathF.Log(p[i]), -100f);
            float log1mP = MathF.Max(MathF.Log(1f - p[i]), -100f);
            destination[i] = (y[i] - 1f) * log1mP - y[i] * logP;
        }
    }

    /// <summary>d/dp: grad * (p - y) / max(p (1 - p), 1e-12), PyTorch's formula.</summary>
    public static void BinaryCrossEntropyBackward(ReadOnlySpan<float> grad, ReadOnlySpan<float> p, ReadOnlySpan<float> y, Span<float> destination)
    {
        for (int i = 0; i < p.Length; i++)
        {
            destination[i] = grad[i] * (p[i] - y[i]) / MathF.Max((1f - p[i]) * p[i], 1e-12f);
        }
    }

    /// <summary>d/dy: grad * (log(1 - p) - log p), logs clamped at -100.</summary>
    public static void BinaryCrossEntropyTargetBackward(ReadOnlySpan<float> grad, ReadOnlySpan<float> p, Span<float> destination)
    {
        for (int i = 0; i < p.Length; i++)
        {
            destination[i] = grad[i] * (MathF.Max(MathF.Log(1f - p[i]), -100f) - MathF.Max(MathF.Log(p[i]), -100f));
        }
    }

    /// <summary>(1 - y) x + m + log(e^-m + e^(-x - m)) with m = max(-x, 0): stable for any |x| (PyTorch's form).</summary>
    public static void BinaryCrossEntropyWithLogits(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> destination)
    {
        for (int i = 0; i < x.Length; i++)
        {
            float m = MathF.Max(-x[i], 0f);
            destination[i] = (1f - y[i]) * x[i] + m + MathF.Log(MathF.Exp(-m) + MathF.Exp(-x[i] - m));
        }
    }

    /// <summary>d/dx: grad * (sigmoid(x) - y).</summary>
    public static void BinaryCrossEntropyWithLogitsBackward(ReadOnlySpan<float> grad, ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> destination)
    {
        TensorPrimitives.Sigmoid(x, destination);
        TensorPrimitives.Subtract(destination, y, destination);
        TensorPrimitives.Multiply(destination, grad, destination);
    }
}
