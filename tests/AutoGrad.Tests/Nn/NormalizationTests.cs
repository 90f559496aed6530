using System.Text.Json;
using AutoGrad.Nn;
using AutoGrad.Tests.Ops;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Nn;

/// <summary>
/// The normalization modules: BatchNorm trained a few steps against PyTorch (fixture: tests/reference/generate_norm.py,
/// its "modules"), PyTorch's state-dict names loading, buffers, in-place updates and the error messages.
/// </summary>
[TestClass]
[TestCategory("Parity")]
public sealed class NormalizationTests
{
    private static readonly Lazy<JsonElement[]> Modules = new(() =>
    {
        using var document = JsonDocument.Parse(File.ReadAllText(TestUtil.FixturePath("norm.json")));
        return document.RootElement.GetProperty("modules").EnumerateArray().Select(m => m.Clone()).ToArray();
    });

    public static IEnumerable<object[]> ModuleNames => Modules.Value.Select(m => new object[] { m.GetProperty("name").GetString()! });

    private static JsonElement Fixture(string name) => Modules.Value.Single(m => m.GetProperty("name").GetString() == name);

    private static BatchNorm Create(JsonElement m)
    {
        float? momentum = m.GetProperty("momentum").ValueKind == JsonValueKind.Null ? null : m.GetProperty("momentum").GetSingle();
        int channels = ParityFixture.ReadTensor(m.GetProperty("initial").GetProperty("weight")).Length;
        return m.GetProperty("name").GetString()!.StartsWith("batch_norm1d", StringComparison.Ordinal)
            ? new BatchNorm1d(channels, momentum: momentum)
            : new BatchNorm2d(channels, momentum: momentum);
    }

    private static StateDict Read(IEnumerable<KeyValuePair<string, Tensor>> entries)
    {
        var state = new StateDict();
        foreach (var (key, tensor) in entries)
        {
            state.Add(key, tensor);
        }
        return state;
    }

    [TestMethod]
    [DynamicData(nameof(ModuleNames))]
    public void TrainingStepsMatchPyTorch(string name)
    {
        var m = Fixture(name);
        var layer = Create(m);
        layer.LoadStateDict(Read(m.GetProperty("initial").EnumerateObject().Select(p => new KeyValuePair<string, Tensor>(p.Name, ParityFixture.ReadTensor(p.Value)))));
        foreach (var step in m.GetProperty("steps").EnumerateArray())
        {
            var y = layer.Call(ParityFixture.ReadTensor(step.GetProperty("input")));
            TestUtil.AssertClose(ParityFixture.ReadTensor(step.GetProperty("output")), y.Value, 1e-4, 1e-4, $"{name} output");
            y.Backward(ParityFixture.ReadTensor(step.GetProperty("grad_output")));
        }
        var expected = Read(m.GetProperty("state_dict").EnumerateArray().Select(e => new KeyValuePair<string, Tensor>(e.GetProperty("key").GetString()!, ParityFixture.ReadTensor(e))));
        var state = layer.StateDict();
        CollectionAssert.AreEqual(expected.Keys.ToList(), state.Keys.ToList(), "PyTorch's names in PyTorch's order");
        foreach (var (key, tensor) in expected)
        {
            TestUtil.AssertClose(tensor, state[key], 1e-5, 1e-4, $"{name} {key}");
        }
        TestUtil.AssertClose(ParityFixture.ReadTensor(m.GetProperty("weight_grad")), layer.Weight!.Grad!, 1e-4, 1e-4, $"{name} weight grad");
        TestUtil.AssertClose(ParityFixture.ReadTensor(m.GetProperty("bias_grad")), layer.Bias!.Grad!, 1e-4, 1e-4, $"{name} bias grad");
        layer.Eval();
        TestUtil.AssertClose(ParityFixture.ReadTensor(m.GetProperty("eval_output")), layer.Call(ParityFixture.ReadTensor(m.GetProperty("eval_input"))).Value, 1e-4, 1e-4);
    }

    [TestMethod]
    [DynamicData(nameof(ModuleNames))]
    public void PyTorchStateDictLoadsAndEvaluatesAlike(string name)
    {
        var m = Fixture(name);
        var layer = Create(m);
        layer.LoadStateDict(Read(m.GetProperty("state_dict").EnumerateArray().Select(e => new KeyValuePair<string, Tensor>(e.GetProperty("key").GetString()!, ParityFixture.ReadTensor(e)))));
        layer.Eval();
        TestUtil.AssertClose(ParityFixture.ReadTensor(m.GetProperty("eval_output")), layer.Call(ParityFixture.ReadTensor(m.GetProperty("eval_input"))).Value, 1e-4, 1e-4);
    }

    [TestMethod]
    public void PyTorchSafetensorsCheckpointLoads()
    {
        // PyTorch's own file: num_batches_tracked is an int64 scalar there
        var m = Fixture("batch_norm2d");
        var layer = new BatchNorm2d(3);
        layer.LoadStateDict(AutoGrad.IO.Safetensors.Load(TestUtil.FixturePath("io", "torch_batch_norm2d.safetensors")));
        Assert.AreEqual(3f, layer.NumBatchesTracked!.ToArray()[0]);
        layer.Eval();
        TestUtil.AssertClose(ParityFixture.ReadTensor(m.GetProperty("eval_output")), layer.Call(ParityFixture.ReadTensor(m.GetProperty("eval_input"))).Value, 1e-4, 1e-4);
        string path = Path.Combine(TestUtil.TempFolder("norm"), "bn.safetensors");
        AutoGrad.IO.Safetensors.Save(path, layer.StateDict());
        var reloaded = new BatchNorm2d(3);
        reloaded.LoadStateDict(AutoGrad.IO.Safetensors.Load(path));
        CollectionAssert.AreEqual(layer.RunningVar!.ToArray(), reloaded.RunningVar!.ToArray());
    }

    [TestMethod]
    public void BuffersAreSavedButNotParameters()
    {
        var bn = new BatchNorm2d(4);
        CollectionAssert.AreEqual(new[] { "weight", "bias" }, bn.NamedParameters().Select(p => p.Key).ToList());
        CollectionAssert.AreEqual(new[] { "running_mean", "running_var", "num_batches_tracked" }, bn.NamedBuffers().Select(p => p.Key).ToList());
        CollectionAssert.AreEqual(new[] { "weight", "bias", "running_mean", "running_var", "num_batches_tracked" }, bn.StateDict().Keys.ToList());
        Assert.AreEqual(8, bn.ParameterCount);
        CollectionAssert.AreEqual(new[] { 1f, 1f, 1f, 1f }, bn.Weight!.Value.ToArray());
        CollectionAssert.AreEqual(new[] { 1f, 1f, 1f, 1f }, bn.RunningVar!.ToArray());
        var net = new Sequential(new Conv2d(1, 4, 3), new BatchNorm2d(4), new ReLU());
        Assert.IsTrue(net.StateDict().Keys.SequenceEqual(["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked"]));
        Assert.IsEmpty(new BatchNorm1d(3, affine: false, trackRunningStats: false).StateDict().Keys.ToList());
        Assert.IsTrue(new LayerNorm([2, 3]).StateDict().Keys.SequenceEqual(["weight", "bias"]));
        Assert.AreEqual(12, new GroupNorm(2, 6).ParameterCount);
    }

    [TestMethod]
    public void LoadStateDictChecksBuffers()
    {
        var bn = new BatchNorm1d(3);
        var state = Read(bn.StateDict().Where(e => e.Key != "running_var").Select(e => new KeyValuePair<string, Tensor>(e.Key, e.Value.Clone())));
        var missing = Assert.ThrowsExactly<ArgumentException>(() => bn.LoadStateDict(state));
        StringAssert.Contains(missing.Message, "missing keys: running_var");
        state.Add("running_var", Tensor.Ones(4));
        var mismatch = Assert.ThrowsExactly<ArgumentException>(() => bn.LoadStateDict(state));
        StringAssert.Contains(mismatch.Message, "running_var: checkpoint [4], model [3]");
    }

    [TestMethod]
    public void RunningStatisticsUpdateInPlaceAndBumpVersions()
    {
        var bn = new BatchNorm1d(2);
        var runningMean = bn.RunningMean!;
        int version = runningMean.Version, countVersion = bn.NumBatchesTracked!.Version;
        using (GradMode.NoGrad())
        {
            bn.Call(Tensor.FromArray([1f, 10f, 3f, 20f], 2, 2));
        }
        Assert.AreSame(runningMean, bn.RunningMean);
        Assert.IsGreaterThan(version, runningMean.Version);
        Assert.IsGreaterThan(countVersion, bn.NumBatchesTracked!.Version);
        Assert.AreEqual(1f, bn.NumBatchesTracked.ToArray()[0]);
        // mean (2, 15) with momentum 0.1; unbiased variance (2, 50)
        TestUtil.AssertClose(Tensor.FromArray([0.2f, 1.5f]), runningMean);
        TestUtil.AssertClose(Tensor.FromArray([0.9f + 0.2f, 0.9f + 5f]), bn.RunningVar!);
        bn.Eval();
        bn.Call(Tensor.FromArray([1f, 10f], 1, 2));
        Assert.AreEqual(1f, bn.NumBatchesTracked.ToArray()[0], "evaluation leaves the statistics alone");
    }

    [TestMethod]
    public void UntrackedBatchNormUsesBatchStatisticsInEvaluation()
    {
        var bn = new BatchNorm1d(1, affine: false, trackRunningStats: false);
        bn.Eval();
        var y = bn.Call(Tensor.FromArray([1f, 3f], 2, 1));
        Assert.AreEqual(-1f, y.Value[0, 0], 1e-4f);
        Assert.AreEqual(1f, y.Value[1, 0], 1e-4f);
    }

    [TestMethod]
    public void ChangingTheInputAfterTheForwardIsRefused()
    {
        var x = new Variable(Tensor.FromArray([1f, 2f, 4f, 3f, 0f, 5f], 2, 3), requiresGrad: true);
        var y = F.LayerNorm(x, [3]);
        x.Value.AsSpan()[0] = 7f;
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => (y * y).Sum().Backward());
        StringAssert.Contains(error.Message, "LayerNorm");
    }

    [TestMethod]
    public void WrongChannelCountsNameTheOpAndShapes()
    {
        var x = new Variable(Tensor.Zeros(2, 4, 3, 3));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => new BatchNorm2d(3).Call(x)).Message,
            "BatchNorm: running_mean must be [4] for the 4 channels of input [2, 4, 3, 3] (dim 1); got [3]");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => new BatchNorm1d(4).Call(x)).Message, "BatchNorm1d: input must be [N, C] or [N, C, L]; got shape [2, 4, 3, 3]");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => new GroupNorm(2, 6).Call(x)).Message, "GroupNorm: weight must be [4] for the 4 channels of input [2, 4, 3, 3]");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => F.GroupNorm(x, 3)).Message, "GroupNorm: the 4 channels of input [2, 4, 3, 3] must split evenly into num_groups = 3");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => new LayerNorm(4).Call(x)).Message, "LayerNorm: input [2, 4, 3, 3] must end in normalized_shape [4]");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => F.BatchNorm(new Variable(Tensor.Zeros(1, 3)), null, null, training: true)).Message,
            "BatchNorm: expected more than 1 value per channel when training; got input [1, 3]");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => F.BatchNorm(x, null, null)).Message, "needs running_mean and running_var");
    }

    private sealed class TwoBuffers : Module
    {
        public TwoBuffers()
        {
            RegisterBuffer("steps", Tensor.Zeros(1));
            RegisterBuffer("scratch", Tensor.Zeros(2), persistent: false);
            RegisterParameter("steps", new Parameter(Tensor.Zeros(1)));
        }

        public override Variable Forward(Variable input) => input;
    }

    [TestMethod]
    public void BufferNamesAreUniqueAmongMembers()
        => StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => new TwoBuffers()).Message, "a parameter, buffer or child named 'steps' is already registered");
}
