using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using AutoGrad.IO;
using AutoGrad.Nn;
using AutoGrad.Optim;
using AutoGrad.Tests.Ops;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.IO;

[TestClass]
public sealed class SafetensorsTests
{
    [TestMethod]
    public void ModuleCheckpointRoundTripGivesIdenticalOutputs()
    {
        string folder = TestUtil.TempFolder("safetensors");
        var a = Mlp.Create([6, 10, 4], generator: new Generator(1));
        string path = Path.Combine(folder, "model.safetensors");
        Safetensors.Save(path, a.StateDict());
        var b = Mlp.Create([6, 10, 4], generator: new Generator(2));
        var loaded = Safetensors.Load(path, out var metadata);
        b.LoadStateDict(loaded);
        var x = Tensor.Randn(new Generator(3), 5, 6);
        CollectionAssert.AreEqual(a.Call(x).Value.ToArray(), b.Call(x).Value.ToArray());
        CollectionAssert.AreEqual(a.StateDict().Keys.ToArray(), loaded.Keys.ToArray(), "file order is the state dict's order");
        Assert.AreEqual("pt", metadata["format"]);
        Assert.AreEqual(1, Directory.GetFiles(folder).Length, "no temporary file is left behind");
    }

    [TestMethod]
    public void HeaderIsWhatTheReferenceReaderExpects()
    {
        string path = Path.Combine(TestUtil.TempFolder("safetensors"), "t.safetensors");
        var state = new StateDict();
        state.Add("w", Tensor.FromArray([1, 2, 3, 4, 5, 6], 2, 3));
        state.Add("s", Tensor.Scalar(7));
        Safetensors.Save(path, state);
        var bytes = File.ReadAllBytes(path);
        long n = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.AreEqual(0, (8 + n) % 8, "data is 8-byte aligned");
        using var header = JsonDocument.Parse(Encoding.UTF8.GetString(bytes, 8, (int)n));
        var w = header.RootElement.GetProperty("w");
        Assert.AreEqual("F32", w.GetProperty("dtype").GetString());
        Assert.AreEqual("[2,3]", w.GetProperty("shape").GetRawText());
        Assert.AreEqual("[0,24]", w.GetProperty("data_offsets").GetRawText());
        Assert.AreEqual("[]", header.RootElement.GetProperty("s").GetProperty("shape").GetRawText());
        Assert.AreEqual(8 + n + 28, bytes.Length);
        Assert.AreEqual(7f, BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan((int)(8 + n + 24))));
    }

    [TestMethod]
    [TestCategory("Parity")]
    public void PyTorchWrittenCheckpointGivesPyTorchsOutputs()
    {
        var state = Safetensors.Load(TestUtil.FixturePath("io", "torch_mlp.safetensors"));
        var model = Mlp.Create([4, 8, 3]);
        model.LoadStateDict(state);
        using var expected = JsonDocument.Parse(File.ReadAllText(TestUtil.FixturePath("io", "torch_mlp.json")));
        var x = ParityFixture.ReadTensor(expected.RootElement.GetProperty("input"));
        TestUtil.AssertClose(ParityFixture.ReadTensor(expected.RootElement.GetProperty("output")), model.Call(x).Value, 1e-6, 1e-5);
    }

    [TestMethod]
    public void OtherDtypesAreConvertedToFloat32()
    {
        var state = Safetensors.Load(TestUtil.FixturePath("io", "torch_dtypes.safetensors"));
        CollectionAssert.AreEqual(new[] { 1.5f, -2.25f, 3f, 4.125f }, state["f64"].ToArray());
        CollectionAssert.AreEqual(new[] { 0.5f, -1f, 65504f }, state["f16"].ToArray());
        CollectionAssert.AreEqual(new[] { 1f, -3.5f }, state["bf16"].ToArray());
        CollectionAssert.AreEqual(new[] { -3f, 7f, 1048576f }, state["i64"].ToArray());
        Assert.AreEqual(0, state["scalar"].Rank);
        Assert.AreEqual(2.5f, state["scalar"].Item());
        CollectionAssert.AreEqual(new[] { 0, 3 }, state["empty"].Shape.ToArray());
    }

    [TestMethod]
    public void OptimizerStateRoundTrips()
    {
        var p = new Variable(Tensor.Ones(3), requiresGrad: true);
        var adam = new Adam([p]);
        F.Sum(p * p).Backward();
        adam.Step();
        string path = Path.Combine(TestUtil.TempFolder("safetensors"), "adam.safetensors");
        Safetensors.Save(path, adam.StateDict());
        var restored = new Adam([new Variable(Tensor.Ones(3), requiresGrad: true)]);
        restored.LoadStateDict(Safetensors.Load(path));
        foreach (var (key, tensor) in adam.StateDict())
        {
            CollectionAssert.AreEqual(tensor.ToArray(), restored.StateDict()[key].ToArray(), key);
        }
    }

    [TestMethod]
    public void SavingOverAnExistingCheckpointReplacesItWhole()
    {
        string path = Path.Combine(TestUtil.TempFolder("safetensors"), "m.safetensors");
        var state = new StateDict();
        state.Add("a", Tensor.Ones(1000));
        Safetensors.Save(path, state);
        var smaller = new StateDict();
        smaller.Add("b", Tensor.Full([2], 3f));
        Safetensors.Save(path, smaller);
        var loaded = Safetensors.Load(path);
        CollectionAssert.AreEqual(new[] { "b" }, loaded.Keys.ToArray());
    }

    [TestMethod]
    [DataRow("", 0, "fewer than the 8-byte header length")]
    [DataRow("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, "truncated")]
    [DataRow("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "needs 12 bytes")]
    [DataRow("{\"a\":{\"dtype\":\"Q9\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "dtype 'Q9'")]
    [DataRow("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "non-negative")]
    [DataRow("{\"a\":{\"dtype\":\"F32\",\"shape\":[1000,1000],\"data_offsets\":[0,8]}}", 8, "needs 4000000 bytes")]
    [DataRow("{\"a\":{\"dtype\":\"F32\",\"shape\":[65536,65536,65536],\"data_offsets\":[0,8]}}", 8, "more elements than an array can hold")]
    [DataRow("{\"a\":", 0, "not valid JSON")]
    [DataRow("[1,2]", 0, "JSON object")]
    [DataRow("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "gap or overlap")]
    public void CorruptFilesThrowInvalidData(string header, int dataBytes, string expected)
    {
        var bytes = header.Length == 0 && dataBytes == 0 ? new byte[5] : FileBytes.Safetensors(header, dataBytes);
        string path = TestUtil.WriteTempFile("bad.safetensors", bytes);
        var e = Assert.ThrowsExactly<InvalidDataException>(() => Safetensors.Load(path));
        StringAssert.Contains(e.Message, path);
        StringAssert.Contains(e.Message, expected);
    }

    [TestMethod]
    public void HugeDeclaredHeaderIsRejectedBeforeAllocating()
    {
        var bytes = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, ulong.MaxValue / 2);
        var e = Assert.ThrowsExactly<InvalidDataException>(() => Safetensors.Load(TestUtil.WriteTempFile("bad.safetensors", bytes)));
        StringAssert.Contains(e.Message, "header declares");
    }
}
