using AutoGrad.Graph;

namespace AutoGrad;

// torch.autograd.functional.jacobian and hessian: whole matrices, one backward per output element (reverse mode,
// PyTorch's default strategy). Shapes as PyTorch's: the block for output j and input i is output j's shape followed by
// input i's shape.
public static partial class Autograd
{
    /// <summary>
    /// <c>torch.autograd.functional.jacobian</c> of a function of one variable: J[o..., i...] = d output[o...] / d input[i...],
    /// of shape output shape ++ input shape (a function from [a] to [b] gives [b, a]).
    /// </summary>
    /// <param name="function">The function; it must compute its output from its argument with recorded ops.</param>
    /// <param name="input">Where to evaluate; a copy that requires grad is differentiated, the variable itself only with <paramref name="createGraph"/>.</param>
    /// <param name="createGraph">Keep the Jacobian on the graph, so it can be differentiated again.</param>
    /// <param name="strict">Throw when the output does not depend on the input, instead of returning zeros.</param>
    public static Variable Jacobian(Func<Variable, Variable> function, Variable input, bool createGraph = false, bool strict = false)
    {
        ArgumentNullException.ThrowIfNull(function);
        return Jacobian(xs => [function(xs[0])], [input], createGraph, strict)[0, 0];
    }

    /// <summary>
    /// <c>jacobian</c> of a function of several variables with several outputs: block [j, i] is the Jacobian of output j
    /// in input i, of shape output j's shape ++ input i's shape.
    /// </summary>
    /// <param name="function">The function.</param>
    /// <param name="inputs">Where to evaluate.</param>
    /// <param name="createGraph">Keep the blocks on the graph.</param>
    /// <param name="strict">Throw when an output does not depend on an input, instead of returning a zero block.</param>
    public static Variable[,] Jacobian(Func<Variable[], Variable[]> function, Variable[] inputs, bool createGraph = false, bool strict = false)
    {
        ArgumentNullException.ThrowIfNull(function);
        var xs = PrepareInputs(inputs, createGraph, "Jacobian");
        var outputs = Call(function, xs, strict, "Jacobian");
        return JacobianOf(outputs, xs, createGraph, strict, "Jacobian", (j, i) => $"output {j} of the function is independent of input {i}");
    }

    /// <summary>
    /// <c>torch.autograd.functional.hessian</c> of a function of one variable with a single-element output:
    /// H[i..., k...] = d^2 output / d input[i...] d input[k...], of shape input shape ++ input shape.
    /// </summary>
    /// <param name="function">A function with a single-element output.</param>
    /// <param name="input">Where to evaluate.</param>
    /// <param name="createGraph">Keep the Hessian on the graph (this needs the ops' third derivatives).</param>
    /// <param name="strict">Throw when the output or its gradient does not depend on the input, instead of returning zeros.</param>
    public static Variable Hessian(Func<Variable, Variable> function, Variable input, bool createGraph = false, bool strict = false)
    {
        ArgumentNullException.ThrowIfNull(function);
        return Hessian(xs => function(xs[0]), [input], createGraph, strict)[0, 0];
    }

    /// <summary>
    /// <c>hessian</c> of a scalar function of several variables: block [i, k] holds the second derivatives in inputs i and
    /// k, of shape input i's shape ++ input k's shape. Computed as the Jacobian of the recorded gradient.
    /// </summary>
    /// <param name="function">A function with a single-element output.</param>
    /// <param name="inputs">Where to evaluate.</param>
    /// <param name="createGraph">Keep the blocks on the graph.</param>
    /// <param name="strict">Throw when the output or its gradient does not depend on an input, instead of returning zeros.</param>
    public static Variable[,] Hessian(Func<Variable[], Variable> function, Variable[] inputs, bool createGraph = false, bool strict = false)
    {
        ArgumentNullException.ThrowIfNull(function);
        var xs = PrepareInputs(inputs, createGraph, "Hessian");
        var (_, gradient) = ValueAndGradient(function, xs, strict, "Hessian");
        return JacobianOf(gradient, xs, createGraph, strict, "Hessian", (i, k) => $"the gradient in input {i} is independent of input {k}");
    }

    /// <summary>
    /// The Jacobian blocks of <paramref name="outputs"/> in <paramref name="xs"/>: row by row, each a backward seeded
    /// with a one-hot vector over one output, the rows stacked and shaped as output ++ input.
    /// </summary>
    private static Variable[,] JacobianOf(Variable[] outputs, Variable[] xs, bool createGraph, bool strict, string op, Func<int, int, string> independent)
    {
        var blocks = new Variable[outputs.Length, xs.Length];
        for (int j = 0; j < outputs.Length; j++)
        {
            var outputShape = outputs[j].Value.ShapeArray;
            var rows = new Variable?[xs.Length][];
            for (int i = 0; i < xs.Length; i++)
            {
                rows[i] = new Variable?[outputs[j].Value.Length];
            }
            for (int k = 0; k < outputs[j].Value.Length; k++)
            {
                var oneHot = Tensor.Zeros(outputShape);
                oneHot.AsSpan()[k] = 1f;
                var grads = GradOrNull([outputs[j]], [new Variable(oneHot)], xs, createGraph);
                for (int i = 0; i < xs.Length; i++)
                {
                    rows[i][k] = grads[i] is { } g ? F.Reshape(g, 1, -1) : null;
                }
            }
            for (int i = 0; i < xs.Length; i++)
            {
                int[] shape = [.. outputShape, .. xs[i].Value.ShapeArray];
                if (Array.TrueForAll(rows[i], r => r is null))
                {
                    if (strict)
                    {
                        throw new InvalidOperationException(CallSite.Tag($"Autograd.{op} (strict): {independent(j, i)}."));
                    }
                    blocks[j, i] = new Variable(Tensor.Zeros(shape));
                    continue;
                }
                var full = rows[i].Select(r => r ?? new Variable(Tensor.Zeros(1, xs[i].Value.Length))).ToArray();
                var block = F.Reshape(F.Concat(full), shape);
                blocks[j, i] = createGraph ? block : block.Detach();
            }
        }
        return blocks;
    }
}
