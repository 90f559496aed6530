using AutoGrad.Nn;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Onnx.Tests;

/// <summary>AutoGrad's own exports (opset 17) import back: same outputs, every parameter under its name with its values.</summary>
[TestClass]
[TestCategory("Onnx")]
public sealed class OnnxRoundTripTests
{
    private static void AssertRoundTrip(Module model, int[] sampleShape, long seed)
    {
        var generator = new Generator(seed);
        var imported = OnnxImporter.Load(OnnxExporter.Export(model, Tensor.Randn(generator, [2, .. sampleShape])));
        Assert.AreEqual(OnnxExporter.OpsetVersion, imported.Opset);
        var state = imported.StateDict();
        foreach (var (name, parameter) in model.NamedParameters())
        {
            Assert.IsTrue(state.ContainsKey(name), $"parameter '{name}' is missing; imported: {string.Join(", ", state.Keys)}");
            CollectionAssert.AreEqual(parameter.Value.ToArray(), state[name].ToArray(), $"values of '{name}'");
        }
        model.Eval();
        imported.Eval();
        foreach (int batch in new[] { 1, 3 })
        {
            var x = Tensor.Randn(generator, [batch, .. sampleShape]);
            float[] expected, actual;
            using (GradMode.NoGrad())
            {
                expected = model.Call(x).Value.ToArray();
                actual = imported.Call(x).Value.ToArray();
            }
            Assert.AreEqual(expected.Length, actual.Length, $"batch {batch}: output length");
            for (int i = 0; i < expected.Length; i++)
            {
                Assert.AreEqual(expected[i], actual[i], 1e-5 + 1e-5 * Math.Abs(expected[i]), $"batch {batch}, element {i}");
            }
        }
    }

    private sealed class Pointwise(Func<Variable, Variable> function) : Module
    {
        public override Variable Forward(Variable input) => function(input);
    }

    [TestMethod]
    public void MlpWithEveryActivation()
    {
        var g = new Generator(1);
        var model = new Sequential(
            new Flatten(),
            new Linear(12, 16, generator: g), new ReLU(), new Linear(16, 16, generator: g), new LeakyReLU(0.2f),
            new Linear(16, 16, generator: g), new Tanh(), new Linear(16, 16, generator: g), new Sigmoid(),
            new Linear(16, 16, generator: g), new GELU(), new Linear(16, 16, generator: g), new GELU(GeluApproximation.Tanh), new Dropout(0.3f),
            new Linear(16, 16, generator: g), new Pointwise(x => F.Elu(x, 0.7f)), new Linear(16, 5, generator: g), new LogSoftmax());
        AssertRoundTrip(model, [3, 2, 2], 10);
        AssertRoundTrip(new Sequential(new Linear(7, 4, generator: g), new Pointwise(x => F.Softplus(x)), new Softmax(1)), [7], 11);
    }

    [TestMethod]
    public void ConvolutionsAndPooling()
    {
        var g = new Generator(3);
        AssertRoundTrip(new Sequential(
            new Conv2d(1, 6, 5, padding: 2, generator: g), new ReLU(), new MaxPool2d(2),
            new Conv2d(6, 4, (3, 2), (2, 1), (1, 0), (2, 1), generator: g), new ReLU(),
            new AvgPool2d(3, 2, 1), new MaxPool2d(2, 1, 1), new Flatten(), new Linear(4 * 3 * 5, 3, bias: false, generator: g)), [1, 20, 16], 30);
        AssertRoundTrip(new Sequential(
            new ConvTranspose2d(3, 4, 3, stride: 2, padding: 1, outputPadding: 1, generator: g), new ReLU(),
            new ConvTranspose2d(4, 2, (3, 2), (1, 2), (0, 1), (0, 1), 1, false, (2, 1), generator: g), new Flatten(),
            new Linear(2 * 12 * 19, 3, generator: g)), [3, 4, 5], 40);
    }

    [TestMethod]
    public void Normalizations()
    {
        var g = new Generator(5);
        var model = new Sequential(
            new Conv2d(2, 4, 3, padding: 1, generator: g), new BatchNorm2d(4), new ReLU(), new GroupNorm(2, 4), new GroupNorm(4, 4, affine: false),
            new Flatten(), new LayerNorm(64), new Linear(64, 6, generator: g), new BatchNorm1d(6, affine: false), new LayerNorm(6, elementwiseAffine: false));
        foreach (var p in model.Parameters())
        {
            Tensor.Randn(g, [.. p.Shape]).AsReadOnlySpan().CopyTo(p.Value.AsSpan());
        }
        using (GradMode.NoGrad())
        {
            for (int step = 0; step < 3; step++)
            {
                model.Call(Tensor.Randn(g, 5, 2, 4, 4)); // running statistics that are not the initial zeros and ones
            }
        }
        AssertRoundTrip(model, [2, 4, 4], 50);
    }
}
