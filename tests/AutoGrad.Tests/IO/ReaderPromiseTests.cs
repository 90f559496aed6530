using AutoGrad.Data;
using AutoGrad.IO;
using AutoGrad.Nn;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.IO;

/// <summary>Regression tests for the safetensors and NPY readers' promises (issue 20's "Why" list).</summary>
[TestClass]
public sealed class ReaderPromiseTests
{
    // The attack's 72-byte file: a tensor named "a\ud800".
    private const string LoneSurrogateName =
        "3c000000000000007b22615c7564383030223a7b226474797065223a22463332222c227368617065223a5b315d2c22646174615f6f666673657473223a5b302c345d7d7d00000000";

    [TestMethod]
    [DataRow("{\"a\\ud800\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4)]
    [DataRow("{\"a\":{\"dtype\":\"F3\\udc00\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4)]
    [DataRow("{\"__metadata__\":{\"format\":\"pt\\ud800\"},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4)]
    [DataRow("{\"__metadata__\":{\"k\\udc00\":\"v\"}}", 0)]
    public void LoneSurrogateEscapesAreInvalidData(string header, int dataBytes)
    {
        string path = TestUtil.WriteTempFile("surrogate.safetensors", FileBytes.Safetensors(header, dataBytes));
        var e = Assert.ThrowsExactly<InvalidDataException>(() => Safetensors.Load(path));
        StringAssert.Contains(e.Message, path);
        StringAssert.Contains(e.Message, "surrogate");
    }

    [TestMethod]
    public void TheAttacksLoneSurrogateFileIsInvalidDataInBothLoaders()
    {
        string path = TestUtil.WriteTempFile("attack.safetensors", Convert.FromHexString(LoneSurrogateName));
        Assert.ThrowsExactly<InvalidDataException>(() => Safetensors.Load(path));
        var model = Mlp.Create([1, 1]);
        var optimizer = new AutoGrad.Optim.Sgd(model.Parameters(), 0.1f);
        Assert.ThrowsExactly<InvalidDataException>(() => TrainingCheckpoint.Load(path, model, optimizer, null));
    }

    [TestMethod]
    public void DuplicateMetadataKeysAreInvalidData()
    {
        string path = TestUtil.WriteTempFile("dup.safetensors", FileBytes.Safetensors("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0));
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => Safetensors.Load(path)).Message, "twice");
    }

    [TestMethod]
    public void SafetensorsReadsAnEmptyTensorAfterALargeDimension()
    {
        string path = TestUtil.WriteTempFile("empty.safetensors",
            FileBytes.Safetensors("{\"e\":{\"dtype\":\"F32\",\"shape\":[2147483647,0],\"data_offsets\":[0,0]}}", 0));
        var state = Safetensors.Load(path);
        CollectionAssert.AreEqual(new[] { 2147483647, 0 }, state["e"].Shape.ToArray());
        Assert.AreEqual(0, state["e"].Length);
    }

    [TestMethod]
    [DataRow("{'descr': '<f4', 'fortran_order': False, 'shape': (,), }\n", 4, "expected a dimension")]
    [DataRow("{'descr': '<f4', 'fortran_order': False, 'shape': (3,,4), }\n", 48, "expected a dimension")]
    [DataRow("{'descr': '<f4', 'fortran_order': False, 'shape': (3), }\n", 12, "not a tuple")]
    [DataRow("{'descr': '<f4', 'fortran_order': False, 'shape': (3 4), }\n", 48, "commas")]
    [DataRow("{'descr': '<f4', 'fortran_order': False, 'shape': (03,), }\n", 12, "leading zero")]
    [DataRow("{'descr': '<f4', 'fortran_order': 0, 'shape': (3,), }\n", 12, "True or False")]
    [DataRow("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'extra': 1}\n", 12, "unexpected key")]
    [DataRow("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3,), }\n", 12, "twice")]
    [DataRow("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), } x\n", 12, "follows the closing brace")]
    public void NpyHeadersNumpyRejectsAreRejected(string header, int dataBytes, string expected)
    {
        string path = TestUtil.WriteTempFile("bad.npy", FileBytes.Npy(header, dataBytes));
        var e = Assert.ThrowsExactly<InvalidDataException>(() => AutoGrad.IO.Npy.Load(path));
        StringAssert.Contains(e.Message, path);
        StringAssert.Contains(e.Message, expected);
    }

    [TestMethod]
    public void NpyVersionMustBeMajorDotZero()
    {
        string path = TestUtil.WriteTempFile("v17.npy", FileBytes.Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }\n", 4, major: 1, minor: 7));
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => AutoGrad.IO.Npy.Load(path)).Message, "version 1.7");
    }

    [TestMethod]
    [DataRow("{'descr': '<f4', 'fortran_order': False, 'shape': (2147483647, 0), }\n", new[] { 2147483647, 0 })]
    [DataRow("{\"descr\": \"<f4\", \"shape\": (0, 2147483647, 2147483647), \"fortran_order\": True}\n", new[] { 0, 2147483647, 2147483647 })]
    [DataRow("{'descr':'<f4','fortran_order':False,'shape':()}", new int[0])]
    public void NpyReadsValidShapesNumpyWrites(string header, int[] shape)
    {
        int count = shape.Aggregate(1L, (a, d) => a * d) == 1 ? 4 : 0;
        var array = AutoGrad.IO.Npy.Load(TestUtil.WriteTempFile("ok.npy", FileBytes.Npy(header, count)));
        CollectionAssert.AreEqual(shape, array.Shape.ToArray());
    }

    [TestMethod]
    public void NpyHeaderParsingIsLinear()
    {
        // 60,000 spaces where the old pattern backtracked over every split of the run between two \s*.
        string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)" + new string(' ', 60_000) + "x}";
        string path = TestUtil.WriteTempFile("spaces.npy", FileBytes.Npy(header, 4));
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Assert.ThrowsExactly<InvalidDataException>(() => AutoGrad.IO.Npy.Load(path));
        Assert.IsTrue(watch.ElapsedMilliseconds < 1000, $"took {watch.ElapsedMilliseconds} ms");
    }

    [TestMethod]
    public void IdxReadsAnEmptyArrayAfterALargeDimension()
    {
        byte[] bytes = [0, 0, 8, 2, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0];
        foreach (string name in new[] { "empty.idx", "empty.idx.gz" })
        {
            string path = Path.Combine(TestUtil.TempFolder("idx-empty"), name);
            if (name.EndsWith(".gz", StringComparison.Ordinal))
            {
                using var file = File.Create(path);
                using var z = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionLevel.Optimal);
                z.Write(bytes);
            }
            else
            {
                File.WriteAllBytes(path, bytes);
            }
            var array = Idx.Read(path);
            CollectionAssert.AreEqual(new[] { 2147483647, 0 }, array.Shape, name);
            Assert.AreEqual(0, array.Values.Length, name);
        }
    }
}
