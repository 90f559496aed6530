using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Ops;

/// <summary>The neural-network ops against PyTorch (fixture: tests/reference/generate_nn_ops.py).</summary>
[TestClass]
[TestCategory("Parity")]
public sealed class NnOpsParityTests
{
    private const string File = "nn_ops.json";

    public static IEnumerable<object[]> CaseNames => ParityFixture.Load(File).Select(c => new object[] { c.Name });

    [TestMethod]
    [DynamicData(nameof(CaseNames))]
    public void ValuesAndGradientsMatchPyTorch(string name) => ParityRunner.Check(ParityFixture.Load(File).Single(x => x.Name == name), Apply);

    [TestMethod]
    public void FixtureCoversEveryNnOp()
    {
        var ops = ParityFixture.Load(File).Select(c => c.Op).ToHashSet();
        string[] expected =
        [
            "conv2d", "max_pool2d", "avg_pool2d", "flatten", "softmax", "log_softmax", "cross_entropy", "nll_loss", "mse_loss",
            "binary_cross_entropy", "bce_with_logits", "leaky_relu", "gelu", "softplus", "elu", "identity",
        ];
        CollectionAssert.IsSubsetOf(expected, ops.ToList(), $"missing: {string.Join(", ", expected.Except(ops))}");
    }

    [TestMethod]
    public void ReportLargestDeviation() => ParityRunner.ReportLargestDeviation(ParityFixture.Load(File), Apply);

    internal static Variable Apply(ParityCase c, Variable[] x) => c.Op switch
    {
        "conv2d" => F.Conv2d(x[0], x[1], x.Length > 2 ? x[2] : null, c.PairAttr("stride"), c.PairAttr("padding"), c.PairAttr("dilation")),
        "max_pool2d" => F.MaxPool2d(x[0], c.PairAttr("kernel"), c.PairAttr("stride"), c.PairAttr("padding")),
        "avg_pool2d" => F.AvgPool2d(x[0], c.PairAttr("kernel"), c.PairAttr("stride"), c.PairAttr("padding")),
        "flatten" => F.Flatten(x[0], c.IntAttr("start_dim")),
        "softmax" => F.Softmax(x[0], c.IntAttr("dim")),
        "log_softmax" => F.LogSoftmax(x[0], c.IntAttr("dim")),
        "cross_entropy" => c.IntsAttr("target") is { } target
            ? F.CrossEntropy(x[0], target, c.ReductionAttr(), c.FloatAttr("label_smoothing"))
            : F.CrossEntropy(x[0], x[1], c.ReductionAttr(), c.FloatAttr("label_smoothing")),
        "nll_loss" => F.NllLoss(x[0], c.IntsAttr("target")!, c.ReductionAttr()),
        "mse_loss" => F.MseLoss(x[0], x[1], c.ReductionAttr()),
        "binary_cross_entropy" => F.BinaryCrossEntropy(x[0], x[1], c.ReductionAttr()),
        "bce_with_logits" => F.BinaryCrossEntropyWithLogits(x[0], x[1], c.ReductionAttr()),
        "leaky_relu" => F.LeakyRelu(x[0], c.FloatAttr("slope")),
        "gelu" => F.Gelu(x[0], c.StringAttr("approximate") == "tanh" ? GeluApproximation.Tanh : GeluApproximation.None),
        "softplus" => F.Softplus(x[0], c.FloatAttr("beta"), c.FloatAttr("threshold")),
        "elu" => F.Elu(x[0], c.FloatAttr("alpha")),
        "identity" => F.Identity(x[0]),
        _ => throw new NotSupportedException($"Parity: no mapping for op '{c.Op}' (case {c.Name})."),
    };
}
