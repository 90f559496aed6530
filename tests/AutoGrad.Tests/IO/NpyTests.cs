using System.Text;
using System.Text.Json;
using AutoGrad.IO;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.IO;

[TestClass]
public sealed class NpyTests
{
    [TestMethod]
    public void FloatAndIntegerRoundTrips()
    {
        string folder = TestUtil.TempFolder("npy");
        var t = Tensor.Randn(new Generator(1), 3, 4, 5);
        Npy.Save(Path.Combine(folder, "f.npy"), t);
        var back = Npy.Load(Path.Combine(folder, "f.npy"));
        Assert.AreEqual("<f4", back.DType);
        CollectionAssert.AreEqual(t.ToArray(), back.ToTensor().ToArray());
        CollectionAssert.AreEqual(new[] { 3, 4, 5 }, back.Shape.ToArray());

        Npy.Save(Path.Combine(folder, "i.npy"), [3, -1, 7, 9], 2, 2);
        var ints = Npy.Load(Path.Combine(folder, "i.npy"));
        CollectionAssert.AreEqual(new[] { 3, -1, 7, 9 }, ints.ToInt32());
        CollectionAssert.AreEqual(new[] { 2, 2 }, ints.Shape.ToArray());

        Npy.Save(Path.Combine(folder, "l.npy"), [long.MaxValue, 0L]);
        Assert.AreEqual("<i8", Npy.Load(Path.Combine(folder, "l.npy")).DType);

        Npy.Save(Path.Combine(folder, "s.npy"), Tensor.Scalar(2f));
        Assert.AreEqual(0, Npy.Load(Path.Combine(folder, "s.npy")).Shape.Count);
    }

    [TestMethod]
    public void HeaderIsPaddedToSixtyFourBytesAsNumpyWritesIt()
    {
        string path = Path.Combine(TestUtil.TempFolder("npy"), "f.npy");
        Npy.Save(path, Tensor.Zeros(2, 3));
        var bytes = File.ReadAllBytes(path);
        int headerLength = bytes[8] | bytes[9] << 8;
        Assert.AreEqual(0, (10 + headerLength) % 64);
        string header = Encoding.ASCII.GetString(bytes, 10, headerLength);
        Assert.AreEqual("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", header.TrimEnd());
        Assert.IsTrue(header.EndsWith('\n'));
    }

    [TestMethod]
    [TestCategory("Parity")]
    public void NumpyWrittenFilesAreRead()
    {
        using var expected = JsonDocument.Parse(File.ReadAllText(TestUtil.FixturePath("io", "numpy_expected.json")));
        foreach (var array in expected.RootElement.GetProperty("arrays").EnumerateObject())
        {
            var loaded = Npy.Load(TestUtil.FixturePath("io", array.Name + ".npy"));
            var shape = array.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var data = array.Value.GetProperty("data").EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();
            CollectionAssert.AreEqual(shape, loaded.Shape.ToArray(), array.Name);
            CollectionAssert.AreEqual(data, loaded.ToTensor().ToArray(), array.Name);
        }
        CollectionAssert.AreEqual(new[] { 5, -1, 0, 9, 123456789 }, Npy.Load(TestUtil.FixturePath("io", "numpy_i8.npy")).ToInt32());
    }

    [TestMethod]
    [DataRow("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }\n", 8, "truncated")]
    [DataRow("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }\n", 16, "trailing")]
    [DataRow("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }\n", 8, "not supported")]
    [DataRow("{'descr': '<f4', 'fortran_order': False, 'shape': (-3,), }\n", 0, "non-negative")]
    [DataRow("{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000), }\n", 8, "needs more bytes")]
    [DataRow("{'descr': '<f4', 'shape': (3,), }\n", 12, "header")]
    [DataRow("not a dict", 0, "header")]
    public void CorruptFilesThrowInvalidData(string header, int dataBytes, string expected)
    {
        string path = TestUtil.WriteTempFile("bad.npy", FileBytes.Npy(header, dataBytes));
        var e = Assert.ThrowsExactly<InvalidDataException>(() => Npy.Load(path));
        StringAssert.Contains(e.Message, path);
        StringAssert.Contains(e.Message, expected);
    }

    [TestMethod]
    public void NotAnNpyFile()
    {
        var e = Assert.ThrowsExactly<InvalidDataException>(() => Npy.Load(TestUtil.WriteTempFile("bad.npy", "PK\x03\x04 zip"u8.ToArray())));
        StringAssert.Contains(e.Message, "magic");
        var v1 = FileBytes.Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }\n", 12);
        v1[8] = 0xff;
        v1[9] = 0xff;
        e = Assert.ThrowsExactly<InvalidDataException>(() => Npy.Load(TestUtil.WriteTempFile("bad.npy", v1)));
        StringAssert.Contains(e.Message, "header declares");
    }

    [TestMethod]
    public void SaveRejectsAShapeThatDoesNotFit()
        => Assert.ThrowsExactly<ArgumentException>(() => Npy.Save(Path.Combine(TestUtil.TempFolder("npy"), "x.npy"), [1, 2, 3], 2, 2));
}
