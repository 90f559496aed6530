namespace AutoGrad;

/// <summary>
/// Checks second derivatives, as PyTorch's <c>gradgradcheck</c>: the first-order gradients of
/// <c>sum(f(x) * v)</c> (from <c>Autograd.Grad</c> with createGraph, for a fixed random v that is itself an input) are
/// treated as a function of x and v, and that function's gradients (from a second backward through the recorded
/// backward) are compared with central differences by <see cref="GradCheck"/>.
/// </summary>
public static class GradGradCheck
{
    /// <summary>Compares second derivatives for every input that requires grad (and the output gradient v) and returns the report.</summary>
    /// <remarks>The report's last entry is for v; the inputs' <see cref="Variable.Grad"/> are restored.</remarks>
    public static GradCheckReport Run(Func<Variable[], Variable> function, IReadOnlyList<Variable> inputs, GradCheckOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(function);
        ArgumentNullException.ThrowIfNull(inputs);
        options ??= GradCheckOptions.Default;
        var args = inputs.ToArray();
        var differentiated = args.Where(a => a.RequiresGrad).ToArray();
        if (differentiated.Length == 0)
        {
            throw new ArgumentException("GradGradCheck: no input requires grad.", nameof(inputs));
        }
        Tensor outputShape;
        using (GradMode.NoGrad())
        {
            outputShape = function(args).Value;
        }
        var v = new Variable(Tensor.Randn(new Generator(options.Seed + 1), outputShape.ShapeArray), requiresGrad: true, name: "v");

        // the first-order gradients, flattened and concatenated: recorded when the check differentiates them, plain
        // values when it evaluates them by finite differences
        Variable FirstOrder(Variable[] all)
        {
            bool record = GradMode.IsEnabled;
            using var on = GradMode.EnableGrad();
            var y = function(all[..args.Length]);
            var grads = Autograd.Grad([y], differentiated, [all[^1]], createGraph: record, allowUnused: true);
            var flat = new List<Variable>();
            for (int i = 0; i < grads.Length; i++)
            {
                flat.Add(F.Reshape(grads[i] ?? F.Mul(differentiated[i], 0f), -1));
            }
            var result = F.Concat(flat);
            return record ? result : new Variable(result.Value);
        }

        return GradCheck.Run(FirstOrder, [.. args, v], options);
    }

    /// <summary>Runs the check and throws <see cref="GradCheckException"/> with the report if any second derivative disagrees.</summary>
    public static void Assert(Func<Variable[], Variable> function, params Variable[] inputs) => Assert(function, inputs, null);

    /// <summary>Runs the check with options and throws <see cref="GradCheckException"/> if any second derivative disagrees.</summary>
    public static void Assert(Func<Variable[], Variable> function, IReadOnlyList<Variable> inputs, GradCheckOptions? options)
    {
        var report = Run(function, inputs, options);
        if (!report.Passed)
        {
            throw new GradCheckException(report);
        }
    }
}
