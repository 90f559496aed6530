using System.Text.Json;
using AutoGrad.Samples;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Samples;

/// <summary>
/// The pinn command: a short run writes solution.png and metrics.json with the error against sin(pi x); the default run
/// (1000 steps, a few seconds) reaches the documented accuracy.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class PinnSampleTests
{
    private static JsonElement Run(int steps)
    {
        string output = TestUtil.TempFolder("pinn");
        Assert.AreEqual(0, Cli.Run(["pinn", "--epochs", $"{steps}", "--out", output]));
        Assert.IsTrue(File.Exists(Path.Combine(output, "solution.png")));
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "metrics.json")));
        var metrics = document.RootElement.Clone();
        Assert.AreEqual("pinn", metrics.GetProperty("command").GetString());
        Assert.AreEqual(steps, metrics.GetProperty("hyperparameters").GetProperty("steps").GetInt32());
        return metrics;
    }

    [TestMethod]
    public void ShortRunWritesTheSolutionPlot()
    {
        var metrics = Run(steps: 20);
        Assert.IsTrue(float.IsFinite(metrics.GetProperty("max_error").GetSingle()));
        Assert.IsTrue(float.IsFinite(metrics.GetProperty("final_loss").GetSingle()));
        Assert.AreEqual(1, metrics.GetProperty("epochs").GetArrayLength(), "the loss is logged every 100 steps and at the last");
    }

    [TestMethod]
    public void DefaultRunSolvesTheEquationWithin1e2()
    {
        var metrics = Run(PinnSample.DefaultSteps);
        float maxError = metrics.GetProperty("max_error").GetSingle();
        Assert.IsLessThan(1e-2f, maxError, $"max |u - sin(pi x)| = {maxError}");
    }
}
