using System.Diagnostics;
using System.Text.Json.Nodes;
using AutoGrad.Metrics;
using AutoGrad.Nn;
using AutoGrad.Optim;
using AutoGrad.Samples.Common;
using ScottPlot;
using Spectre.Console;

namespace AutoGrad.Samples;

/// <summary>
/// A physics-informed network: a small tanh MLP u(x) trained so that u'' = f on [0, 1] with u(0) = u(1) = 0, for
/// f = -pi^2 sin(pi x), whose solution is sin(pi x). No sample of u is ever shown to the network: the loss is the
/// residual of the equation at collocation points, with u'' from two nested Autograd.Grad calls with createGraph (so
/// the optimizer differentiates through the second derivative), plus a penalty on the boundary values.
/// </summary>
public static class PinnSample
{
    public const int DefaultSteps = 1000;
    public const int DefaultPoints = 64;
    public const float DefaultLearningRate = 0.01f;

    /// <summary>The weight of the boundary term: the residual alone determines u only up to a linear function.</summary>
    private const float BoundaryWeight = 100f;

    private const int EvaluationPoints = 201;

    /// <summary>Trains for <see cref="RunSettings.Epochs"/> full-batch steps on <see cref="RunSettings.BatchSize"/> collocation points.</summary>
    public static int Run(RunSettings settings)
    {
        int steps = settings.Epochs, points = settings.BatchSize;
        if (points < 3)
        {
            throw new ArgumentException($"pinn: needs at least 3 collocation points (--batch-size); got {points}.");
        }
        var model = Mlp.Create([1, 20, 20, 1], () => new Tanh(), new Generator(settings.Seed));
        var optimizer = new Adam(model.Parameters(), settings.LearningRate);
        var schedule = new ExponentialLr(optimizer, 0.999f);
        var x = new Variable(Grid(points), requiresGrad: true, name: "x");
        var f = new Variable(Map(x.Value, t => -MathF.PI * MathF.PI * MathF.Sin(MathF.PI * t)));
        var boundary = new Variable(Tensor.FromArray([0f, 1f], 2, 1));
        AnsiConsole.MarkupLine($"PINN: u'' = -pi^2 sin(pi x) on [[0, 1]], u(0) = u(1) = 0; MLP 1-20-20-1 (tanh), {points} collocation points, {steps} Adam steps, lr {settings.LearningRate}");

        var history = new History();
        var clock = Stopwatch.StartNew();
        var sinceLog = Stopwatch.StartNew();
        float loss = float.NaN;
        for (int step = 1; step <= steps; step++)
        {
            loss = Step(model, optimizer, x, f, boundary);
            schedule.Step();
            if (step % 100 == 0 || step == steps)
            {
                history.Add(new EpochRecord(step, loss, null, null, null, sinceLog.Elapsed.TotalSeconds));
                sinceLog.Restart();
                AnsiConsole.MarkupLine($"  step {step,5}: loss {loss:G4}");
            }
        }
        double seconds = clock.Elapsed.TotalSeconds;

        var grid = Grid(EvaluationPoints);
        Tensor predicted;
        using (GradMode.NoGrad())
        {
            predicted = model.Call(grid).Value;
        }
        var exact = Map(grid, t => MathF.Sin(MathF.PI * t));
        float maxError = 0f;
        for (int i = 0; i < EvaluationPoints; i++)
        {
            maxError = MathF.Max(maxError, MathF.Abs(predicted.AsReadOnlySpan()[i] - exact.AsReadOnlySpan()[i]));
        }
        AnsiConsole.MarkupLine($"Max |u - sin(pi x)| over {EvaluationPoints} points: [bold]{maxError:0.00e0}[/] after {steps} steps in {seconds:F1} s");

        var output = new RunOutput(settings.OutputFolder);
        output.WritePng("solution.png", Plot(grid, exact, predicted, maxError, steps));
        var hyperparameters = settings.ToJson();
        hyperparameters["steps"] = steps;
        hyperparameters["collocation_points"] = points;
        hyperparameters["boundary_weight"] = BoundaryWeight;
        hyperparameters["optimizer"] = "Adam, exponential decay 0.999 per step";
        output.WriteMetrics("pinn", hyperparameters, history, null, new JsonObject
        {
            ["max_error"] = maxError,
            ["final_loss"] = loss,
            ["train_seconds"] = Math.Round(seconds, 3),
        });
        AnsiConsole.MarkupLine($"Wrote metrics.json and solution.png to [blue]{output.Folder}[/]");
        return 0;
    }

    /// <summary>One step on mean((u'' - f)^2) + w * mean(u(0)^2 + u(1)^2); returns the loss.</summary>
    private static float Step(Module model, Optimizer optimizer, Variable x, Variable f, Variable boundary)
    {
        var u = model.Call(x);
        // each row of u depends only on its own x, so the gradient of sum(u) is u' row by row (and likewise u'')
        var du = Autograd.Grad(F.Sum(u), x, createGraph: true);
        var d2u = Autograd.Grad(F.Sum(du), x, createGraph: true);
        var residual = d2u - f;
        var loss = F.Mean(residual * residual) + BoundaryWeight * F.Mean(model.Call(boundary).Pow(2f));
        optimizer.ZeroGrad();
        loss.Backward();
        optimizer.Step();
        return loss.Item();
    }

    /// <summary><paramref name="n"/> evenly spaced points from 0 to 1 as a column [n, 1].</summary>
    private static Tensor Grid(int n)
    {
        var values = new float[n];
        for (int i = 0; i < n; i++)
        {
            values[i] = i / (float)(n - 1);
        }
        return Tensor.FromArray(values, n, 1);
    }

    private static Tensor Map(Tensor t, Func<float, float> map)
    {
        var values = t.ToArray();
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = map(values[i]);
        }
        return Tensor.FromArray(values, t.Shape.ToArray());
    }

    private static byte[] Plot(Tensor grid, Tensor exact, Tensor predicted, float maxError, int steps)
    {
        var plot = new Plot();
        double[] xs = [.. grid.ToArray().Select(v => (double)v)];
        var exactLine = plot.Add.Scatter(xs, [.. exact.ToArray().Select(v => (double)v)]);
        exactLine.LegendText = "exact sin(pi x)";
        exactLine.LineWidth = 6;
        exactLine.MarkerSize = 0;
        exactLine.Color = Colors.LightGray;
        var network = plot.Add.Scatter(xs, [.. predicted.ToArray().Select(v => (double)v)]);
        network.LegendText = "network u(x)";
        network.LineWidth = 2;
        network.MarkerSize = 0;
        network.LinePattern = LinePattern.Dashed;
        plot.Title($"PINN for u'' = -pi^2 sin(pi x): max error {maxError:0.00e0} after {steps} steps");
        plot.XLabel("x");
        plot.YLabel("u");
        plot.ShowLegend(Alignment.UpperRight);
        return plot.GetImageBytes(800, 500, ImageFormat.Png);
    }
}
