using System.IO.Compression;
using AutoGrad.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Data;

[TestClass]
public sealed class IdxTests
{
    private static byte[] Pixels(int n) => Enumerable.Range(0, n).Select(i => (byte)(i * 37 % 256)).ToArray();

    [TestMethod]
    [DataRow("images.idx")]
    [DataRow("images.idx.gz")]
    public void ImageAndLabelFilesRoundTrip(string name)
    {
        string folder = TestUtil.TempFolder("idx");
        var pixels = Pixels(3 * 4 * 5);
        Idx.WriteBytes(Path.Combine(folder, name), pixels, 3, 4, 5);
        Idx.WriteBytes(Path.Combine(folder, "labels" + Path.GetExtension(name)), [7, 0, 9], 3);
        var images = Idx.Read(Path.Combine(folder, name));
        CollectionAssert.AreEqual(new[] { 3, 4, 5 }, images.Shape);
        CollectionAssert.AreEqual(pixels.Select(p => (float)p).ToArray(), images.Values);

        var dataset = Idx.ReadImageDataset(Path.Combine(folder, name), Path.Combine(folder, "labels" + Path.GetExtension(name)));
        Assert.AreEqual(3, dataset.Count);
        CollectionAssert.AreEqual(new[] { 1, 4, 5 }, dataset.SampleShape.ToArray());
        CollectionAssert.AreEqual(new[] { 7, 0, 9 }, dataset.Labels);
        Assert.AreEqual(pixels[21] / 255f, dataset.Features[1, 0, 0, 1], 1e-7f);
    }

    [TestMethod]
    public void OtherTypeCodesAreRead()
    {
        // type 0x0D (float32), rank 1, dim 2, big-endian values 1.5 and -2
        byte[] bytes = [0, 0, 0x0D, 1, 0, 0, 0, 2, 0x3F, 0xC0, 0, 0, 0xC0, 0, 0, 0];
        string path = Path.Combine(TestUtil.TempFolder("idx"), "f.idx");
        File.WriteAllBytes(path, bytes);
        CollectionAssert.AreEqual(new[] { 1.5f, -2f }, Idx.Read(path).Values);
    }

    private static string WriteRaw(byte[] bytes, bool gzip = false)
    {
        string path = Path.Combine(TestUtil.TempFolder("idx-bad"), gzip ? "bad.gz" : "bad.idx");
        if (gzip)
        {
            using var file = File.Create(path);
            using var z = new GZipStream(file, CompressionLevel.Fastest);
            z.Write(bytes);
        }
        else
        {
            File.WriteAllBytes(path, bytes);
        }
        return path;
    }

    [TestMethod]
    [DataRow(new byte[] { 0, 0, 8 }, "magic number")]
    [DataRow(new byte[] { 1, 0, 8, 1, 0, 0, 0, 1, 5 }, "expected 00 00")]
    [DataRow(new byte[] { 0, 0, 7, 1, 0, 0, 0, 1, 5 }, "unknown data type")]
    [DataRow(new byte[] { 0, 0, 8, 1, 0xff, 0xff, 0xff, 0xff }, "negative")]
    [DataRow(new byte[] { 0, 0, 8, 2, 0, 0, 0, 4 }, "dimension 1")]
    [DataRow(new byte[] { 0, 0, 8, 1, 0, 0, 0, 4, 1, 2 }, "truncated")]
    [DataRow(new byte[] { 0, 0, 8, 1, 0, 0, 0, 1, 1, 2 }, "trailing")]
    [DataRow(new byte[] { 0, 0, 8, 2, 0x7f, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff }, "declares more data")]
    [DataRow(new byte[] { 0, 0, 8, 9 }, "rank 9")]
    public void CorruptFilesThrowInvalidData(byte[] bytes, string expected)
    {
        foreach (bool gzip in new[] { false, true })
        {
            string path = WriteRaw(bytes, gzip);
            var e = Assert.ThrowsExactly<InvalidDataException>(() => Idx.Read(path));
            StringAssert.Contains(e.Message, path);
            StringAssert.Contains(e.Message, expected);
        }
    }

    [TestMethod]
    public void CorruptGzipStreamThrowsInvalidData()
    {
        byte[] bytes = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xde, 0xad, 0xbe, 0xef];
        var e = Assert.ThrowsExactly<InvalidDataException>(() => Idx.Read(WriteRaw(bytes)));
        StringAssert.Contains(e.Message, "IDX file");
    }

    [TestMethod]
    public void MismatchedLabelFileIsNamed()
    {
        string folder = TestUtil.TempFolder("idx");
        Idx.WriteBytes(Path.Combine(folder, "i.idx"), Pixels(2 * 2 * 2), 2, 2, 2);
        Idx.WriteBytes(Path.Combine(folder, "l.idx"), [1, 2, 3], 3);
        var e = Assert.ThrowsExactly<InvalidDataException>(() => Idx.ReadImageDataset(Path.Combine(folder, "i.idx"), Path.Combine(folder, "l.idx")));
        StringAssert.Contains(e.Message, "l.idx");
        StringAssert.Contains(e.Message, "[2]");
    }
}
