using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Ops;

/// <summary>Runs a PyTorch parity case through an op mapping and compares values and gradients (1e-5 abs + 1e-4 rel).</summary>
internal static class ParityRunner
{
    public const double Atol = 1e-5, Rtol = 1e-4;

    public static void Check(ParityCase c, Func<ParityCase, Variable[], Variable> apply)
    {
        var (output, inputs) = Run(c, apply);
        TestUtil.AssertClose(c.Output, output.Value, Atol, Rtol, $"{c.Name} output");
        for (int i = 0; i < inputs.Length; i++)
        {
            if (c.Grads[i] is { } expected)
            {
                Assert.IsNotNull(inputs[i].Grad, $"{c.Name}: input {i} got no gradient");
                TestUtil.AssertClose(expected, inputs[i].Grad!, Atol, Rtol, $"{c.Name} grad of input {i}");
            }
            else
            {
                Assert.IsNull(inputs[i].Grad, $"{c.Name}: input {i} does not require grad but got one");
            }
        }
    }

    public static (Variable Output, Variable[] Inputs) Run(ParityCase c, Func<ParityCase, Variable[], Variable> apply)
    {
        var inputs = c.Inputs.Select((t, i) => new Variable(t.Clone(), c.RequiresGrad[i])).ToArray();
        var output = apply(c, inputs);
        if (output.RequiresGrad)
        {
            output.Backward(c.GradOutput);
        }
        return (output, inputs);
    }

    /// <summary>Prints the largest absolute and relative deviation from PyTorch over all finite expected values.</summary>
    public static void ReportLargestDeviation(IReadOnlyList<ParityCase> cases, Func<ParityCase, Variable[], Variable> apply)
    {
        double maxAbs = 0, maxRel = 0;
        string worst = "";
        foreach (var c in cases)
        {
            var (output, inputs) = Run(c, apply);
            var pairs = new List<(Tensor Expected, Tensor Actual)> { (c.Output, output.Value) };
            for (int i = 0; i < inputs.Length; i++)
            {
                if (c.Grads[i] is { } g && inputs[i].Grad is { } a)
                {
                    pairs.Add((g, a));
                }
            }
            foreach (var (e, a) in pairs)
            {
                var expected = e.AsReadOnlySpan();
                var actual = a.AsReadOnlySpan();
                for (int j = 0; j < expected.Length; j++)
                {
                    if (!float.IsFinite(expected[j]))
                    {
                        continue;
                    }
                    double diff = Math.Abs((double)actual[j] - expected[j]);
                    if (diff > maxAbs)
                    {
                        maxAbs = diff;
                        worst = c.Name;
                    }
                    maxRel = Math.Max(maxRel, diff / Math.Max(Math.Abs(expected[j]), 1e-3));
                }
            }
        }
        Console.WriteLine($"Largest parity error over {cases.Count} cases: abs {maxAbs:G3} (in {worst}), rel {maxRel:G3} (relative to max(|expected|, 1e-3))");
    }
}
