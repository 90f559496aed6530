using AutoGrad.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Data;

[TestClass]
public sealed class TransformsTests
{
    [TestMethod]
    public void ScaleAndNormalizePerChannel()
    {
        var x = Tensor.FromArray([0, 255, 51, 102, 0, 255, 51, 102], 2, 2, 2, 1);
        Transforms.ScaleToUnit(x);
        CollectionAssert.AreEqual(new[] { 0f, 1f, 0.2f, 0.4f }, x.ToArray()[..4]);
        Transforms.Normalize(x, [0.5f, 0.2f], [0.5f, 0.1f]);
        var v = x.ToArray();
        Assert.AreEqual(-1f, v[0], 1e-6f);
        Assert.AreEqual(1f, v[1], 1e-6f);
        Assert.AreEqual(0f, v[2], 1e-6f);
        Assert.AreEqual(2f, v[3], 1e-6f);
        Assert.AreEqual(-1f, v[4], 1e-6f);
        var e = Assert.ThrowsExactly<ArgumentException>(() => Transforms.Normalize(x, [0f, 0f, 0f], [1f, 1f, 1f]));
        StringAssert.Contains(e.Message, "[2, 2, 2, 1]");
        Assert.ThrowsExactly<ArgumentException>(() => Transforms.Normalize(x, [0f], [0f]));
    }

    [TestMethod]
    public void StandardizerUsesTrainingStatistics()
    {
        var train = Tensor.FromArray([1, 5, 3, 5, 5, 5], 3, 2);
        var scaler = Standardizer.Fit(train);
        CollectionAssert.AreEqual(new[] { 3f, 5f }, scaler.Mean);
        Assert.AreEqual(MathF.Sqrt(8f / 3f), scaler.Std[0], 1e-6f);
        Assert.AreEqual(1f, scaler.Std[1], "constant features are only centered");
        var test = Tensor.FromArray([3, 6], 1, 2);
        scaler.Apply(test);
        CollectionAssert.AreEqual(new[] { 0f, 1f }, test.ToArray());
        Assert.ThrowsExactly<ArgumentException>(() => scaler.Apply(Tensor.Zeros(2, 3)));
    }
}
