namespace AutoGrad.Optim;

/// <summary>
/// A set of parameters that share a learning rate and weight decay (PyTorch's param_groups entry). Schedulers change
/// <see cref="LearningRate"/> between steps.
/// </summary>
public sealed class ParamGroup
{
    /// <summary>A group; null hyperparameters take the optimizer's defaults.</summary>
    public ParamGroup(IEnumerable<Variable> parameters, float? learningRate = null, float? weightDecay = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Parameters = parameters.ToArray();
        RequestedLearningRate = learningRate;
        RequestedWeightDecay = weightDecay;
    }

    /// <summary>The parameters (leaf variables) this group updates.</summary>
    public IReadOnlyList<Variable> Parameters { get; }

    /// <summary>The current learning rate.</summary>
    public float LearningRate { get; set; }

    /// <summary>The weight decay (L2 penalty, or decoupled decay in AdamW).</summary>
    public float WeightDecay { get; set; }

    /// <summary>The learning rate the schedule starts from (PyTorch's initial_lr).</summary>
    public float InitialLearningRate { get; internal set; }

    internal float? RequestedLearningRate { get; }

    internal float? RequestedWeightDecay { get; }
}
