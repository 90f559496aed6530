using AutoGrad.Graph;

namespace AutoGrad;

/// <summary>
/// PyTorch's <c>torch.autograd</c>: gradients returned rather than accumulated (<see cref="Grad(IReadOnlyList{Variable}, IReadOnlyList{Variable}, IReadOnlyList{Variable?}?, bool?, bool, bool)"/>),
/// and with <c>createGraph</c> gradients that are themselves differentiable (gradient penalties, Hessian-vector
/// products, derivatives of a network with respect to its input that are then trained).
/// </summary>
public static partial class Autograd
{
    /// <summary>
    /// The gradients of the sum of <paramref name="outputs"/> (each weighted by its <paramref name="gradOutputs"/>
    /// entry, implicitly one for a single-element output) with respect to each of <paramref name="inputs"/>, as
    /// <c>torch.autograd.grad</c>. Nothing is accumulated into any <see cref="Variable.Grad"/>.
    /// </summary>
    /// <param name="outputs">What to differentiate; each must require grad.</param>
    /// <param name="inputs">What to differentiate with respect to: leaves or intermediate variables that require grad.</param>
    /// <param name="gradOutputs">The gradient of some scalar with respect to each output (null entries, or null, for single-element outputs).</param>
    /// <param name="retainGraph">Keep the graph for another backward; defaults to <paramref name="createGraph"/>.</param>
    /// <param name="createGraph">Record the backward itself, so the returned gradients can be differentiated again.</param>
    /// <param name="allowUnused">Return null for an input the outputs do not depend on, instead of throwing.</param>
    /// <returns>One gradient per input, in order, shaped as the input; null only for an unused input when allowed.</returns>
    public static Variable?[] Grad(IReadOnlyList<Variable> outputs, IReadOnlyList<Variable> inputs, IReadOnlyList<Variable?>? gradOutputs = null,
        bool? retainGraph = null, bool createGraph = false, bool allowUnused = false)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        ArgumentNullException.ThrowIfNull(inputs);
        if (outputs.Count == 0 || inputs.Count == 0)
        {
            throw new ArgumentException(CallSite.Tag($"Autograd.Grad: needs at least one output and one input (got {outputs.Count} and {inputs.Count})."));
        }
        if (gradOutputs is not null && gradOutputs.Count != outputs.Count)
        {
            throw new ArgumentException(CallSite.Tag($"Autograd.Grad: {gradOutputs.Count} output gradients for {outputs.Count} outputs."), nameof(gradOutputs));
        }
        var seeds = new Variable[outputs.Count];
        for (int i = 0; i < outputs.Count; i++)
        {
            ArgumentNullException.ThrowIfNull(outputs[i], $"outputs[{i}]");
            if (!outputs[i].RequiresGrad)
            {
                throw new InvalidOperationException(CallSite.Tag(
                    $"Autograd.Grad: output {i} (shape {Shapes.Format(outputs[i].Shape)}) does not require grad (no input had RequiresGrad = true, or it was computed under GradMode.NoGrad())."));
            }
            // a Variable gradOutput that requires grad makes the result differentiable in it too (the double-vjp trick)
            seeds[i] = gradOutputs?[i] is { } given && given.Value.Shape.SequenceEqual(outputs[i].Shape)
                ? given
                : new Variable(Engine.Seed(outputs[i], gradOutputs?[i]?.Value, $"Autograd.Grad (output {i})"));
        }
        for (int i = 0; i < inputs.Count; i++)
        {
            ArgumentNullException.ThrowIfNull(inputs[i], $"inputs[{i}]");
            if (!inputs[i].RequiresGrad)
            {
                throw new InvalidOperationException(CallSite.Tag(
                    $"Autograd.Grad: input {i} (shape {Shapes.Format(inputs[i].Shape)}) does not require grad; set RequiresGrad = true on it before the forward."));
            }
        }

        var gradients = VariableBackward.Run(outputs, seeds, retainGraph ?? createGraph, createGraph, inputs)!;
        for (int i = 0; i < gradients.Length; i++)
        {
            if (gradients[i] is null && !allowUnused)
            {
                throw new InvalidOperationException(CallSite.Tag(
                    $"Autograd.Grad: input {i} (shape {Shapes.Format(inputs[i].Shape)}{(inputs[i].Name is { } name ? $", '{name}'" : "")}) was not used to compute the outputs; "
                    + "pass allowUnused: true to get null for it."));
            }
        }
        return gradients;
    }

    /// <summary>The gradient of one output with respect to one input (which the output must depend on); see <see cref="Grad(IReadOnlyList{Variable}, IReadOnlyList{Variable}, IReadOnlyList{Variable?}?, bool?, bool, bool)"/>.</summary>
    public static Variable Grad(Variable output, Variable input, Variable? gradOutput = null, bool? retainGraph = null, bool createGraph = false)
        => Grad([output], [input], [gradOutput], retainGraph, createGraph)[0]!;
}
