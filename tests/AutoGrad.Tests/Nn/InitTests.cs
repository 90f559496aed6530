using AutoGrad.Nn;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Nn;

[TestClass]
public sealed class InitTests
{
    private static (double Mean, double Std, float Min, float Max) Stats(Tensor t)
    {
        var v = t.ToArray();
        double mean = v.Average(x => (double)x);
        double std = Math.Sqrt(v.Average(x => (x - mean) * (x - mean)));
        return (mean, std, v.Min(), v.Max());
    }

    [TestMethod]
    public void XavierUniformStaysInItsBoundWithUniformSpread()
    {
        var w = Tensor.Zeros(300, 200);
        Init.Apply(w, Init.XavierUniform(), new Generator(1));
        double bound = Math.Sqrt(6.0 / 500);
        var (mean, std, min, max) = Stats(w);
        Assert.IsTrue(min >= -bound && max <= bound, $"[{min}, {max}] within ±{bound}");
        Assert.IsTrue(max > 0.99 * bound && min < -0.99 * bound, "the bound is reached");
        Assert.AreEqual(0, mean, 0.005);
        Assert.AreEqual(bound / Math.Sqrt(3), std, 0.01 * bound);
    }

    [TestMethod]
    public void NormalInitializersHaveTheirStandardDeviation()
    {
        var w = Tensor.Zeros(256, 128, 3, 3);
        Init.Apply(w, Init.KaimingNormal(nonlinearity: Nonlinearity.Relu), new Generator(2));
        var (mean, std, _, _) = Stats(w);
        Assert.AreEqual(0, mean, 0.002);
        Assert.AreEqual(Math.Sqrt(2.0 / (128 * 9)), std, 0.01 * std);

        Init.Apply(w, Init.XavierNormal(gain: 2f), new Generator(3));
        Assert.AreEqual(2 * Math.Sqrt(2.0 / (128 * 9 + 256 * 9)), Stats(w).Std, 0.01 * Stats(w).Std);

        Init.Apply(w, Init.KaimingUniform(mode: FanMode.FanOut, nonlinearity: Nonlinearity.Relu), new Generator(4));
        double bound = Math.Sqrt(2.0) * Math.Sqrt(3.0 / (256 * 9));
        Assert.IsTrue(Stats(w).Max <= bound && Stats(w).Min >= -bound);

        Init.Apply(w, Init.Normal(1f, 0.5f), new Generator(5));
        Assert.AreEqual(1, Stats(w).Mean, 0.002);
        Assert.AreEqual(0.5, Stats(w).Std, 0.005);
    }

    [TestMethod]
    public void ConstantInitializers()
    {
        var w = Tensor.Full([3, 3], 5f);
        Init.Apply(w, Init.Zeros());
        Assert.IsTrue(w.ToArray().All(v => v == 0f));
        Init.Apply(w, Init.Ones());
        Assert.IsTrue(w.ToArray().All(v => v == 1f));
        Init.Apply(w, Init.Uniform(-2f, -1f), new Generator(1));
        Assert.IsTrue(w.ToArray().All(v => v is >= -2f and <= -1f));
    }

    [TestMethod]
    public void DefaultLayerInitIsPyTorchs()
    {
        var linear = new Linear(400, 300, generator: new Generator(1));
        double bound = 1 / Math.Sqrt(400);
        var (_, std, min, max) = Stats(linear.Weight.Value);
        Assert.IsTrue(min >= -bound && max <= bound);
        Assert.AreEqual(bound / Math.Sqrt(3), std, 0.01 * bound);
        Assert.IsTrue(linear.Bias!.Value.ToArray().All(v => Math.Abs(v) <= bound));

        var conv = new Conv2d(6, 16, 5, generator: new Generator(2));
        double convBound = 1 / Math.Sqrt(6 * 25);
        Assert.IsTrue(conv.Weight.Value.ToArray().All(v => Math.Abs(v) <= convBound));
        Assert.IsTrue(conv.Bias!.Value.ToArray().All(v => Math.Abs(v) <= convBound));
        Assert.IsTrue(conv.Weight.Value.ToArray().Max() > 0.95 * convBound);

        // PyTorch's fan_in of a transposed convolution's weight [in, out / groups, kh, kw] is its dim 1 times the kernel
        var up = new ConvTranspose2d(16, 6, 4, groups: 2, generator: new Generator(3));
        CollectionAssert.AreEqual(new[] { 16, 3, 4, 4 }, up.Weight.Value.Shape.ToArray());
        CollectionAssert.AreEqual(new[] { "weight", "bias" }, up.NamedParameters().Select(p => p.Key).ToArray());
        double upBound = 1 / Math.Sqrt(3 * 16);
        Assert.IsTrue(up.Weight.Value.ToArray().All(v => Math.Abs(v) <= upBound));
        Assert.IsTrue(up.Bias!.Value.ToArray().All(v => Math.Abs(v) <= upBound));
        Assert.IsTrue(up.Weight.Value.ToArray().Max() > 0.95 * upBound);
    }

    [TestMethod]
    public void LayersAcceptAnInitChoice()
    {
        var linear = new Linear(4, 3, weightInit: Init.Constant(0.25f), biasInit: Init.Zeros());
        Assert.IsTrue(linear.Weight.Value.ToArray().All(v => v == 0.25f));
        Assert.IsTrue(linear.Bias!.Value.ToArray().All(v => v == 0f));
    }

    [TestMethod]
    public void SeededInitializationIsReproducible()
    {
        Generator.ManualSeed(42);
        var a = Mlp.Create([10, 20, 5]);
        Generator.ManualSeed(42);
        var b = Mlp.Create([10, 20, 5]);
        foreach (var ((name, pa), (_, pb)) in a.NamedParameters().Zip(b.NamedParameters()))
        {
            CollectionAssert.AreEqual(pa.Value.ToArray(), pb.Value.ToArray(), name);
        }
        var c = Mlp.Create([10, 20, 5], generator: new Generator(43));
        CollectionAssert.AreNotEqual(a.Parameters().First().Value.ToArray(), c.Parameters().First().Value.ToArray());
    }

    [TestMethod]
    public void BadArgumentsAreRejected()
    {
        Assert.ThrowsExactly<ArgumentException>(() => Init.Uniform(1f, 0f));
        Assert.ThrowsExactly<ArgumentException>(() => Init.Normal(0f, -1f));
        var e = Assert.ThrowsExactly<ArgumentException>(() => Init.Apply(Tensor.Zeros(5), Init.XavierUniform()));
        StringAssert.Contains(e.Message, "[5]");
    }
}
