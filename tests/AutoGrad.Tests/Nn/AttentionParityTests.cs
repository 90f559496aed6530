using AutoGrad.Nn;
using AutoGrad.Tests.Ops;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Nn;

/// <summary>
/// Scaled dot-product attention (causal, additive mask) and multi-head attention (self, cross, key padding, attention
/// weights) against PyTorch 1.13 (fixture tests/reference/generate_attention.py; values and the gradients of inputs and
/// parameters within 1e-5 + 1e-4 |x|), the module's PyTorch names, and second derivatives.
/// </summary>
[TestClass]
[TestCategory("Parity")]
public sealed class AttentionParityTests
{
    private const string File = "attention.json";

    public static IEnumerable<object[]> CaseNames => ParityFixture.Load(File).Select(c => new object[] { c.Name });

    [TestMethod]
    [DynamicData(nameof(CaseNames))]
    public void ValuesAndGradientsMatchPyTorch(string name) => ParityRunner.Check(ParityFixture.Load(File).Single(x => x.Name == name), Apply);

    [TestMethod]
    public void ModuleHasPyTorchsParameterNamesAndRunsBatchFirst()
    {
        var attention = new MultiheadAttention(8, 2, batchFirst: true, generator: new Generator(1));
        CollectionAssert.AreEqual(new[] { "in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias" }, attention.StateDict().Keys.ToArray());
        Assert.IsTrue(attention.InProjBias!.Value.ToArray().All(v => v == 0f) && attention.OutProj.Bias!.Value.ToArray().All(v => v == 0f));
        var x = new Variable(Tensor.Randn(new Generator(2), 3, 5, 8), requiresGrad: true);
        var (output, weights) = attention.Forward(x, x, x);
        CollectionAssert.AreEqual(new[] { 3, 5, 8 }, output.Shape.ToArray());
        CollectionAssert.AreEqual(new[] { 3, 5, 5 }, weights!.Shape.ToArray());
        var rowSums = F.Sum(weights, -1).Value.ToArray();
        Assert.IsTrue(rowSums.All(v => Math.Abs(v - 1f) < 1e-5), "each query's weights sum to one");
        Assert.ThrowsExactly<ArgumentException>(() => new MultiheadAttention(10, 3));
    }

    [TestMethod]
    public void AttentionIsTwiceDifferentiable()
    {
        var g = new Generator(3);
        GradGradCheck.Assert(a => F.ScaledDotProductAttention(a[0], a[1], a[2], isCausal: true),
            [new Variable(Tensor.Randn(g, 2, 3, 4), requiresGrad: true), new Variable(Tensor.Randn(g, 2, 3, 4), requiresGrad: true),
                new Variable(Tensor.Randn(g, 2, 3, 2), requiresGrad: true)], null);
    }

    private static Variable Apply(ParityCase c, Variable[] x) => c.Op switch
    {
        "sdpa" => F.ScaledDotProductAttention(x[0], x[1], x[2]),
        "sdpa_causal" => F.ScaledDotProductAttention(x[0], x[1], x[2], isCausal: true),
        "sdpa_mask" => F.ScaledDotProductAttention(x[0], x[1], x[2], x[3].Value),
        "mha" => F.MultiheadAttention(x[0], x[0], x[0], c.IntAttr("heads"), x[1], x[2], x[3], x[4]).Output,
        "mha_cross" => F.MultiheadAttention(x[0], x[1], x[1], c.IntAttr("heads"), x[2], x[3], x[4], x[5]).Output,
        "mha_padding" => F.MultiheadAttention(x[0], x[1], x[1], c.IntAttr("heads"), x[3], x[4], x[5], x[6], keyPaddingMask: x[2].Value).Output,
        "mha_mask_weights" => F.MultiheadAttention(x[0], x[0], x[0], c.IntAttr("heads"), x[2], x[3], x[4], x[5], attnMask: x[1].Value).Weights!,
        _ => throw new NotSupportedException(c.Op),
    };
}
