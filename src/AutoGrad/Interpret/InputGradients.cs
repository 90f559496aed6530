using AutoGrad.Nn;

namespace AutoGrad.Interpret;

/// <summary>Which class score an input gradient is taken of.</summary>
public enum ClassScore
{
    /// <summary>The raw logit of the class (the usual choice for saliency and class visualization).</summary>
    Logit,

    /// <summary>The log-softmax of the class: raising it also pushes the other classes down.</summary>
    LogProbability,
}

/// <summary>
/// Gradients of a classifier's class scores with respect to its input: the machinery behind saliency maps and class
/// visualization. The model runs in evaluation mode (restored afterwards); its parameters receive no gradient.
/// </summary>
public static class InputGradients
{
    /// <summary>
    /// The gradient of sum_i logits[i, classes[i]] with respect to <paramref name="input"/> [N, ...]: row i holds
    /// d logit[i, classes[i]] / d input[i] (or of the log-probability with <see cref="ClassScore.LogProbability"/>).
    /// Also returns the logits.
    /// </summary>
    public static (Tensor Gradient, Tensor Logits) OfClassScores(Module model, Tensor input, ReadOnlySpan<int> classes,
        ClassScore score = ClassScore.Logit)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank < 1 || input.Shape[0] != classes.Length)
        {
            throw new ArgumentException($"InputGradients: input {Shapes.Format(input.Shape)} needs one class per sample; got {classes.Length} classes.");
        }
        using var evaluation = model.EvalMode();
        var frozen = model.Parameters().Where(p => p.RequiresGrad).ToList();
        frozen.ForEach(p => p.RequiresGrad = false);
        try
        {
            using var _ = GradMode.EnableGrad();
            var x = new Variable(input, requiresGrad: true);
            var logits = model.Call(x);
            if (logits.Rank != 2 || logits.Shape[0] != classes.Length)
            {
                throw new ArgumentException($"InputGradients: the model must output [N, classes] logits; got {Shapes.Format(logits.Shape)}.");
            }
            int n = logits.Shape[0], k = logits.Shape[1];
            var selector = Tensor.Zeros(n, k);
            for (int i = 0; i < n; i++)
            {
                if ((uint)classes[i] >= (uint)k)
                {
                    throw new ArgumentOutOfRangeException(nameof(classes), classes[i], $"InputGradients: class out of range for {k} logits.");
                }
                selector[i, classes[i]] = 1f;
            }
            var scores = score == ClassScore.LogProbability ? F.LogSoftmax(logits, 1) : logits;
            scores.Backward(selector);
            return (x.Grad ?? Tensor.Zeros(input.Shape.ToArray()), logits.Value);
        }
        finally
        {
            frozen.ForEach(p => p.RequiresGrad = true);
        }
    }

    /// <summary>
    /// Saliency maps (Simonyan et al., 2014): for images [N, C, H, W], the largest absolute input gradient of the
    /// class score over the channels, [N, H, W].
    /// </summary>
    public static Tensor Saliency(Module model, Tensor images, ReadOnlySpan<int> classes)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Rank != 4)
        {
            throw new ArgumentException($"Saliency: images must be [N, C, H, W]; got {Shapes.Format(images.Shape)}.");
        }
        var (gradient, _) = OfClassScores(model, images, classes);
        int n = images.Shape[0], c = images.Shape[1], plane = images.Shape[2] * images.Shape[3];
        var map = Tensor.Zeros(n, images.Shape[2], images.Shape[3]);
        var g = gradient.AsReadOnlySpan();
        var m = map.AsSpan();
        for (int i = 0; i < n; i++)
        {
            for (int ch = 0; ch < c; ch++)
            {
                var source = g.Slice((i * c + ch) * plane, plane);
                var target = m.Slice(i * plane, plane);
                for (int p = 0; p < plane; p++)
                {
                    target[p] = MathF.Max(target[p], MathF.Abs(source[p]));
                }
            }
        }
        return map;
    }
}
