using System.Numerics.Tensors;

namespace AutoGrad.Optim;

/// <summary>Gradient clipping (torch.nn.utils.clip_grad_norm_).</summary>
public static class GradClip
{
    /// <summary>
    /// Scales all gradients together so that their joint L2 norm is at most <paramref name="maxNorm"/>
    /// (factor maxNorm / (norm + 1e-6) when below 1); returns the norm before clipping. Parameters without a gradient are ignored.
    /// </summary>
    public static float ClipGradNorm(IEnumerable<Variable> parameters, float maxNorm)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(maxNorm > 0f))
        {
            throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "ClipGradNorm: maxNorm must be > 0.");
        }
        var grads = parameters.Select(p => p.Grad).OfType<Tensor>().ToList();
        double sumSquares = 0;
        foreach (var g in grads)
        {
            float norm = TensorPrimitives.Norm(g.AsReadOnlySpan());
            sumSquares += (double)norm * norm;
        }
        float total = (float)Math.Sqrt(sumSquares);
        float coefficient = maxNorm / (total + 1e-6f);
        if (coefficient < 1f)
        {
            foreach (var g in grads)
            {
                TensorPrimitives.Multiply(g.AsReadOnlySpan(), coefficient, g.AsSpan());
            }
        }
        return total;
    }
}
