using AutoGrad.Nn;
using AutoGrad.Tests.Ops;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Nn;

/// <summary>
/// Embedding (padding_idx), adaptive average pooling and nearest upsampling against PyTorch (fixture
/// tests/reference/generate_layers.py; values and gradients within 1e-5 + 1e-4 |x|), and the modules around them.
/// </summary>
[TestClass]
[TestCategory("Parity")]
public sealed class LayersParityTests
{
    private const string File = "layers.json";

    public static IEnumerable<object[]> CaseNames => ParityFixture.Load(File).Select(c => new object[] { c.Name });

    [TestMethod]
    [DynamicData(nameof(CaseNames))]
    public void ValuesAndGradientsMatchPyTorch(string name) => ParityRunner.Check(ParityFixture.Load(File).Single(x => x.Name == name), Apply);

    [TestMethod]
    public void EmbeddingModuleHasPyTorchsNameAndAZeroPaddingRow()
    {
        var embedding = new Embedding(6, 3, paddingIdx: -1, generator: new Generator(1));
        Assert.AreEqual(5, embedding.PaddingIdx);
        CollectionAssert.AreEqual(new[] { "weight" }, embedding.StateDict().Keys.ToArray());
        CollectionAssert.AreEqual(new[] { 0f, 0f, 0f }, embedding.Weight.Value.ToArray()[15..]);
        var output = embedding.Call(new Variable(Tensor.FromArray([5f, 2f], 2)));
        CollectionAssert.AreEqual(new[] { 2, 3 }, output.Shape.ToArray());
        F.Sum(output).Backward();
        CollectionAssert.AreEqual(new[] { 0f, 0f, 0f }, embedding.Weight.Grad!.ToArray()[15..], "the padding row gets no gradient");
        CollectionAssert.AreEqual(new[] { 1f, 1f, 1f }, embedding.Weight.Grad!.ToArray()[6..9]);
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => embedding.Call(new Variable(Tensor.FromArray([6f], 1))));
        StringAssert.Contains(error.Message, "Embedding: index entry 0 is 6");
    }

    [TestMethod]
    public void Dropout2dZeroesWholeChannelsAndScalesTheRest()
    {
        var x = new Variable(Tensor.Ones(8, 16, 3, 3), requiresGrad: true);
        var y = F.Dropout2d(x, 0.25f, training: true, new Generator(3)).Value.ToArray();
        int dropped = 0;
        for (int channel = 0; channel < 8 * 16; channel++)
        {
            var values = y.AsSpan(channel * 9, 9).ToArray();
            Assert.IsTrue(values.All(v => v == values[0]), "a channel is dropped or kept whole");
            Assert.IsTrue(values[0] == 0f || Math.Abs(values[0] - 1f / 0.75f) < 1e-6);
            dropped += values[0] == 0f ? 1 : 0;
        }
        Assert.IsTrue(dropped is > 16 and < 48, $"about a quarter of 128 channels dropped; got {dropped}");
        Assert.AreSame(x, F.Dropout2d(x, 0.25f, training: false), "identity in evaluation");
        var module = new Dropout2d(0.25f);
        module.Eval();
        Assert.AreSame(x, module.Call(x));
    }

    [TestMethod]
    public void PoolingAndUpsamplingModulesCallTheirFunctions()
    {
        var x = new Variable(Tensor.Arange(16).Reshape(1, 1, 4, 4));
        CollectionAssert.AreEqual(new[] { 2.5f, 4.5f, 10.5f, 12.5f }, new AdaptiveAvgPool2d(2).Call(x).Value.ToArray());
        CollectionAssert.AreEqual(new[] { 1, 1, 8, 8 }, new Upsample(2).Call(x).Shape.ToArray());
    }

    private static Variable Apply(ParityCase c, Variable[] x) => c.Op switch
    {
        "embedding" => F.Embedding(x[0].Value, x[1], c.Attrs.TryGetProperty("padding_idx", out var p) ? p.GetInt32() : null),
        "adaptive_avg_pool2d" => F.AdaptiveAvgPool2d(x[0], (c.IntsAttr("output_size")![0], c.IntsAttr("output_size")![1])),
        "upsample_scale" => F.UpsampleNearest(x[0], c.IntAttr("scale")),
        "upsample_size" => F.UpsampleNearest(x[0], (c.IntsAttr("size")![0], c.IntsAttr("size")![1])),
        _ => throw new NotSupportedException(c.Op),
    };
}
