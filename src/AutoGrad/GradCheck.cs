using System.Globalization;
using System.Text;

namespace AutoGrad;

/// <summary>Options for <see cref="GradCheck"/>: the finite-difference step and the tolerances.</summary>
/// <param name="Epsilon">Half the central-difference step. Float32 arithmetic favours a larger step than PyTorch's float64 default.</param>
/// <param name="AbsoluteTolerance">Allowed |analytic - numeric| on top of the relative part.</param>
/// <param name="RelativeTolerance">Allowed error as a fraction of |numeric|.</param>
/// <param name="Seed">Seed of the random projection that turns a non-scalar output into a scalar.</param>
public sealed record GradCheckOptions(double Epsilon = 1e-2, double AbsoluteTolerance = 1e-3, double RelativeTolerance = 1e-2, long Seed = 1234)
{
    /// <summary>The defaults.</summary>
    public static GradCheckOptions Default { get; } = new();
}

/// <summary>The comparison for one input: the worst element and the largest errors seen.</summary>
/// <param name="InputIndex">Which input of the function.</param>
/// <param name="MaxAbsoluteError">The largest |analytic - numeric| over the input's elements.</param>
/// <param name="MaxRelativeError">The largest |analytic - numeric| / max(|numeric|, tiny) over the elements.</param>
/// <param name="WorstElement">The flat index of the element that exceeded the tolerance most (or had the largest error).</param>
/// <param name="Analytic">The analytic gradient at that element.</param>
/// <param name="Numeric">The central-difference gradient at that element.</param>
/// <param name="Passed">Whether every element was within tolerance.</param>
public sealed record GradCheckInputResult(int InputIndex, double MaxAbsoluteError, double MaxRelativeError, int WorstElement, double Analytic, double Numeric, bool Passed);

/// <summary>The outcome of a gradient check, one entry per input that requires grad.</summary>
public sealed class GradCheckReport
{
    internal GradCheckReport(IReadOnlyList<GradCheckInputResult> inputs) => Inputs = inputs;

    /// <summary>One result per checked input.</summary>
    public IReadOnlyList<GradCheckInputResult> Inputs { get; }

    /// <summary>True when every checked input passed.</summary>
    public bool Passed => Inputs.All(i => i.Passed);

    /// <summary>A line per input with its errors and worst element.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder(Passed ? "GradCheck passed" : "GradCheck FAILED");
        foreach (var r in Inputs)
        {
            sb.AppendLine().Append(CultureInfo.InvariantCulture,
                $"  input {r.InputIndex}: max abs error {r.MaxAbsoluteError:G3}, max rel error {r.MaxRelativeError:G3}; worst element {r.WorstElement}: analytic {r.Analytic:G6} vs numeric {r.Numeric:G6}{(r.Passed ? "" : "  <-- exceeds tolerance")}");
        }
        return sb.ToString();
    }
}

/// <summary>Thrown by <see cref="GradCheck.Assert(Func{Variable[], Variable}, Variable[])"/> when analytic and numeric gradients disagree.</summary>
public sealed class GradCheckException : Exception
{
    /// <summary>Creates the exception for a failed report.</summary>
    public GradCheckException(GradCheckReport report) : base(report.ToString()) => Report = report;

    /// <summary>The failed report.</summary>
    public GradCheckReport Report { get; }
}

/// <summary>
/// Checks analytic gradients (from Backward) against central differences (f(a+eps) - f(a-eps)) / 2eps, element by
/// element, for any function of variables. A non-scalar output is reduced to the scalar sum(f(x) * v) with a fixed
/// random v, so every output element contributes. The function must be deterministic.
/// </summary>
public static class GradCheck
{
    /// <summary>Compares gradients for every input that requires grad and returns the report.</summary>
    /// <remarks>The inputs' <see cref="Variable.Grad"/> are restored to what they were before the check.</remarks>
    public static GradCheckReport Run(Func<Variable[], Variable> function, IReadOnlyList<Variable> inputs, GradCheckOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(function);
        ArgumentNullException.ThrowIfNull(inputs);
        options ??= GradCheckOptions.Default;
        if (!(options.Epsilon > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"GradCheck: Epsilon must be positive; got {options.Epsilon}.");
        }
        var args = inputs.ToArray();
        var savedGrads = args.Select(a => a.Grad).ToArray();
        try
        {
            foreach (var a in args)
            {
                a.Grad = null;
            }
            var output = function(args);
            var projection = Tensor.Randn(new Generator(options.Seed), output.Value.ShapeArray);
            if (output.RequiresGrad)
            {
                output.Backward(projection);
            }

            var results = new List<GradCheckInputResult>();
            for (int i = 0; i < args.Length; i++)
            {
                if (args[i].RequiresGrad)
                {
                    results.Add(CheckInput(function, args, i, projection, options));
                }
            }
            return new GradCheckReport(results);
        }
        finally
        {
            for (int i = 0; i < args.Length; i++)
            {
                args[i].Grad = savedGrads[i];
            }
        }
    }

    /// <summary>Runs the check and throws <see cref="GradCheckException"/> with the report if any input fails.</summary>
    public static void Assert(Func<Variable[], Variable> function, params Variable[] inputs) => Assert(function, inputs, null);

    /// <summary>Runs the check with options and throws <see cref="GradCheckException"/> if any input fails.</summary>
    public static void Assert(Func<Variable[], Variable> function, IReadOnlyList<Variable> inputs, GradCheckOptions? options)
    {
        var report = Run(function, inputs, options);
        if (!report.Passed)
        {
            throw new GradCheckException(report);
        }
    }

    private static GradCheckInputResult CheckInput(Func<Variable[], Variable> function, Variable[] args, int index, Tensor projection, GradCheckOptions options)
    {
        var data = args[index].Value.AsSpan();
        var analytic = args[index].Grad;
        double maxAbs = 0, maxRel = 0, worstExcess = double.NegativeInfinity;
        int worst = 0;
        double worstAnalytic = 0, worstNumeric = 0;
        bool passed = true;
        for (int j = 0; j < data.Length; j++)
        {
            float original = data[j];
            float up = (float)(original + options.Epsilon);
            float down = (float)(original - options.Epsilon);
            data[j] = up;
            double fUp = Project(function, args, projection);
            data = args[index].Value.AsSpan();
            data[j] = down;
            double fDown = Project(function, args, projection);
            data = args[index].Value.AsSpan();
            data[j] = original;
            double numeric = (fUp - fDown) / ((double)up - down); // the steps actually taken, after float rounding
            double a = analytic is null ? 0 : analytic.AsReadOnlySpan()[j];
            double error = Math.Abs(a - numeric);
            double allowed = options.AbsoluteTolerance + options.RelativeTolerance * Math.Abs(numeric);
            maxAbs = Math.Max(maxAbs, error);
            maxRel = Math.Max(maxRel, error / Math.Max(Math.Abs(numeric), 1e-12));
            bool ok = error <= allowed || (double.IsNaN(a) && double.IsNaN(numeric));
            passed &= ok;
            if (error - allowed > worstExcess || double.IsNaN(error))
            {
                worstExcess = double.IsNaN(error) ? double.PositiveInfinity : error - allowed;
                worst = j;
                worstAnalytic = a;
                worstNumeric = numeric;
            }
        }
        return new GradCheckInputResult(index, maxAbs, maxRel, worst, worstAnalytic, worstNumeric, passed);
    }

    private static double Project(Func<Variable[], Variable> function, Variable[] args, Tensor projection)
    {
        using var noGrad = GradMode.NoGrad();
        var y = function(args).Value.AsReadOnlySpan();
        var v = projection.AsReadOnlySpan();
        double sum = 0;
        for (int i = 0; i < y.Length; i++)
        {
            sum += (double)y[i] * v[i];
        }
        return sum;
    }
}
