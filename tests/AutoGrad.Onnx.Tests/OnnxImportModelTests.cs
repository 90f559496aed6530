using System.Text.Json;
using AutoGrad.Optim;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Onnx.Tests;

/// <summary>
/// Files torch.onnx.export wrote (tests/reference/generate_onnx_models.py, PyTorch 1.13, opset 17): an MLP, LeNet, a
/// residual CNN with BatchNorm and a transformer block. Imported, each gives PyTorch's and ONNX Runtime's outputs, has
/// PyTorch's state_dict names, and fine-tunes (3 SGD steps in training mode) along PyTorch's trajectory.
/// </summary>
[TestClass]
[TestCategory("Onnx")]
public sealed class OnnxImportModelTests
{
    private static string FixturePath(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "onnx", name);

    private static readonly Lazy<JsonElement> Models = new(() =>
        JsonDocument.Parse(File.ReadAllText(FixturePath("onnx_models.json"))).RootElement.GetProperty("models"));

    private static JsonElement Model(string name) => Models.Value.GetProperty(name);

    private static Tensor ReadTensor(JsonElement json)
    {
        var shape = json.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
        var data = json.GetProperty("data").EnumerateArray().Select(v => v.ValueKind == JsonValueKind.String ? float.Parse(v.GetString()!) : v.GetSingle()).ToArray();
        return shape.Length == 0 ? Tensor.Scalar(data[0]) : Tensor.FromArray(data, shape);
    }

    private static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double tolerance, string what)
    {
        Assert.AreEqual(expected.Length, actual.Length, $"{what}: length");
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.AreEqual(expected[i], actual[i], tolerance * (1 + Math.Abs(expected[i])), $"{what}: element {i}");
        }
    }

    private static float[] RunInOnnxRuntime(string path, Tensor input)
    {
        using var session = new InferenceSession(path);
        var tensor = new DenseTensor<float>(input.ToArray(), input.Shape.ToArray());
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", tensor)]);
        return results.Single().AsEnumerable<float>().ToArray();
    }

    [TestMethod]
    [DataRow("mlp")]
    [DataRow("lenet")]
    [DataRow("resnet")]
    [DataRow("transformer")]
    public void OutputsEqualPyTorchAndOnnxRuntime(string name)
    {
        var fixture = Model(name);
        string path = FixturePath(fixture.GetProperty("file").GetString()!);
        var module = OnnxImporter.Load(path);
        module.Eval();
        var input = ReadTensor(fixture.GetProperty("input"));
        float[] actual;
        using (GradMode.NoGrad())
        {
            actual = module.Call(input).Value.ToArray();
        }
        AssertClose(ReadTensor(fixture.GetProperty("output")).AsReadOnlySpan(), actual, 1e-5, $"{name} vs PyTorch");
        AssertClose(RunInOnnxRuntime(path, input), actual, 1e-5, $"{name} vs ONNX Runtime");

        // the batch dim is symbolic: one sample alone gives that sample's row
        var first = Tensor.FromArray(input.ToArray()[..(input.Length / input.Shape[0])], [1, .. input.Shape[1..].ToArray()]);
        using (GradMode.NoGrad())
        {
            var single = module.Call(first).Value.ToArray();
            AssertClose(actual.AsSpan(0, single.Length), single, 1e-5, $"{name} batch of one");
        }
    }

    [TestMethod]
    [DataRow("mlp")]
    [DataRow("lenet")]
    [DataRow("resnet")]
    [DataRow("transformer")]
    public void StateDictHasPyTorchsNames(string name)
    {
        var fixture = Model(name);
        var module = OnnxImporter.Load(FixturePath(fixture.GetProperty("file").GetString()!));
        CollectionAssert.AreEqual(
            fixture.GetProperty("state_dict_names").EnumerateArray().Select(n => n.GetString()).ToArray(),
            module.StateDict().Keys.ToArray(), $"{name}: state dict keys");
        CollectionAssert.AreEqual(
            fixture.GetProperty("parameter_names").EnumerateArray().Select(n => n.GetString()).ToArray(),
            module.NamedParameters().Select(p => p.Key).ToArray(), $"{name}: parameter names");
    }

    [TestMethod]
    [DataRow("mlp")]
    [DataRow("lenet")]
    [DataRow("resnet")]
    [DataRow("transformer")]
    public void FineTuningFollowsPyTorch(string name)
    {
        var fixture = Model(name);
        var module = OnnxImporter.Load(FixturePath(fixture.GetProperty("file").GetString()!));
        var input = ReadTensor(fixture.GetProperty("input"));
        var optimizer = new Sgd(module.Parameters(), fixture.GetProperty("lr").GetSingle());
        bool crossEntropy = fixture.GetProperty("loss").GetString() == "cross_entropy";
        var targets = fixture.GetProperty("targets");
        module.Train();
        var expectedLosses = fixture.GetProperty("losses").EnumerateArray().Select(l => l.GetSingle()).ToArray();
        for (int step = 0; step < expectedLosses.Length; step++)
        {
            optimizer.ZeroGrad();
            var output = module.Call(input);
            var loss = crossEntropy
                ? F.CrossEntropy(output, targets.EnumerateArray().Select(t => t.GetInt32()).ToArray())
                : F.MseLoss(output, new Variable(ReadTensor(targets)));
            float value = loss.Item();
            loss.Backward();
            Assert.IsTrue(module.Parameters().All(p => p.Grad is not null), $"{name}: every imported parameter gets a gradient");
            optimizer.Step();
            Assert.AreEqual(expectedLosses[step], value, 1e-5 * (1 + Math.Abs(expectedLosses[step])), $"{name}: loss of step {step}");
        }
        var state = module.StateDict();
        foreach (var entry in fixture.GetProperty("final_state").EnumerateObject())
        {
            AssertClose(ReadTensor(entry.Value).AsReadOnlySpan(), state[entry.Name].AsReadOnlySpan(), 1e-4, $"{name}: {entry.Name} after fine-tuning");
        }
        foreach (var entry in fixture.GetProperty("final_digest").EnumerateObject())
        {
            double sum = 0;
            foreach (float v in state[entry.Name].AsReadOnlySpan())
            {
                sum += v;
            }
            double expected = entry.Value.GetProperty("sum").GetDouble(), scale = entry.Value.GetProperty("abs_sum").GetDouble();
            Assert.AreEqual(expected, sum, 1e-5 * (1 + scale), $"{name}: sum of {entry.Name} after fine-tuning");
        }
        module.Eval();
        using (GradMode.NoGrad())
        {
            AssertClose(ReadTensor(fixture.GetProperty("tuned_output")).AsReadOnlySpan(), module.Call(input).Value.ToArray(), 1e-4, $"{name}: output after fine-tuning");
        }
    }
}
