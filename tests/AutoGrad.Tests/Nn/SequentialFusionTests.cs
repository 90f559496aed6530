using AutoGrad.Nn;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Nn;

/// <summary>
/// Sequential runs Linear/Conv2d + ReLU, Conv2d + ReLU + MaxPool2d(2) and ReLU + MaxPool2d as one node; results must
/// equal the unfused functional composition.
/// </summary>
[TestClass]
public sealed class SequentialFusionTests
{
    private static Sequential Model(Generator g) => new(
        new Conv2d(1, 4, 3, padding: 1, generator: g), new ReLU(), new MaxPool2d(2), new Flatten(),
        new Linear(4 * 4 * 4, 16, generator: g), new ReLU(), new Linear(16, 3, generator: g));

    [TestMethod]
    public void FusedSequential_EqualsTheFunctionalComposition()
    {
        var model = Model(new Generator(21));
        var conv = (Conv2d)model[0];
        var fc1 = (AutoGrad.Nn.Linear)model[4];
        var fc2 = (AutoGrad.Nn.Linear)model[6];
        var images = Tensor.Randn(new Generator(22), 10, 1, 8, 8);
        int[] labels = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0];

        var fused = model.Call(images);
        F.CrossEntropy(fused, labels).Backward();
        var fusedGrads = model.Parameters().Select(p => p.Grad!.ToArray()).ToList();
        foreach (var p in model.Parameters())
        {
            p.Grad = null;
        }

        var x = new Variable(images);
        var h = F.Relu(F.Conv2d(x, conv.Weight, conv.Bias, 1, 1));
        h = F.Flatten(F.MaxPool2d(h, 2));
        var plain = F.Linear(F.Relu(F.Linear(h, fc1.Weight, fc1.Bias)), fc2.Weight, fc2.Bias);
        F.CrossEntropy(plain, labels).Backward();

        CollectionAssert.AreEqual(plain.Value.ToArray(), fused.Value.ToArray(), "outputs are bitwise equal");
        var plainGrads = model.Parameters().Select(p => p.Grad!.ToArray()).ToList();
        for (int i = 0; i < plainGrads.Count; i++)
        {
            TestUtil.AssertClose([plainGrads[i].Length], plainGrads[i], Tensor.FromArray(fusedGrads[i]), atol: 1e-7, rtol: 1e-6, what: $"parameter {i}");
        }
    }

    [TestMethod]
    public void FusedNodes_ShowTheirActivation_AndReplaceTheReluNodes()
    {
        var model = Model(new Generator(23));
        var output = model.Call(Tensor.Randn(new Generator(24), 2, 1, 8, 8));
        string dot = output.ToDot();
        StringAssert.Contains(dot, "activation=relu");
        Assert.IsFalse(dot.Contains("Relu", StringComparison.Ordinal), dot);
    }

    [TestMethod]
    public void HookOnTheRelu_KeepsItAsItsOwnLayer()
    {
        var model = Model(new Generator(25));
        int calls = 0;
        model[1].RegisterForwardHook((_, _, y) =>
        {
            calls++;
            Assert.IsTrue(y.Value.AsReadOnlySpan().ToArray().All(v => v >= 0));
            return null;
        });
        var output = model.Call(Tensor.Randn(new Generator(26), 2, 1, 8, 8));
        Assert.AreEqual(1, calls);
        StringAssert.Contains(output.ToDot(), "Relu");
    }

    [TestMethod]
    [DataRow(true, 3)]
    [DataRow(false, 16)] // no bias; sixteen channels take the channel-lane weight gradient
    public void ConvReluMaxPool_RunAsOneNode_WithTheUnfusedResults(bool bias, int channels)
    {
        // a bias of -0.5 leaves some windows entirely at or below zero (the mask must stop their gradient as ReLU does),
        // and a 7x7 output leaves a last row and column outside every window (their gradient is zero)
        var conv = new Conv2d(2, channels, 3, padding: 1, bias: bias, generator: new Generator(27));
        conv.Bias?.Value.AsSpan().Fill(-0.5f);
        var model = new Sequential(conv, new ReLU(), new MaxPool2d(2));
        var images = Tensor.Randn(new Generator(28), 10, 2, 7, 7); // two groups of samples in backward
        var upstream = Tensor.Randn(new Generator(29), 10, channels, 3, 3);

        var fused = model.Call(images);
        string dot = fused.ToDot();
        if (DirectConvolutionApplies)
        {
            StringAssert.Contains(dot, "maxPool2x2After=true");
            Assert.IsFalse(dot.Contains("MaxPool2d", StringComparison.Ordinal), dot);
        }
        Assert.AreEqual(1, dot.Split("activation=relu").Length - 1, dot);
        Assert.IsFalse(dot.Contains("Relu", StringComparison.Ordinal), dot);
        fused.Backward(upstream);
        var fusedGrads = model.Parameters().Select(p => p.Grad!.ToArray()).ToList();
        foreach (var p in model.Parameters())
        {
            p.Grad = null;
        }

        var plain = F.MaxPool2d(F.Relu(F.Conv2d(new Variable(images), conv.Weight, conv.Bias, 1, 1)), 2);
        plain.Backward(upstream);

        CollectionAssert.AreEqual(plain.Value.ToArray(), fused.Value.ToArray(), "outputs are bitwise equal");
        Assert.IsTrue(plain.Value.ToArray().Count(v => v == 0) > 3, "some windows are entirely at or below zero");
        var plainGrads = model.Parameters().Select(p => p.Grad!.ToArray()).ToList();
        Assert.AreEqual(bias ? 2 : 1, plainGrads.Count);
        for (int i = 0; i < plainGrads.Count; i++)
        {
            CollectionAssert.AreEqual(plainGrads[i], fusedGrads[i], $"parameter {i}: the same gradient reaches the convolution");
        }
    }

    [TestMethod]
    public void ReluBeforeMaxPool_RunsInThePoolingNode_WithTheUnfusedResults()
    {
        // without a convolution in front (or with one the fused node does not cover), ReLU runs inside the pooling
        var model = new Sequential(new ReLU(), new MaxPool2d(2));
        var values = Tensor.Randn(new Generator(30), 3, 2, 6, 5);
        values.AsSpan()[..12].Fill(-1f); // the first windows lie entirely below zero
        var upstream = Tensor.Randn(new Generator(31), 3, 2, 3, 2);

        var x = new Variable(values, requiresGrad: true);
        var fused = model.Call(x);
        string dot = fused.ToDot();
        StringAssert.Contains(dot, "activation=relu");
        Assert.IsFalse(dot.Contains("Relu", StringComparison.Ordinal), dot);
        fused.Backward(upstream);

        var y = new Variable(values, requiresGrad: true);
        var plain = F.MaxPool2d(F.Relu(y), 2);
        plain.Backward(upstream);

        CollectionAssert.AreEqual(plain.Value.ToArray(), fused.Value.ToArray(), "outputs are bitwise equal");
        CollectionAssert.AreEqual(y.Grad!.ToArray(), x.Grad!.ToArray(), "input gradients are bitwise equal");
        Assert.AreEqual(0f, x.Grad!.ToArray()[..12].Sum(MathF.Abs), "no gradient through windows below zero");
    }

    private static bool DirectConvolutionApplies => System.Runtime.Intrinsics.X86.Avx512F.IsSupported && System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated;
}
