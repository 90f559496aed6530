using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests;

[TestClass]
public sealed class TensorTests
{
    [TestMethod]
    public void CreationHelpersFillShapeAndValues()
    {
        var zeros = Tensor.Zeros(2, 3);
        CollectionAssert.AreEqual(new[] { 2, 3 }, zeros.Shape.ToArray());
        Assert.IsTrue(zeros.ToArray().All(v => v == 0));
        Assert.IsTrue(Tensor.Ones(4).ToArray().All(v => v == 1));
        Assert.IsTrue(Tensor.Full([2, 2], 7.5f).ToArray().All(v => v == 7.5f));
        var scalar = Tensor.Scalar(3f);
        Assert.AreEqual(0, scalar.Rank);
        Assert.AreEqual(1, scalar.Length);
        Assert.AreEqual(3f, scalar.Item());
        Assert.AreEqual(0, Tensor.Zeros(3, 0).Length);
    }

    [TestMethod]
    public void FromArrayCopiesAndInfersOneDimension()
    {
        var data = new[] { 1f, 2f, 3f };
        var t = Tensor.FromArray(data);
        CollectionAssert.AreEqual(new[] { 3 }, t.Shape.ToArray());
        data[0] = 99f;
        Assert.AreEqual(1f, t[0], "FromArray copies its input");
        Assert.AreEqual(1, Tensor.FromArray([5f]).Rank);
    }

    [TestMethod]
    public void ArangeHandlesFloatStepsAndEmptyRanges()
    {
        CollectionAssert.AreEqual(new[] { 0f, 1f, 2f, 3f }, Tensor.Arange(4).ToArray());
        CollectionAssert.AreEqual(new[] { 1f, 1.5f, 2f, 2.5f }, Tensor.Arange(1f, 3f, 0.5f).ToArray());
        CollectionAssert.AreEqual(new[] { 3f, 2f, 1f }, Tensor.Arange(3f, 0f, -1f).ToArray());
        Assert.AreEqual(0, Tensor.Arange(2f, 1f).Length);
        Assert.ThrowsExactly<ArgumentException>(() => Tensor.Arange(0f, 1f, 0f));
    }

    [TestMethod]
    public void RandomTensorsHaveTheRightRangeAndStatistics()
    {
        var g = new Generator(1);
        var uniform = Tensor.Uniform([100_000], -2f, 3f, g).ToArray();
        Assert.IsTrue(uniform.All(v => v >= -2f && v < 3f));
        Assert.AreEqual(0.5, uniform.Average(), 0.02);
        var normal = Tensor.Normal([100_000], 1f, 2f, g).ToArray();
        double mean = normal.Average();
        double std = Math.Sqrt(normal.Select(v => (v - mean) * (v - mean)).Average());
        Assert.AreEqual(1.0, mean, 0.03);
        Assert.AreEqual(2.0, std, 0.03);
        var rand = Tensor.Rand(g, 1000).ToArray();
        Assert.IsTrue(rand.All(v => v >= 0f && v < 1f));
        CollectionAssert.AreEqual(new[] { 3, 4 }, Tensor.Randn(g, 3, 4).Shape.ToArray());
    }

    [TestMethod]
    public void SameSeedGivesSameTensors()
    {
        CollectionAssert.AreEqual(Tensor.Randn(new Generator(5), 50).ToArray(), Tensor.Randn(new Generator(5), 50).ToArray());
        CollectionAssert.AreNotEqual(Tensor.Randn(new Generator(5), 50).ToArray(), Tensor.Randn(new Generator(6), 50).ToArray());
        Generator.ManualSeed(77);
        var first = Tensor.Rand(20).ToArray();
        Generator.ManualSeed(77);
        CollectionAssert.AreEqual(first, Tensor.Rand(20).ToArray());
    }

    [TestMethod]
    public void ElementAccessSupportsNegativeIndices()
    {
        var t = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
        Assert.AreEqual(6f, t[1, 2]);
        Assert.AreEqual(6f, t[-1, -1]);
        t[0, -1] = 30f;
        Assert.AreEqual(30f, t.ToArray()[2]);
        Assert.AreEqual(3, t.Size(-1));
        Assert.AreEqual(2, t.Size(0));
    }

    [TestMethod]
    public void ReshapeSharesTheBufferAndInfersMinusOne()
    {
        var t = Tensor.Arange(6);
        var r = t.Reshape(3, -1);
        CollectionAssert.AreEqual(new[] { 3, 2 }, r.Shape.ToArray());
        r[0, 0] = 42f;
        Assert.AreEqual(42f, t[0]);
        var c = t.Clone();
        c[0] = 0f;
        Assert.AreEqual(42f, t[0], "Clone copies");
        Assert.AreEqual(0, Tensor.FromArray([5f]).Reshape().Rank);
    }

    [TestMethod]
    public void ToStringShowsShapeAndAbbreviatesLargeTensors()
    {
        var small = Tensor.FromArray([1f, 2.5f], 2).ToString();
        StringAssert.Contains(small, "[1, 2.5]");
        StringAssert.Contains(small, "shape=[2]");
        var large = Tensor.Zeros(50, 50).ToString();
        StringAssert.Contains(large, "...");
        StringAssert.Contains(large, "shape=[50, 50]");
        Assert.IsLessThan(2000, large.Length);
        StringAssert.Contains(Tensor.Scalar(1.5f).ToString(), "tensor(1.5, shape=[])");
    }

    [TestMethod]
    public void RankIsLimitedToSix()
    {
        Assert.AreEqual(6, Tensor.Zeros(1, 1, 1, 1, 1, 2).Rank);
        var error = Assert.ThrowsExactly<ArgumentException>(() => Tensor.Zeros(1, 1, 1, 1, 1, 1, 1));
        StringAssert.Contains(error.Message, "rank 7");
    }
}
