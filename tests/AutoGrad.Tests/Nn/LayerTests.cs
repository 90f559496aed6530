using AutoGrad.Nn;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Nn;

[TestClass]
public sealed class LayerTests
{
    [TestMethod]
    [TestCategory("GradCheck")]
    public void LinearGradCheck()
    {
        var g = new Generator(5);
        var x = TestUtil.RandnVar(g, 3, 4);
        var w = TestUtil.RandnVar(g, 2, 4);
        var b = TestUtil.RandnVar(g, 2);
        GradCheck.Assert(v => F.Linear(v[0], v[1], v[2]), [x, w, b]);
        GradCheck.Assert(v => F.Linear(v[0], v[1]), [x, w]);
        GradCheck.Assert(v => F.Linear(v[0], v[1], v[2]), [TestUtil.RandnVar(g, 2, 3, 4), w, b]);
        GradCheck.Assert(v => F.Linear(v[0], v[1], v[2]), [TestUtil.RandnVar(g, 4), w, b]);
    }

    [TestMethod]
    public void LinearEqualsMatMulWithTransposedWeight()
    {
        var g = new Generator(6);
        var x = TestUtil.RandnVar(g, 5, 7);
        var w = TestUtil.RandnVar(g, 3, 7);
        var b = TestUtil.RandnVar(g, 3);
        var fused = F.Linear(x, w, b);
        var composite = F.MatMul(x, F.Transpose(w, 0, 1)) + b;
        TestUtil.AssertClose(composite.Value, fused.Value, 1e-6, 1e-6);
        CollectionAssert.AreEqual(new[] { 3 }, F.Linear(new Variable(Tensor.Zeros(7)), w, b).Shape.ToArray());
    }

    [TestMethod]
    public void LinearRejectsMismatchedShapes()
    {
        var e = Assert.ThrowsExactly<ArgumentException>(() => F.Linear(new Variable(Tensor.Zeros(2, 5)), new Variable(Tensor.Zeros(3, 4))));
        StringAssert.Contains(e.Message, "Linear");
        StringAssert.Contains(e.Message, "[2, 5]");
        StringAssert.Contains(e.Message, "[3, 4]");
        Assert.ThrowsExactly<ArgumentException>(() => F.Linear(new Variable(Tensor.Zeros(2, 4)), new Variable(Tensor.Zeros(3, 4)), new Variable(Tensor.Zeros(4))));
        Assert.ThrowsExactly<ArgumentException>(() => new Linear(0, 3));
        Assert.ThrowsExactly<ArgumentException>(() => new Conv2d(1, 2, 0));
        Assert.ThrowsExactly<ArgumentException>(() => new ConvTranspose2d(4, 6, 3, groups: 4));
        Assert.ThrowsExactly<ArgumentException>(() => new ConvTranspose2d(4, 6, 3, stride: 2, outputPadding: 2));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new Dropout(1.5f));
    }

    [TestMethod]
    public void LayersComputeWhatTheFunctionalApiComputes()
    {
        var g = new Generator(7);
        var x = new Variable(Tensor.Randn(g, 2, 3, 8, 8));
        var conv = new Conv2d(3, 4, (3, 2), (2, 1), (1, 0), (1, 1), generator: g);
        CollectionAssert.AreEqual(
            F.Conv2d(x, conv.Weight, conv.Bias, (2, 1), (1, 0), (1, 1)).Value.ToArray(),
            conv.Call(x).Value.ToArray());
        var up = new ConvTranspose2d(3, 4, 3, stride: 2, padding: 1, outputPadding: 1, generator: g);
        CollectionAssert.AreEqual(F.ConvTranspose2d(x, up.Weight, up.Bias, 2, 1, 1).Value.ToArray(), up.Call(x).Value.ToArray());
        CollectionAssert.AreEqual(new[] { 2, 4, 16, 16 }, up.Call(x).Shape.ToArray());
        CollectionAssert.AreEqual(F.MaxPool2d(x, 2).Value.ToArray(), new MaxPool2d(2).Call(x).Value.ToArray());
        CollectionAssert.AreEqual(F.AvgPool2d(x, 3, 2, 1).Value.ToArray(), new AvgPool2d(3, 2, 1).Call(x).Value.ToArray());
        CollectionAssert.AreEqual(new[] { 2, 192 }, new Flatten().Call(x).Shape.ToArray());
        CollectionAssert.AreEqual(F.LeakyRelu(x, 0.2f).Value.ToArray(), new LeakyReLU(0.2f).Call(x).Value.ToArray());
        CollectionAssert.AreEqual(F.Gelu(x, GeluApproximation.Tanh).Value.ToArray(), new GELU(GeluApproximation.Tanh).Call(x).Value.ToArray());
        CollectionAssert.AreEqual(F.Softmax(x, 1).Value.ToArray(), new Softmax(1).Call(x).Value.ToArray());
        CollectionAssert.AreEqual(F.LogSoftmax(x, -1).Value.ToArray(), new LogSoftmax().Call(x).Value.ToArray());
        CollectionAssert.AreEqual(F.Sigmoid(x).Value.ToArray(), new Sigmoid().Call(x).Value.ToArray());
        Assert.AreSame(x, new Identity().Call(x));
    }
}
