namespace AutoGrad.Onnx.Import;

// BatchNormalization, InstanceNormalization and LayerNormalization.
internal static partial class OnnxOps
{
    private static void AddNormalizations(Dictionary<string, OpHandler> table)
    {
        table["BatchNormalization"] = BatchNormalization;
        table["InstanceNormalization"] = InstanceNormalization;
        table["LayerNormalization"] = LayerNormalization;
    }

    /// <remarks>
    /// The module's mode decides, as for PyTorch's BatchNorm2d (the file's training_mode attribute is not read): in
    /// training mode the batch's statistics normalize and the running ones (buffers when they are initializers) are
    /// updated in place with PyTorch's rule (running = momentum_onnx running + (1 - momentum_onnx) batch, the batch
    /// variance unbiased); in evaluation mode the running statistics normalize.
    /// </remarks>
    private static OnnxValue[] BatchNormalization(NodeContext c)
    {
        var x = c.Real(0);
        Variable scale = c.Real(1), bias = c.Real(2);
        var mean = c.Real(3).Value;
        var variance = c.Real(4).Value;
        if (c.Opset < 9 && c.Int("spatial", 1) == 0)
        {
            throw c.Unsupported("spatial = 0 (per-activation statistics)");
        }
        float eps = c.Float("epsilon", 1e-5f);
        float momentum = c.Float("momentum", 0.9f);
        if (c.Training && !(c.IsBuffer(3) && c.IsBuffer(4)))
        {
            // statistics that are no buffer of the module (a graph input) must not change under the caller
            (mean, variance) = (mean.Clone(), variance.Clone());
        }
        var y = F.BatchNorm(x, mean, variance, scale, bias, training: c.Training, momentum: 1f - momentum, eps: eps);
        // torch's training-mode export names the updated statistics as outputs 1 and 2: in evaluation mode they are unchanged
        return [OnnxValue.Float(y), OnnxValue.Float(new Variable(mean)), OnnxValue.Float(new Variable(variance))];
    }

    private static OnnxValue[] InstanceNormalization(NodeContext c)
    {
        var x = c.Real(0);
        if (x.Rank < 3)
        {
            throw c.Invalid($"input {Spatial.Format(x)} must be [N, C, *spatial]");
        }
        // instance normalization is group normalization with one channel per group
        return One(F.GroupNorm(x, x.Shape[1], c.Real(1), c.Real(2), c.Float("epsilon", 1e-5f)));
    }

    private static OnnxValue[] LayerNormalization(NodeContext c)
    {
        var x = c.Real(0);
        var scale = c.Real(1);
        var bias = c.OptionalReal(2);
        int axis = c.Axis(c.Int("axis", -1), x.Rank);
        float eps = c.Float("epsilon", 1e-5f);
        var normalized = x.Value.ShapeArray[axis..];
        bool fits = scale.Shape.SequenceEqual(normalized) && (bias is null || bias.Shape.SequenceEqual(normalized));
        var y = fits ? F.LayerNorm(x, normalized, scale, bias, eps) : F.LayerNorm(x, normalized, eps: eps) * scale;
        if (!fits && bias is not null)
        {
            y = y + bias;
        }
        if (!c.WantsOutput(1) && !c.WantsOutput(2))
        {
            return One(y);
        }
        var dims = Enumerable.Range(axis, x.Rank - axis).ToArray();
        var mean = F.Mean(x, dims, keepDim: true);
        var centered = x - mean;
        var invStdDev = 1f / F.Sqrt(F.Mean(centered * centered, dims, keepDim: true) + eps);
        return [OnnxValue.Float(y), OnnxValue.Float(mean), OnnxValue.Float(invStdDev)];
    }
}
