using AutoGrad.Graph;

namespace AutoGrad;

// The normalizations of the functional API (batch_norm, layer_norm, group_norm), validated here once.
public static partial class F
{
    /// <summary>
    /// Batch normalization of [N, C, *] per channel (PyTorch's batch_norm): y = (x - mean) / sqrt(var + eps) weight + bias.
    /// With <paramref name="training"/> the mean and (biased) variance are the batch's over N and the trailing dims,
    /// and running statistics, when given, are updated in place: running = (1 - momentum) running + momentum batch,
    /// the variance made unbiased first. Otherwise the running statistics are used and must be given.
    /// </summary>
    public static Variable BatchNorm(Variable input, Tensor? runningMean, Tensor? runningVar, Variable? weight = null, Variable? bias = null,
        bool training = false, float momentum = 0.1f, float eps = 1e-5f)
    {
        NotNull(input);
        if (input.Rank < 2)
        {
            throw new ArgumentException(CallSite.Tag($"BatchNorm: input must be [N, C, *]; got shape {Shapes.Format(input.Shape)}."));
        }
        int channels = input.Shape[1];
        CheckPerChannel("BatchNorm", input, channels, "running_mean", runningMean?.ShapeArray);
        CheckPerChannel("BatchNorm", input, channels, "running_var", runningVar?.ShapeArray);
        CheckPerChannel("BatchNorm", input, channels, "weight", weight?.Value.ShapeArray);
        CheckPerChannel("BatchNorm", input, channels, "bias", bias?.Value.ShapeArray);
        CheckEps("BatchNorm", eps);
        if ((runningMean is null) != (runningVar is null))
        {
            throw new ArgumentException(CallSite.Tag("BatchNorm: give both running_mean and running_var, or neither."));
        }
        if (!training && runningMean is null)
        {
            throw new ArgumentException(CallSite.Tag("BatchNorm: evaluation mode (training: false) needs running_mean and running_var."));
        }
        if (training && input.Value.Length / Math.Max(channels, 1) <= 1)
        {
            throw new ArgumentException(CallSite.Tag(
                $"BatchNorm: expected more than 1 value per channel when training; got input {Shapes.Format(input.Shape)}."));
        }
        return Ops.BatchNormFunction.Apply(input, runningMean, runningVar, weight, bias, training, momentum, eps);
    }

    /// <summary>
    /// Layer normalization over the trailing dims given by <paramref name="normalizedShape"/> (PyTorch's layer_norm):
    /// each row's mean and biased variance; weight and bias, when given, have shape normalizedShape.
    /// </summary>
    public static Variable LayerNorm(Variable input, int[] normalizedShape, Variable? weight = null, Variable? bias = null, float eps = 1e-5f)
    {
        NotNull(input);
        ArgumentNullException.ThrowIfNull(normalizedShape);
        int axis = input.Rank - normalizedShape.Length;
        if (normalizedShape.Length == 0 || axis < 0 || !input.Shape[axis..].SequenceEqual(normalizedShape))
        {
            throw new ArgumentException(CallSite.Tag(
                $"LayerNorm: input {Shapes.Format(input.Shape)} must end in normalized_shape {Shapes.Format(normalizedShape)}."));
        }
        foreach (var (name, shape) in new[] { ("weight", weight?.Value.ShapeArray), ("bias", bias?.Value.ShapeArray) })
        {
            if (shape is not null && !shape.AsSpan().SequenceEqual(normalizedShape))
            {
                throw new ArgumentException(CallSite.Tag(
                    $"LayerNorm: {name} must have normalized_shape {Shapes.Format(normalizedShape)}; got {Shapes.Format(shape)}."));
            }
        }
        CheckEps("LayerNorm", eps);
        return Ops.LayerNormFunction.Apply(input, axis, weight, bias, eps);
    }

    /// <summary>
    /// Group normalization of [N, C, *] (PyTorch's group_norm): the C channels split into <paramref name="numGroups"/>
    /// groups, each sample's group normalized by its mean and biased variance; weight and bias are per channel [C].
    /// </summary>
    public static Variable GroupNorm(Variable input, int numGroups, Variable? weight = null, Variable? bias = null, float eps = 1e-5f)
    {
        NotNull(input);
        if (input.Rank < 2)
        {
            throw new ArgumentException(CallSite.Tag($"GroupNorm: input must be [N, C, *]; got shape {Shapes.Format(input.Shape)}."));
        }
        int channels = input.Shape[1];
        if (numGroups <= 0 || channels % numGroups != 0)
        {
            throw new ArgumentException(CallSite.Tag(
                $"GroupNorm: the {channels} channels of input {Shapes.Format(input.Shape)} must split evenly into num_groups = {numGroups} groups."));
        }
        CheckPerChannel("GroupNorm", input, channels, "weight", weight?.Value.ShapeArray);
        CheckPerChannel("GroupNorm", input, channels, "bias", bias?.Value.ShapeArray);
        CheckEps("GroupNorm", eps);
        return Ops.GroupNormFunction.Apply(input, numGroups, weight, bias, eps);
    }

    private static void CheckPerChannel(string op, Variable input, int channels, string name, int[]? shape)
    {
        if (shape is not null && (shape.Length != 1 || shape[0] != channels))
        {
            throw new ArgumentException(CallSite.Tag(
                $"{op}: {name} must be [{channels}] for the {channels} channels of input {Shapes.Format(input.Shape)} (dim 1); got {Shapes.Format(shape)}."));
        }
    }

    private static void CheckEps(string op, float eps)
    {
        if (!(eps >= 0f) || float.IsInfinity(eps))
        {
            throw new ArgumentOutOfRangeException(nameof(eps), eps, CallSite.Tag($"{op}: eps must be finite and non-negative."));
        }
    }
}
