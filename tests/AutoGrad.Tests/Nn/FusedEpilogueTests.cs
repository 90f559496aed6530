using AutoGrad.Nn;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Nn;

/// <summary>
/// The public epilogue: F.Linear / F.Conv2d with an activation, and the fused modules, equal the unfused composition
/// bit for bit (values and gradients) and record one node instead of two.
/// </summary>
[TestClass]
public sealed class FusedEpilogueTests
{
    private static (float[] Output, float[][] Grads, string Dot) Run(Func<Variable, Variable[], Variable> f, Tensor input, params Tensor[] parameters)
    {
        var leaves = parameters.Select(p => new Variable(p.Clone(), requiresGrad: true)).ToArray();
        var y = f(new Variable(input), leaves);
        string dot = y.ToDot();
        F.Sum(y * y).Backward();
        return (y.Value.ToArray(), leaves.Select(l => l.Grad!.ToArray()).ToArray(), dot);
    }

    [TestMethod]
    public void LinearWithRelu_EqualsReluOfLinear()
    {
        var g = new Generator(1);
        var x = Tensor.Randn(g, 5, 7);
        var w = Tensor.Randn(g, 4, 7);
        var b = Tensor.Randn(g, 4);
        var fused = Run((v, p) => F.Linear(v, p[0], p[1], Activation.Relu), x, w, b);
        var plain = Run((v, p) => F.Relu(F.Linear(v, p[0], p[1])), x, w, b);
        CollectionAssert.AreEqual(plain.Output, fused.Output);
        for (int i = 0; i < 2; i++)
        {
            CollectionAssert.AreEqual(plain.Grads[i], fused.Grads[i], $"gradient {i}");
        }
        StringAssert.Contains(fused.Dot, "activation=relu");
        Assert.IsFalse(fused.Dot.Contains("Relu", StringComparison.Ordinal), fused.Dot);
    }

    [TestMethod]
    public void Conv2dWithRelu_EqualsReluOfConv2d()
    {
        var g = new Generator(2);
        var x = Tensor.Randn(g, 3, 2, 9, 9);
        var w = Tensor.Randn(g, 4, 2, 3, 3);
        var b = Tensor.Randn(g, 4);
        var fused = Run((v, p) => F.Conv2d(v, p[0], p[1], padding: 1, activation: Activation.Relu), x, w, b);
        var plain = Run((v, p) => F.Relu(F.Conv2d(v, p[0], p[1], padding: 1)), x, w, b);
        CollectionAssert.AreEqual(plain.Output, fused.Output);
        for (int i = 0; i < 2; i++)
        {
            TestUtil.AssertClose([plain.Grads[i].Length], plain.Grads[i], Tensor.FromArray(fused.Grads[i]), atol: 1e-6, rtol: 1e-6, what: $"gradient {i}");
        }
    }

    [TestMethod]
    public void FusedModules_EqualTheirSequentialTwins_AndNameParametersAsPyTorch()
    {
        var linear = new LinearReLU(6, 5, generator: new Generator(3));
        var twin = new Sequential(new Linear(6, 5, generator: new Generator(3)), new ReLU());
        CollectionAssert.AreEqual(new[] { "0.weight", "0.bias" }, linear.NamedParameters().Select(p => p.Key).ToArray());
        var x = Tensor.Randn(new Generator(4), 3, 6);
        CollectionAssert.AreEqual(twin.Call(x).Value.ToArray(), linear.Call(x).Value.ToArray());
        twin.LoadStateDict(linear.StateDict());

        var conv = new ConvReLU2d(2, 3, 3, padding: 1, generator: new Generator(5));
        var convTwin = new Sequential(new Conv2d(2, 3, 3, padding: 1, generator: new Generator(5)), new ReLU());
        var images = Tensor.Randn(new Generator(6), 2, 2, 6, 6);
        CollectionAssert.AreEqual(convTwin.Call(images).Value.ToArray(), conv.Call(images).Value.ToArray());
        CollectionAssert.AreEqual(new[] { "0.weight", "0.bias" }, conv.NamedParameters().Select(p => p.Key).ToArray());
    }

    [TestMethod]
    public void AHookOnTheFusedModulesLayer_SeesItsOwnOutput()
    {
        var module = new LinearReLU(4, 3, generator: new Generator(7));
        Tensor? seen = null;
        module.Linear.RegisterForwardHook((_, _, y) =>
        {
            seen = y.Value.Clone();
            return null;
        });
        var x = Tensor.Randn(new Generator(8), 2, 4);
        module.Call(x);
        var preActivation = F.Linear(new Variable(x), module.Linear.Weight, module.Linear.Bias).Value.ToArray();
        CollectionAssert.AreEqual(preActivation, seen!.ToArray(), "the hook saw the Linear's output before the ReLU");
    }

    [TestMethod]
    public void AnUnknownActivation_IsRejected()
    {
        var x = new Variable(Tensor.Randn(new Generator(9), 2, 3));
        var w = new Variable(Tensor.Randn(new Generator(10), 4, 3));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => F.Linear(x, w, null, (Activation)7));
    }
}
