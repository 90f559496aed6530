using System.Text.Json;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Ops;

/// <summary>
/// LeNet-5 built from the functional API, with PyTorch's weights, on a batch of 4: logits, loss and every gradient
/// must equal PyTorch's (fixture: tests/reference/generate_lenet.py).
/// </summary>
[TestClass]
[TestCategory("Parity")]
public sealed class LeNetParityTests
{
    [TestMethod]
    public void ForwardAndBackwardMatchPyTorch()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "lenet.json")));
        var root = document.RootElement;
        var parameters = root.GetProperty("parameters").EnumerateObject()
            .ToDictionary(p => p.Name, p => new Variable(ParityFixture.ReadTensor(p.Value), requiresGrad: true));
        var input = new Variable(ParityFixture.ReadTensor(root.GetProperty("input")), requiresGrad: true);
        int[] targets = root.GetProperty("targets").EnumerateArray().Select(t => t.GetInt32()).ToArray();

        Variable P(string name) => parameters[name];
        var h = F.MaxPool2d(F.Conv2d(input, P("0.weight"), P("0.bias"), padding: 2).Relu(), 2);
        h = F.MaxPool2d(F.Conv2d(h, P("3.weight"), P("3.bias")).Relu(), 2);
        h = F.Flatten(h);
        h = (h.MatMul(P("7.weight").Transpose(0, 1)) + P("7.bias")).Relu();
        h = (h.MatMul(P("9.weight").Transpose(0, 1)) + P("9.bias")).Relu();
        var logits = h.MatMul(P("11.weight").Transpose(0, 1)) + P("11.bias");
        var loss = F.CrossEntropy(logits, targets);
        loss.Backward();

        TestUtil.AssertClose(ParityFixture.ReadTensor(root.GetProperty("logits")), logits.Value, ParityRunner.Atol, ParityRunner.Rtol, "logits");
        Assert.AreEqual(root.GetProperty("loss").GetDouble(), loss.Item(), 1e-5 + 1e-4 * Math.Abs(loss.Item()), "loss");
        foreach (var g in root.GetProperty("grads").EnumerateObject())
        {
            TestUtil.AssertClose(ParityFixture.ReadTensor(g.Value), parameters[g.Name].Grad!, ParityRunner.Atol, ParityRunner.Rtol, $"grad of {g.Name}");
        }
        TestUtil.AssertClose(ParityFixture.ReadTensor(root.GetProperty("input_grad")), input.Grad!, ParityRunner.Atol, ParityRunner.Rtol, "input grad");
    }
}
