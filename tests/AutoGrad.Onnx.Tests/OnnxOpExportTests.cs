using AutoGrad.Nn;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Onnx.Tests;

/// <summary>
/// Every op of <see cref="F"/> that has an ONNX equivalent, exported alone (inside a Module of one's own) and run in
/// ONNX Runtime: its outputs equal AutoGrad's within 1e-5, at the traced batch and, where the op keeps the batch
/// symbolic, at other batch sizes too.
/// </summary>
[TestClass]
[TestCategory("Onnx")]
public sealed class OnnxOpExportTests
{
    private sealed class FunctionModule(Func<Variable, Variable> forward) : Module
    {
        public override Variable Forward(Variable input) => forward(input);
    }

    private static readonly Tensor Constant3x4 = Tensor.Randn(new Generator(99), 3, 4);

    // binary targets for a traced batch of 3 samples of 4, soft and hard
    private static readonly Tensor Targets = Tensor.FromArray(Enumerable.Range(0, 12).Select(i => i % 5 / 4f).ToArray(), 3, 4);

    /// <summary>op name, the op on a batch of the sample shape, the sample shape, whether other batch sizes work too.</summary>
    private static readonly Dictionary<string, (Func<Variable, Variable> Op, int[] Shape, bool AnyBatch)> Ops = new()
    {
        ["Add"] = (x => x + new Variable(Tensor.Randn(new Generator(1), 4)), [3, 4], true),
        ["Sub"] = (x => x - F.Exp(x), [3, 4], true),
        ["Mul"] = (x => x * F.Tanh(x), [3, 4], true),
        ["Div"] = (x => x / (F.Abs(x) + 1f), [3, 4], true),
        ["Neg"] = (x => -x, [5], true),
        ["AddScalar"] = (x => x + 2.5f, [5], true),
        ["RSubScalar"] = (x => F.Sub(2.5f, x), [5], true),
        ["MulScalar"] = (x => x * -3f, [5], true),
        ["DivScalar"] = (x => x / 4f, [5], true),
        ["RDivScalar"] = (x => F.Div(5f, F.Abs(x) + 1f), [5], true),
        ["Exp"] = (F.Exp, [5], true),
        ["Log"] = (x => F.Log(F.Abs(x) + 0.5f), [5], true),
        ["Pow"] = (x => F.Pow(F.Abs(x), 1.5f), [5], true),
        ["Sqrt"] = (x => F.Sqrt(F.Abs(x)), [5], true),
        ["Abs"] = (F.Abs, [5], true),
        ["Clamp"] = (x => F.Clamp(x, -0.5f, 0.7f), [7], true),
        ["ClampBelow"] = (x => F.Clamp(x, min: -0.2f), [7], true),
        ["ClampAbove"] = (x => F.Clamp(x, max: 0.3f), [7], true),
        ["Relu"] = (F.Relu, [7], true),
        ["LeakyRelu"] = (x => F.LeakyRelu(x, 0.1f), [7], true),
        ["Tanh"] = (F.Tanh, [7], true),
        ["Sigmoid"] = (F.Sigmoid, [7], true),
        ["Gelu"] = (x => F.Gelu(x), [7], true),
        ["GeluTanh"] = (x => F.Gelu(x, GeluApproximation.Tanh), [7], true),
        ["Elu"] = (x => F.Elu(x, 0.7f), [7], true),
        ["Softplus"] = (x => F.Softplus(x), [7], true),
        ["SoftplusBeta"] = (x => F.Softplus(x, beta: 2f), [7], true),
        ["Softmax"] = (x => F.Softmax(x, 1), [3, 4], true),
        ["LogSoftmax"] = (x => F.LogSoftmax(x, -1), [3, 4], true),
        ["MatMul"] = (x => F.MatMul(x, new Variable(Constant3x4.Reshape(4, 3))), [2, 4], true),
        ["Linear"] = (x => F.Linear(x, new Variable(Constant3x4), new Variable(Tensor.Ones(3))), [4], true),
        ["LinearRelu"] = (x => F.Linear(x, new Variable(Constant3x4), null, Activation.Relu), [4], true),
        ["Sum"] = (x => F.Sum(x, 1), [3, 4], true),
        ["SumKeepDim"] = (x => F.Sum(x, [1, 2], keepDim: true), [3, 4], true),
        ["SumAll"] = (x => F.Sum(x), [3, 4], false),
        ["Mean"] = (x => F.Mean(x, -1), [3, 4], true),
        ["Max"] = (x => F.Max(x, 1), [3, 4], true),
        ["MinKeepDim"] = (x => F.Min(x, 2, keepDim: true), [3, 4], true),
        ["Reshape"] = (x => F.Reshape(x, -1, 2, 6), [3, 4], true),
        ["Flatten"] = (x => F.Flatten(x), [3, 4], true),
        ["Transpose"] = (x => F.Transpose(x, 1, 2), [3, 4], true),
        ["Permute"] = (x => F.Permute(x, 2, 0, 1), [3, 4], false),
        ["Squeeze"] = (x => F.Squeeze(x, 1), [1, 4], true),
        ["Unsqueeze"] = (x => F.Unsqueeze(x, 1), [3, 4], true),
        ["Concat"] = (x => F.Concat([x, x * 2f], 1), [3, 4], true),
        ["Stack"] = (x => F.Stack([x, F.Exp(x)], 1), [3, 4], true),
        ["Slice"] = (x => F.Slice(x, 2, 1, 4), [3, 4], true),
        ["SliceStep"] = (x => F.Slice(x, 1, 0, 5, 2), [6, 2], true),
        ["Split"] = (x => F.Split(x, 2, 1)[1], [5, 2], true),
        ["Chunk"] = (x => F.Chunk(x, 3, -1)[2], [2, 6], true),
        ["IndexSelect"] = (x => F.IndexSelect(x, 1, [2, 0, 2]), [3, 4], true),
        ["Gather"] = (x => F.Gather(x, 1, Tensor.FromArray([2, 0, 1, 1, 0, 2], [2, 3])), [3], false),
        ["ScatterAdd"] = (x => F.ScatterAdd(x, 1, Tensor.FromArray([0, 0, 2, 1, 2, 2], [2, 3]), x * 2f), [3], false),
        ["Where"] = (x => F.Where(Tensor.FromArray([1, 0, 0, 1], [4]), x, F.Exp(x)), [3, 4], true),
        ["MaskedFill"] = (x => F.MaskedFill(x, Tensor.FromArray([0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 0, 0], [3, 4]), -1e9f), [3, 4], true),
        ["Eq"] = (x => F.Eq(F.Relu(x), new Variable(Tensor.Scalar(0f))), [3, 4], true),
        ["Ne"] = (x => F.Ne(F.Relu(x), new Variable(Tensor.Scalar(0f))), [3, 4], true),
        ["Lt"] = (x => F.Lt(x, F.Tanh(x)), [3, 4], true),
        ["Le"] = (x => F.Le(x, new Variable(Tensor.FromArray([0.5f, -0.5f, 0f, 1f], [4]))), [3, 4], true),
        ["Gt"] = (x => F.Gt(x, new Variable(Tensor.Scalar(0.25f))), [3, 4], true),
        ["Ge"] = (x => F.Ge(F.Exp(x), x + 1f), [3, 4], true),
        ["WhereOfComparison"] = (x => F.Where(F.Gt(x, new Variable(Tensor.Scalar(0f))), x, x * 0.1f), [3, 4], true),
        ["MaskedFillOfComparison"] = (x => F.MaskedFill(x, F.Lt(x, new Variable(Tensor.Scalar(-0.5f))), -1f), [3, 4], true),
        ["Tril"] = (x => F.Tril(x), [4, 4], true),
        ["Triu"] = (x => F.Triu(x, 1), [4, 4], true),
        ["Cumsum"] = (x => F.Cumsum(x, 1), [3, 4], true),
        ["Expand"] = (x => F.Expand(x, 2, 3, 5, 4), [1, 4], false),
        ["ExpandKeepsBatch"] = (x => F.Expand(x, -1, 5, 4), [1, 4], true),
        ["Repeat"] = (x => F.Repeat(x, 1, 2, 1), [3, 4], true),
        ["Conv2d"] = (x => F.Conv2d(x, new Variable(Tensor.Randn(new Generator(2), 4, 2, 3, 3)), null, 2, 1, 1), [2, 7, 7], true),
        ["MaxPool2d"] = (x => F.MaxPool2d(x, 3, 2, 1), [2, 7, 7], true),
        ["AvgPool2d"] = (x => F.AvgPool2d(x, 2), [2, 6, 6], true),
        ["AdaptiveAvgPool2d"] = (x => F.AdaptiveAvgPool2d(x, 1), [2, 6, 6], true),
        ["UpsampleNearest"] = (x => F.UpsampleNearest(x, 2), [2, 3, 3], true),
        ["LayerNorm"] = (x => F.LayerNorm(x, [4]), [3, 4], true),
        ["GroupNorm"] = (x => F.GroupNorm(x, 2), [4, 3, 3], true),
        ["BatchNormEval"] = (x => F.BatchNorm(x, Tensor.FromArray([0.1f, -0.2f], [2]), Tensor.FromArray([1.5f, 0.5f], [2]), training: false), [2, 3], true),
        ["DropoutEval"] = (x => F.Relu(F.Dropout(x, 0.5f, training: false)), [5], true),
        ["CrossEntropy"] = (x => F.CrossEntropy(x, [0, 3, 1], Reduction.None), [4], false),
        ["CrossEntropySmoothedIgnoring"] = (x => F.CrossEntropy(x, [0, -100, 1], Reduction.Mean, labelSmoothing: 0.1f), [4], false),
        ["NllLoss"] = (x => F.NllLoss(F.LogSoftmax(x, 1), [2, 2, 0], Reduction.Sum), [4], false),
        ["BinaryCrossEntropy"] = (x => F.BinaryCrossEntropy(F.Sigmoid(x), new Variable(Targets), Reduction.None), [4], false),
        ["BinaryCrossEntropyWithLogits"] = (x => F.BinaryCrossEntropyWithLogits(x * 4f, new Variable(Targets)), [4], false),
        ["Attention"] = (x => F.ScaledDotProductAttention(x, x * 0.5f, F.Tanh(x), isCausal: true), [2, 5, 4], true),
    };

    public static IEnumerable<object[]> OpNames => Ops.Keys.Select(k => new object[] { k });

    [TestMethod]
    [DynamicData(nameof(OpNames))]
    public void ExportedOpMatchesAutoGrad(string name)
    {
        var (op, shape, anyBatch) = Ops[name];
        var model = new FunctionModule(op);
        var g = new Generator(name.GetHashCode(StringComparison.Ordinal));
        var onnx = OnnxExporter.Export(model, Tensor.Randn(g, [3, .. shape]), dynamicBatch: anyBatch);
        foreach (int batch in anyBatch ? new[] { 3, 1, 5 } : [3])
        {
            AssertSame(model, onnx, Tensor.Randn(g, [batch, .. shape]), $"{name}, batch {batch}");
        }
    }

    [TestMethod]
    public void EmbeddingReadsItsIndicesFromTheGraphInput()
    {
        var g = new Generator(7);
        var model = new Sequential(new Embedding(10, 4, paddingIdx: 0, generator: g), new Flatten(), new Linear(12, 2, generator: g));
        var onnx = OnnxExporter.Export(model, Indices(g, 2, 3));
        foreach (int batch in new[] { 2, 1, 6 })
        {
            AssertSame(model, onnx, Indices(g, batch, 3), $"batch {batch}");
        }
    }

    private static Tensor Indices(Generator g, int batch, int length)
        => Tensor.FromArray(Enumerable.Range(0, batch * length).Select(_ => (float)g.NextInt(10)).ToArray(), [batch, length]);

    [TestMethod]
    public void TransformerBlockAsAModuleOfOnesOwn()
    {
        var g = new Generator(8);
        var block = new Block(g);
        var onnx = OnnxExporter.Export(block, Tensor.Randn(g, 2, 6, 8));
        foreach (int batch in new[] { 2, 1, 4 })
        {
            AssertSame(block, onnx, Tensor.Randn(g, batch, 6, 8), $"batch {batch}");
        }
    }

    private sealed class Block : Module
    {
        private readonly LayerNorm _norm1 = new(8), _norm2 = new(8);
        private readonly MultiheadAttention _attention;
        private readonly Linear _up, _down;

        public Block(Generator g)
        {
            _attention = new MultiheadAttention(8, 2, batchFirst: true, generator: g);
            (_up, _down) = (new Linear(8, 16, generator: g), new Linear(16, 8, generator: g));
            RegisterModule("norm1", _norm1);
            RegisterModule("attention", _attention);
            RegisterModule("norm2", _norm2);
            RegisterModule("up", _up);
            RegisterModule("down", _down);
        }

        public override Variable Forward(Variable input)
        {
            var h = _norm1.Call(input);
            var x = input + _attention.Forward(h, h, h).Output;
            return x + _down.Call(F.Gelu(_up.Call(_norm2.Call(x))));
        }
    }

    [TestMethod]
    public void RecurrentLayersAtTheTracedBatch()
    {
        var g = new Generator(9);
        foreach (Module layer in new Module[] { new Lstm(3, 4, numLayers: 2, batchFirst: true, generator: g), new Gru(3, 4, batchFirst: true, generator: g), new Rnn(3, 4, batchFirst: true, generator: g) })
        {
            var x = Tensor.Randn(g, 2, 5, 3);
            AssertSame(layer, OnnxExporter.Export(layer, x, dynamicBatch: false), x, layer.GetType().Name);
        }
    }

    /// <summary>
    /// Every model these tests export, checked by ONNX's own checker (onnx.checker, full check, run by hand with
    /// tests/reference/check_onnx_exports.py): the fixture keeps its verdict per model under the hash of the model's
    /// structure (nodes, attributes, initializer names, types and shapes; not the weights), which must be current.
    /// </summary>
    [TestMethod]
    public void ExportedModelsPassTheOnnxChecker()
    {
        string? dump = Environment.GetEnvironmentVariable("AUTOGRAD_ONNX_DUMP");
        using var fixture = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "onnx_checker.json")));
        var verdicts = fixture.RootElement.GetProperty("models");
        var stale = new List<string>();
        foreach (var (name, onnx) in AllExports())
        {
            string digest = StructureHash(onnx);
            if (dump is not null)
            {
                Directory.CreateDirectory(dump);
                File.WriteAllBytes(Path.Combine(dump, $"{name}.{digest}.onnx"), onnx);
            }
            if (!verdicts.TryGetProperty(name, out var entry) || entry.GetProperty("structure_sha256").GetString() != digest)
            {
                stale.Add(name);
                continue;
            }
            Assert.AreEqual("ok", entry.GetProperty("verdict").GetString(), $"onnx.checker on {name}");
        }
        Assert.AreEqual(0, stale.Count, $"no current checker verdict for {string.Join(", ", stale)}: run the two commands in tests/reference/check_onnx_exports.py");
    }

    private static IEnumerable<(string Name, byte[] Onnx)> AllExports()
    {
        foreach (var (name, (op, shape, anyBatch)) in Ops)
        {
            yield return (name, OnnxExporter.Export(new FunctionModule(op), Tensor.Randn(new Generator(1), [3, .. shape]), dynamicBatch: anyBatch));
        }
        var g = new Generator(7);
        yield return ("Embedding", OnnxExporter.Export(new Sequential(new Embedding(10, 4, paddingIdx: 0, generator: g), new Flatten(), new Linear(12, 2, generator: g)), Indices(g, 2, 3)));
        yield return ("TransformerBlock", OnnxExporter.Export(new Block(g), Tensor.Randn(g, 2, 6, 8)));
        yield return ("Lstm", OnnxExporter.Export(new Lstm(3, 4, numLayers: 2, batchFirst: true, generator: g), Tensor.Randn(g, 2, 5, 3), dynamicBatch: false));
        yield return ("Gru", OnnxExporter.Export(new Gru(3, 4, batchFirst: true, generator: g), Tensor.Randn(g, 2, 5, 3), dynamicBatch: false));
    }

    // SHA-256 of the model with every initializer's data removed: what the checker judges, not the weights.
    private static string StructureHash(byte[] onnx)
    {
        var model = Protos.ModelProto.Parser.ParseFrom(onnx);
        foreach (var initializer in model.Graph.Initializer)
        {
            initializer.RawData = Google.Protobuf.ByteString.Empty;
        }
        model.ProducerVersion = "";
        return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(model.ToByteArray()))[..16].ToLowerInvariant();
    }

    private static void AssertSame(Module model, byte[] onnx, Tensor x, string what)
    {
        float[] expected;
        int[] expectedShape;
        using (GradMode.NoGrad())
        {
            var y = model.Call(x);
            (expected, expectedShape) = (y.Value.ToArray(), y.Shape.ToArray());
        }
        using var session = new InferenceSession(onnx);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(x.ToArray(), x.Shape.ToArray()))]);
        var output = results.Single().AsTensor<float>();
        CollectionAssert.AreEqual(expectedShape, output.Dimensions.ToArray(), $"{what}: output shape");
        var actual = output.ToArray();
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.AreEqual(expected[i], actual[i], 1e-5 + 1e-5 * Math.Abs(expected[i]), $"{what}: element {i}");
        }
    }
}
