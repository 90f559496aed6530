using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Ops;

/// <summary>BatchNorm, LayerNorm and GroupNorm against PyTorch (fixture: tests/reference/generate_norm.py, its "cases").</summary>
[TestClass]
[TestCategory("Parity")]
public sealed class NormParityTests
{
    private const string File = "norm.json";

    public static IEnumerable<object[]> CaseNames => ParityFixture.Load(File).Select(c => new object[] { c.Name });

    [TestMethod]
    [DynamicData(nameof(CaseNames))]
    public void ValuesAndGradientsMatchPyTorch(string name) => ParityRunner.Check(ParityFixture.Load(File).Single(x => x.Name == name), Apply);

    [TestMethod]
    public void FixtureCoversEveryNormalization()
    {
        var ops = ParityFixture.Load(File).Select(c => c.Op).ToHashSet();
        CollectionAssert.IsSubsetOf(new[] { "batch_norm", "layer_norm", "group_norm" }, ops.ToList());
    }

    [TestMethod]
    public void ReportLargestDeviation() => ParityRunner.ReportLargestDeviation(ParityFixture.Load(File), Apply);

    internal static Variable Apply(ParityCase c, Variable[] x) => c.Op switch
    {
        // PyTorch ran on copies of the running statistics, so a training case's update is not compared here (NormModuleParityTests does)
        "batch_norm" => F.BatchNorm(x[0], ParityFixture.ReadTensor(c.Attrs.GetProperty("running_mean")), ParityFixture.ReadTensor(c.Attrs.GetProperty("running_var")),
            x.Length > 1 ? x[1] : null, x.Length > 2 ? x[2] : null, c.BoolAttr("training"), c.FloatAttr("momentum"), c.FloatAttr("eps")),
        "layer_norm" => F.LayerNorm(x[0], c.IntsAttr("normalized_shape")!, x.Length > 1 ? x[1] : null, x.Length > 2 ? x[2] : null, c.FloatAttr("eps")),
        "group_norm" => F.GroupNorm(x[0], c.IntAttr("num_groups"), x.Length > 1 ? x[1] : null, x.Length > 2 ? x[2] : null, c.FloatAttr("eps")),
        _ => throw new NotSupportedException($"Parity: no mapping for op '{c.Op}' (case {c.Name})."),
    };
}
