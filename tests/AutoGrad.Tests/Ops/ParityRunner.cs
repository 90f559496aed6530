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

    /// <summary>
    /// Prints the largest deviation from PyTorch over all finite expected values: the absolute error where |expected|
    /// &lt;= 1, the relative error where it is larger, and the worst fraction of the allowed tolerance used.
    /// </summary>
    public static void ReportLargestDeviation(IReadOnlyList<ParityCase> cases, Func<ParityCase, Variable[], Variable> apply)
    {
        double maxAbs = 0, maxRel = 0, maxUsage = 0;
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
                    double magnitude = Math.Abs(expected[j]);
                    double diff = Math.Abs((double)actual[j] - expected[j]);
                    if (magnitude <= 1)
                    {
                        maxAbs = Math.Max(maxAbs, diff);
                    }
                    else
                    {
                        maxRel = Math.Max(maxRel, diff / magnitude);
                    }
                    double usage = diff / (Atol + Rtol * magnitude);
                    if (usage > maxUsage)
                    {
                        maxUsage = usage;
                        worst = c.Name;
                    }
                }
            }
        }
        Console.WriteLine($"Parity over {cases.Count} cases: max abs error {maxAbs:G3} (|expected| <= 1), max rel error {maxRel:G3} (|expected| > 1); " +
            $"worst case {worst} used {maxUsage:P1} of the tolerance 1e-5 + 1e-4 |expected|");
        Assert.IsLessThanOrEqualTo(1.0, maxUsage);
    }
}
