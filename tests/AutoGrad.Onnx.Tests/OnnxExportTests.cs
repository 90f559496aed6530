using AutoGrad.Nn;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Onnx.Tests;

/// <summary>Exported models run in ONNX Runtime and give AutoGrad's outputs on random batches of several sizes.</summary>
[TestClass]
[TestCategory("Onnx")]
public sealed class OnnxExportTests
{
    private static float[] RunInOnnxRuntime(byte[] model, Tensor input)
    {
        using var session = new InferenceSession(model);
        var tensor = new DenseTensor<float>(input.ToArray(), input.Shape.ToArray());
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", tensor)]);
        return results.Single().AsEnumerable<float>().ToArray();
    }

    private static void AssertSameOutputs(Module model, int[] sampleShape, long seed)
    {
        var generator = new Generator(seed);
        var model0 = OnnxExporter.Export(model, Tensor.Randn(generator, [2, .. sampleShape]));
        foreach (int batch in new[] { 1, 4, 9 })
        {
            var x = Tensor.Randn(generator, [batch, .. sampleShape]);
            model.Eval();
            float[] expected;
            using (GradMode.NoGrad())
            {
                expected = model.Call(x).Value.ToArray();
            }
            var actual = RunInOnnxRuntime(model0, x);
            Assert.AreEqual(expected.Length, actual.Length, $"batch {batch}: output length");
            for (int i = 0; i < expected.Length; i++)
            {
                Assert.AreEqual(expected[i], actual[i], 1e-5 + 1e-5 * Math.Abs(expected[i]), $"batch {batch}, element {i}");
            }
        }
    }

    [TestMethod]
    public void MlpWithEveryActivation()
    {
        var g = new Generator(1);
        var model = new Sequential(
            new Flatten(),
            new Linear(12, 16, generator: g), new ReLU(),
            new Linear(16, 16, generator: g), new LeakyReLU(0.2f),
            new Linear(16, 16, generator: g), new Tanh(),
            new Linear(16, 16, generator: g), new Sigmoid(),
            new Linear(16, 16, generator: g), new GELU(),
            new Linear(16, 16, generator: g), new GELU(GeluApproximation.Tanh), new Dropout(0.3f),
            new Linear(16, 5, generator: g), new LogSoftmax());
        AssertSameOutputs(model, [3, 2, 2], 10);
        AssertSameOutputs(new Sequential(new Linear(7, 4, generator: g), new Softmax(1)), [7], 11);
    }

    [TestMethod]
    public void LeNet()
    {
        var g = new Generator(2);
        var model = new Sequential(
            new Conv2d(1, 6, 5, padding: 2, generator: g), new ReLU(), new MaxPool2d(2),
            new Conv2d(6, 16, 5, generator: g), new ReLU(), new MaxPool2d(2), new Flatten(),
            new Linear(400, 120, generator: g), new ReLU(), new Linear(120, 84, generator: g), new ReLU(), new Linear(84, 10, generator: g));
        AssertSameOutputs(model, [1, 28, 28], 20);
    }

    [TestMethod]
    public void ConvolutionAndPoolingOptions()
    {
        var g = new Generator(3);
        var model = new Sequential(
            new Conv2d(2, 4, (3, 2), (2, 1), (1, 0), (2, 1), generator: g), new ReLU(),
            new AvgPool2d(3, 2, 1), new MaxPool2d(2, 1, 1), new Flatten(), new Linear(4 * 4 * 5, 3, bias: false, generator: g));
        AssertSameOutputs(model, [2, 13, 9], 30);
    }

    [TestMethod]
    public void TransposedConvolutionOptions()
    {
        var g = new Generator(4);
        var model = new Sequential(
            new ConvTranspose2d(3, 4, 3, stride: 2, padding: 1, outputPadding: 1, generator: g), new ReLU(),
            new ConvTranspose2d(4, 2, (3, 2), (1, 2), (0, 1), (0, 1), 1, false, (2, 1), generator: g), new Flatten(),
            new Linear(2 * 12 * 19, 3, generator: g));
        AssertSameOutputs(model, [3, 4, 5], 40);
    }

    /// <summary>A user's own op: it has no ONNX equivalent.</summary>
    private sealed class Doubling : CustomFunction
    {
        protected override Tensor Forward(FunctionContext ctx, Tensor[] inputs)
        {
            var doubled = inputs[0].Clone();
            foreach (ref float v in doubled.AsSpan())
            {
                v *= 2f;
            }
            return doubled;
        }

        protected override Variable?[] Backward(FunctionContext ctx, Variable gradOutput) => [gradOutput * 2f];
    }

    private sealed class UsesCustomFunction : Module
    {
        public override Variable Forward(Variable input) => new Doubling().Apply(input);
    }

    [TestMethod]
    public void Normalizations()
    {
        var g = new Generator(5);
        var bn2d = new BatchNorm2d(4);
        var model = new Sequential(
            new Conv2d(2, 4, 3, padding: 1, generator: g), bn2d, new ReLU(), new GroupNorm(2, 4), new GroupNorm(4, 4, affine: false),
            new Flatten(), new LayerNorm(64), new Linear(64, 6, generator: g), new BatchNorm1d(6, affine: false), new LayerNorm(6, elementwiseAffine: false));
        foreach (var p in model.Parameters())
        {
            Tensor.Randn(g, [.. p.Shape]).AsReadOnlySpan().CopyTo(p.Value.AsSpan()); // affine weights that are not ones
        }
        using (GradMode.NoGrad())
        {
            for (int step = 0; step < 3; step++)
            {
                model.Call(Tensor.Randn(g, 5, 2, 4, 4)); // running statistics that are not the initial zeros and ones
            }
        }
        AssertSameOutputs(model, [2, 4, 4], 50);
        // a scan of the serialized model for the UTF-8 names is enough to find an initializer
        var text = System.Text.Encoding.UTF8.GetString(OnnxExporter.Export(model, Tensor.Zeros(2, 2, 4, 4)));
        Assert.IsTrue(text.Contains("1.running_mean") && text.Contains("1.running_mean") && text.Contains("1.running_var"), "running statistics under their buffer names");
        AssertSameOutputs(new Sequential(new LayerNorm([3, 2])), [4, 3, 2], 51);
    }

    [TestMethod]
    public void BatchNormInTrainingModeIsRefused()
    {
        var e = Assert.ThrowsExactly<NotSupportedException>(() => OnnxExporter.Export(new AlwaysTraining(), Tensor.Zeros(2, 3)));
        StringAssert.Contains(e.Message, "BatchNorm in training mode");
    }

    private sealed class AlwaysTraining : Module
    {
        public override Variable Forward(Variable input) => F.BatchNorm(input, null, null, training: true);
    }

    [TestMethod]
    public void UnsupportedOpIsNamed()
    {
        var e = Assert.ThrowsExactly<NotSupportedException>(() => OnnxExporter.Export(new Sequential(new Linear(3, 3), new UsesCustomFunction()), Tensor.Zeros(2, 3)));
        StringAssert.Contains(e.Message, "op Doubling (node output, output shape [2, 3])");
        StringAssert.Contains(e.Message, "custom function");
        StringAssert.Contains(e.Message, "Supported ops");
    }

    [TestMethod]
    public void ExportWritesTheFileAtomically()
    {
        string folder = Path.Combine(Path.GetTempPath(), "autograd-onnx-" + Guid.NewGuid().ToString("N"));
        string path = Path.Combine(folder, "model.onnx");
        var model = new Sequential(new Linear(3, 2));
        OnnxExporter.Export(model, Tensor.Zeros(1, 3), path);
        using var session = new InferenceSession(path);
        Assert.AreEqual("input", session.InputMetadata.Keys.Single());
        Assert.AreEqual(-1, session.InputMetadata["input"].Dimensions[0], "the batch dim is symbolic");
        Assert.AreEqual(1, Directory.GetFiles(folder).Length);
    }
}
