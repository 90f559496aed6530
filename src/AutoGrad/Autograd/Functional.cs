using AutoGrad.Graph;

namespace AutoGrad;

// PyTorch's torch.autograd.functional: vector-Jacobian, Jacobian-vector and Hessian-vector products of a function
// given as a delegate. Jacobian and Hessian matrices are in FunctionalMatrices.cs; the shared plumbing (fresh inputs,
// zeros for unused inputs, strict mode) is at the end of this file.
public static partial class Autograd
{
    /// <summary>
    /// <c>torch.autograd.functional.vjp</c>: the output of <paramref name="function"/> at <paramref name="input"/> and
    /// the product v^T J of <paramref name="v"/> with its Jacobian (shaped as the input).
    /// </summary>
    /// <param name="function">The function; it must compute its output from its argument with recorded ops.</param>
    /// <param name="input">Where to evaluate; a copy that requires grad is differentiated, the variable itself only with <paramref name="createGraph"/>.</param>
    /// <param name="v">Shaped as the output; may be null only for a single-element output (then one).</param>
    /// <param name="createGraph">Keep the output and the product on the graph, so they can be differentiated again (also in <paramref name="v"/>).</param>
    /// <param name="strict">Throw when the output does not depend on the input, instead of returning zeros.</param>
    public static (Variable Output, Variable Vjp) Vjp(Func<Variable, Variable> function, Variable input, Variable? v = null,
        bool createGraph = false, bool strict = false)
    {
        ArgumentNullException.ThrowIfNull(function);
        var (outputs, vjps) = Vjp(xs => [function(xs[0])], [input], v is null ? null : [v], createGraph, strict);
        return (outputs[0], vjps[0]);
    }

    /// <summary>
    /// <c>vjp</c> of a function of several variables with several outputs: the outputs, and for each input the sum over
    /// outputs of v_j^T J_ji.
    /// </summary>
    /// <param name="function">The function.</param>
    /// <param name="inputs">Where to evaluate.</param>
    /// <param name="v">One per output, shaped as it; may be null only for a single single-element output.</param>
    /// <param name="createGraph">Keep the results on the graph.</param>
    /// <param name="strict">Throw when an input influences no output, instead of returning zeros for it.</param>
    public static (Variable[] Outputs, Variable[] Vjps) Vjp(Func<Variable[], Variable[]> function, Variable[] inputs, Variable[]? v = null,
        bool createGraph = false, bool strict = false)
    {
        ArgumentNullException.ThrowIfNull(function);
        var xs = PrepareInputs(inputs, createGraph, "Vjp");
        var outputs = Call(function, xs, strict, "Vjp");
        var seeds = PrepareVector(v, outputs, createGraph, "Vjp", "output");
        var vjps = GradOrZeros(outputs, seeds, xs, createGraph, strict, "Vjp", i => $"the output of the function is independent of input {i}");
        return (Finish(outputs, createGraph), Finish(vjps, createGraph));
    }

    /// <summary>
    /// <c>torch.autograd.functional.jvp</c>: the output of <paramref name="function"/> at <paramref name="input"/> and
    /// the product J v of its Jacobian with <paramref name="v"/> (shaped as the output).
    /// </summary>
    /// <remarks>
    /// Computed as PyTorch does, by the double-vjp trick: g(u) = J^T u (a backward with createGraph from a seed u) is
    /// linear in u, so its own vjp with v is (J^T)^T v = J v. That costs two backward passes and needs the function's
    /// ops to be twice differentiable, but no forward mode.
    /// </remarks>
    /// <param name="function">The function.</param>
    /// <param name="input">Where to evaluate.</param>
    /// <param name="v">Shaped as the input; may be null only for a single-element input (then one).</param>
    /// <param name="createGraph">Keep the output and the product on the graph.</param>
    /// <param name="strict">Throw when the output does not depend on the input, instead of returning zeros.</param>
    public static (Variable Output, Variable Jvp) Jvp(Func<Variable, Variable> function, Variable input, Variable? v = null,
        bool createGraph = false, bool strict = false)
    {
        ArgumentNullException.ThrowIfNull(function);
        var (outputs, jvps) = Jvp(xs => [function(xs[0])], [input], v is null ? null : [v], createGraph, strict);
        return (outputs[0], jvps[0]);
    }

    /// <summary><c>jvp</c> of a function of several variables with several outputs: for each output the sum over inputs of J_ji v_i.</summary>
    /// <param name="function">The function.</param>
    /// <param name="inputs">Where to evaluate.</param>
    /// <param name="v">One per input, shaped as it; may be null only for a single single-element input.</param>
    /// <param name="createGraph">Keep the results on the graph.</param>
    /// <param name="strict">Throw when an output depends on no input, instead of returning zeros for it.</param>
    public static (Variable[] Outputs, Variable[] Jvps) Jvp(Func<Variable[], Variable[]> function, Variable[] inputs, Variable[]? v = null,
        bool createGraph = false, bool strict = false)
    {
        ArgumentNullException.ThrowIfNull(function);
        var xs = PrepareInputs(inputs, createGraph, "Jvp");
        var tangents = PrepareVector(v, xs, createGraph, "Jvp", "input");
        var outputs = Call(function, xs, strict, "Jvp");
        // the backward is linear in u, so its value does not matter (zeros keep NaN out); it must be a variable of the graph
        var u = outputs.Select(y => new Variable(Tensor.Zeros(y.Value.ShapeArray), requiresGrad: true, name: "u")).ToArray();
        var transposed = GradOrNull(outputs, u, xs, createGraph: true);
        if (strict && Array.FindIndex(transposed, g => g is null) is var unused and >= 0)
        {
            throw new InvalidOperationException(CallSite.Tag($"Autograd.Jvp (strict): the outputs of the function are independent of input {unused}."));
        }
        var jvps = GradOrZeros(transposed.Select(g => g ?? new Variable(Tensor.Scalar(0f))).ToArray(), tangents, u, createGraph, strict, "Jvp",
            j => $"output {j} of the function is independent of the inputs");
        return (Finish(outputs, createGraph), Finish(jvps, createGraph));
    }

    /// <summary>
    /// <c>torch.autograd.functional.vhp</c>: the single-element output of <paramref name="function"/> at
    /// <paramref name="input"/> and the product v^T H with its Hessian (shaped as the input).
    /// </summary>
    /// <param name="function">A function with a single-element output.</param>
    /// <param name="input">Where to evaluate.</param>
    /// <param name="v">Shaped as the input; may be null only for a single-element input (then one).</param>
    /// <param name="createGraph">Keep the output and the product on the graph.</param>
    /// <param name="strict">Throw when the output or its gradient does not depend on the input, instead of returning zeros.</param>
    public static (Variable Output, Variable Vhp) Vhp(Func<Variable, Variable> function, Variable input, Variable? v = null,
        bool createGraph = false, bool strict = false)
    {
        ArgumentNullException.ThrowIfNull(function);
        var (output, vhps) = Vhp(xs => function(xs[0]), [input], v is null ? null : [v], createGraph, strict);
        return (output, vhps[0]);
    }

    /// <summary><c>vhp</c> of a scalar function of several variables: for each input i the sum over j of v_j^T H_ji.</summary>
    /// <param name="function">A function with a single-element output.</param>
    /// <param name="inputs">Where to evaluate.</param>
    /// <param name="v">One per input, shaped as it; may be null only for a single single-element input.</param>
    /// <param name="createGraph">Keep the results on the graph.</param>
    /// <param name="strict">Throw when the output or its gradient does not depend on an input, instead of returning zeros.</param>
    public static (Variable Output, Variable[] Vhps) Vhp(Func<Variable[], Variable> function, Variable[] inputs, Variable[]? v = null,
        bool createGraph = false, bool strict = false)
    {
        ArgumentNullException.ThrowIfNull(function);
        var xs = PrepareInputs(inputs, createGraph, "Vhp");
        var vs = PrepareVector(v, xs, createGraph, "Vhp", "input");
        var (output, gradient) = ValueAndGradient(function, xs, strict, "Vhp");
        var vhps = GradOrZeros(gradient, vs, xs, createGraph, strict, "Vhp", i => $"the gradient of the function is independent of input {i}");
        return (Finish([output], createGraph)[0], Finish(vhps, createGraph));
    }

    /// <summary>
    /// <c>torch.autograd.functional.hvp</c>: the single-element output of <paramref name="function"/> at
    /// <paramref name="input"/> and the product H v of its Hessian with <paramref name="v"/> (shaped as the input).
    /// </summary>
    /// <remarks>
    /// The Hessian of a twice continuously differentiable function is symmetric, so H v = (v^T H)^T and this is
    /// computed as <see cref="Vhp(Func{Variable, Variable}, Variable, Variable?, bool, bool)"/>: one backward through the
    /// gradient, where PyTorch's double-vjp form needs two more and the ops' third derivatives (which the smooth
    /// activations' derivative nodes do not have). PyTorch's own documentation recommends vhp for such functions.
    /// </remarks>
    /// <param name="function">A function with a single-element output.</param>
    /// <param name="input">Where to evaluate.</param>
    /// <param name="v">Shaped as the input; may be null only for a single-element input (then one).</param>
    /// <param name="createGraph">Keep the output and the product on the graph.</param>
    /// <param name="strict">Throw when the output or its gradient does not depend on the input, instead of returning zeros.</param>
    public static (Variable Output, Variable Hvp) Hvp(Func<Variable, Variable> function, Variable input, Variable? v = null,
        bool createGraph = false, bool strict = false)
        => Vhp(function, input, v, createGraph, strict);

    /// <summary><c>hvp</c> of a scalar function of several variables: for each input i the sum over j of H_ij v_j (see the single-input overload).</summary>
    /// <param name="function">A function with a single-element output.</param>
    /// <param name="inputs">Where to evaluate.</param>
    /// <param name="v">One per input, shaped as it; may be null only for a single single-element input.</param>
    /// <param name="createGraph">Keep the results on the graph.</param>
    /// <param name="strict">Throw when the output or its gradient does not depend on an input, instead of returning zeros.</param>
    public static (Variable Output, Variable[] Hvps) Hvp(Func<Variable[], Variable> function, Variable[] inputs, Variable[]? v = null,
        bool createGraph = false, bool strict = false)
        => Vhp(function, inputs, v, createGraph, strict);

    /// <summary>
    /// The variables the function is evaluated at: with createGraph an input that requires grad is used itself (so the
    /// results stay connected to it); otherwise a new leaf on the same data that requires grad.
    /// </summary>
    private static Variable[] PrepareInputs(Variable[] inputs, bool createGraph, string op)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Length == 0)
        {
            throw new ArgumentException(CallSite.Tag($"Autograd.{op}: needs at least one input."), nameof(inputs));
        }
        var xs = new Variable[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
        {
            ArgumentNullException.ThrowIfNull(inputs[i], $"inputs[{i}]");
            xs[i] = createGraph && inputs[i].RequiresGrad ? inputs[i] : new Variable(inputs[i].Value, requiresGrad: true, inputs[i].Name);
        }
        return xs;
    }

    /// <summary>
    /// Checks <paramref name="v"/> against the variables it multiplies (<paramref name="against"/>, outputs or
    /// inputs): one per variable, same shapes; null stands for one, allowed only for a single single-element variable.
    /// Without createGraph v is cut from its graph.
    /// </summary>
    private static Variable[] PrepareVector(Variable[]? v, Variable[] against, bool createGraph, string op, string what)
    {
        if (v is null)
        {
            if (against.Length != 1 || against[0].Value.Length != 1)
            {
                throw new ArgumentException(CallSite.Tag(
                    $"Autograd.{op}: v can be omitted only when the function has a single {what} with a single element; "
                    + $"pass one v per {what} ({against.Length} of shape{(against.Length == 1 ? "" : "s")} {string.Join(", ", against.Select(a => Shapes.Format(a.Shape)))})."), nameof(v));
            }
            return [new Variable(Tensor.Ones(against[0].Value.ShapeArray))];
        }
        if (v.Length != against.Length)
        {
            throw new ArgumentException(CallSite.Tag($"Autograd.{op}: {v.Length} vectors v for {against.Length} {what}s; pass one per {what}."), nameof(v));
        }
        var result = new Variable[v.Length];
        for (int i = 0; i < v.Length; i++)
        {
            ArgumentNullException.ThrowIfNull(v[i], $"v[{i}]");
            if (!v[i].Shape.SequenceEqual(against[i].Shape))
            {
                throw new ArgumentException(CallSite.Tag(
                    $"Autograd.{op}: v[{i}] has shape {Shapes.Format(v[i].Shape)} but {what} {i} has shape {Shapes.Format(against[i].Shape)}."), nameof(v));
            }
            result[i] = createGraph ? v[i] : new Variable(v[i].Value);
        }
        return result;
    }

    /// <summary>Runs the function with recording on; in strict mode every output must be on the graph.</summary>
    private static Variable[] Call(Func<Variable[], Variable[]> function, Variable[] xs, bool strict, string op)
    {
        Variable[] outputs;
        using (GradMode.EnableGrad())
        {
            outputs = function(xs) ?? throw new InvalidOperationException(CallSite.Tag($"Autograd.{op}: the function returned null."));
        }
        if (outputs.Length == 0)
        {
            throw new InvalidOperationException(CallSite.Tag($"Autograd.{op}: the function returned no outputs."));
        }
        for (int j = 0; j < outputs.Length; j++)
        {
            if (outputs[j] is null)
            {
                throw new InvalidOperationException(CallSite.Tag($"Autograd.{op}: output {j} of the function is null."));
            }
            if (strict && !outputs[j].RequiresGrad)
            {
                throw new InvalidOperationException(CallSite.Tag(
                    $"Autograd.{op} (strict): output {j} of the function does not require grad; it must be computed from the inputs with recorded ops."));
            }
        }
        return outputs;
    }

    /// <summary>The single-element output of a scalar function and its gradient in each input, recorded (zeros for an unused input).</summary>
    private static (Variable Output, Variable[] Gradient) ValueAndGradient(Func<Variable[], Variable> function, Variable[] xs, bool strict, string op)
    {
        var output = Call(x => [function(x)], xs, strict, op)[0];
        if (output.Value.Length != 1)
        {
            throw new InvalidOperationException(CallSite.Tag(
                $"Autograd.{op}: the function must return a single element (a scalar loss); it returned shape {Shapes.Format(output.Shape)}."));
        }
        var gradient = GradOrZeros([output], [null], xs, createGraph: true, strict, op, i => $"the output of the function is independent of input {i}");
        if (strict && Array.FindIndex(gradient, g => !g.RequiresGrad) is var linear and >= 0)
        {
            throw new InvalidOperationException(CallSite.Tag(
                $"Autograd.{op} (strict): the gradient of the function with respect to input {linear} does not depend on the inputs (the function is linear in it)."));
        }
        return (output, gradient);
    }

    /// <summary>
    /// The gradients of the outputs that are on the graph, weighted by their seeds, in each input (null for an input
    /// none of them reaches; all null when no output is on the graph). The graph is kept for further products.
    /// </summary>
    private static Variable?[] GradOrNull(Variable[] outputs, Variable?[] seeds, Variable[] inputs, bool createGraph)
    {
        var live = Enumerable.Range(0, outputs.Length).Where(j => outputs[j].RequiresGrad).ToArray();
        if (live.Length == 0)
        {
            return new Variable?[inputs.Length];
        }
        return Grad(live.Select(j => outputs[j]).ToArray(), inputs, live.Select(j => seeds[j]).ToArray(),
            retainGraph: true, createGraph: createGraph, allowUnused: true);
    }

    /// <summary>
    /// <see cref="GradOrNull"/> with zeros for an input no output reaches, or, in strict mode, an error that says
    /// <paramref name="independent"/> of that input's index.
    /// </summary>
    private static Variable[] GradOrZeros(Variable[] outputs, Variable?[] seeds, Variable[] inputs, bool createGraph, bool strict, string op,
        Func<int, string> independent)
    {
        var grads = GradOrNull(outputs, seeds, inputs, createGraph);
        var result = new Variable[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
        {
            if (grads[i] is null && strict)
            {
                throw new InvalidOperationException(CallSite.Tag($"Autograd.{op} (strict): {independent(i)}."));
            }
            result[i] = grads[i] ?? new Variable(Tensor.Zeros(inputs[i].Value.ShapeArray));
        }
        return result;
    }

    /// <summary>Results as the caller gets them: cut from the graph unless it asked for createGraph.</summary>
    private static Variable[] Finish(Variable[] results, bool createGraph)
        => createGraph ? results : results.Select(r => r.Detach()).ToArray();
}
