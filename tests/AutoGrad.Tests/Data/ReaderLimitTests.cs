using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using AutoGrad.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Data;

/// <summary>Regression tests for the IDX and CSV readers: bounded memory and time, verified gzip trailers, the CSV rules.</summary>
[TestClass]
public sealed class ReaderLimitTests
{
    private static byte[] IdxHeader(params int[] shape)
    {
        var header = new byte[4 + 4 * shape.Length];
        header[2] = 0x08;
        header[3] = (byte)shape.Length;
        for (int d = 0; d < shape.Length; d++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4 + 4 * d), shape[d]);
        }
        return header;
    }

    private static string Gzip(string name, params byte[][] parts)
    {
        string path = Path.Combine(TestUtil.TempFolder("idx-limits"), name);
        using (var file = File.Create(path))
        using (var z = new GZipStream(file, CompressionLevel.Fastest))
        {
            foreach (var part in parts)
            {
                z.Write(part);
            }
        }
        return path;
    }

    private static long Allocated(Action action)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            action();
        }
        catch (InvalidDataException)
        {
        }
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [TestMethod]
    public void GzipHeaderClaimIsNotAllocatedBeforeTheDataArrives()
    {
        // 100 KB of incompressible data behind a header claiming 9 MB (within the ratio the file's size allows).
        var data = new byte[100_000];
        new Random(1).NextBytes(data);
        string path = Gzip("claims-more.idx.gz", IdxHeader(9_000_000), data);
        long allocated = Allocated(() => Idx.Read(path));
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => Idx.Read(path)).Message, "truncated");
        Assert.IsTrue(allocated < 4_000_000, $"allocated {allocated} bytes for a {new FileInfo(path).Length}-byte file claiming 9 MB");
    }

    [TestMethod]
    public void GzipBombIsRejectedBeforeItInflates()
    {
        // 200 MB of zeros compress to about 200 KB: a thousandfold, where real IDX files inflate less than tenfold.
        var zeros = new byte[200_000_000];
        string path = Gzip("bomb.idx.gz", IdxHeader(200_000_000), zeros);
        long allocated = Allocated(() => Idx.Read(path));
        var e = Assert.ThrowsExactly<InvalidDataException>(() => Idx.Read(path));
        StringAssert.Contains(e.Message, "maxCompressionRatio");
        Assert.IsTrue(allocated < 16_000_000, $"allocated {allocated} bytes");
    }

    [TestMethod]
    public void AHigherCompressionRatioCanBeAllowed()
    {
        string path = Gzip("zeros.idx.gz", IdxHeader(4_000_000), new byte[4_000_000]);
        Assert.ThrowsExactly<InvalidDataException>(() => Idx.Read(path));
        Assert.AreEqual(4_000_000, Idx.Read(path, maxCompressionRatio: 2000).Values.Length);
    }

    [TestMethod]
    [DataRow(8)]
    [DataRow(5)]
    [DataRow(4)]
    [DataRow(1)]
    public void TruncatedGzipTrailerIsRejected(int cut)
    {
        var pixels = Enumerable.Range(0, 3000).Select(i => (byte)(i * 31 % 251)).ToArray();
        string path = Gzip("cut.idx.gz", IdxHeader(3, 1000), pixels);
        Assert.AreEqual(3000, Idx.Read(path).Values.Length);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^cut]);
        var e = Assert.ThrowsExactly<InvalidDataException>(() => Idx.Read(path));
        StringAssert.Contains(e.Message, path);
        StringAssert.Contains(e.Message, "trailer");
    }

    [TestMethod]
    [DataRow(8)]
    [DataRow(4)]
    public void GzipWithAWrongTrailerIsRejected(int fromEnd)
    {
        // fromEnd 8 flips a bit of the CRC-32, 4 one of the recorded length: zlib checks both when the trailer is whole.
        var pixels = Enumerable.Range(0, 3000).Select(i => (byte)(i * 31 % 251)).ToArray();
        string path = Gzip("crc.idx.gz", IdxHeader(3, 1000), pixels);
        var bytes = File.ReadAllBytes(path);
        bytes[^fromEnd] ^= 0x01;
        File.WriteAllBytes(path, bytes);
        var e = Assert.ThrowsExactly<InvalidDataException>(() => Idx.Read(path));
        StringAssert.Contains(e.Message, path);
        StringAssert.Contains(e.Message, "the gzip stream is corrupt");
    }

    [TestMethod]
    public void TheLargestCompressionRatioDoesNotWrapTheBoundOfALargeFile()
    {
        // A gzip file over 4 GiB (sparse: a 1 KB gzip member, then a hole) read with maxCompressionRatio int.MaxValue:
        // length x ratio exceeds long.MaxValue, and a wrapped product made the bound 1 MiB, rejecting a 2 MB claim as a bomb.
        string path = Gzip("huge.idx.gz", IdxHeader(2_000_000), new byte[1000]);
        using (var file = new FileStream(path, FileMode.Open, FileAccess.Write))
        {
            file.SetLength((5L << 30) + 3);
        }
        var e = Assert.ThrowsExactly<InvalidDataException>(() => Idx.Read(path, maxCompressionRatio: int.MaxValue));
        StringAssert.Contains(e.Message, path);
        Assert.IsFalse(e.Message.Contains("may inflate to", StringComparison.Ordinal), e.Message);
        File.Delete(path);
    }

    [TestMethod]
    public void GzipWithBytesAfterTheMemberIsRejected()
    {
        string path = Gzip("tail.idx.gz", IdxHeader(4), [1, 2, 3, 4]);
        File.AppendAllText(path, "junk");
        Assert.ThrowsExactly<InvalidDataException>(() => Idx.Read(path));
    }

    [TestMethod]
    public void NonIntegerLabelsNameTheLabelFile()
    {
        string folder = TestUtil.TempFolder("idx-labels");
        Idx.WriteBytes(Path.Combine(folder, "i.idx"), new byte[2 * 2 * 2], 2, 2, 2);
        // float32 labels 1.5 and NaN
        File.WriteAllBytes(Path.Combine(folder, "l.idx"), [0, 0, 0x0D, 1, 0, 0, 0, 2, 0x3F, 0xC0, 0, 0, 0x7F, 0xC0, 0, 0]);
        var e = Assert.ThrowsExactly<InvalidDataException>(() => Idx.ReadImageDataset(Path.Combine(folder, "i.idx"), Path.Combine(folder, "l.idx")));
        StringAssert.Contains(e.Message, "l.idx");
        StringAssert.Contains(e.Message, "1.5");
    }

    private static string Csv(string text) => Csv(Encoding.UTF8.GetBytes(text));

    private static string Csv(byte[] bytes) => TestUtil.WriteTempFile("t.csv", bytes);

    [TestMethod]
    public void ManyDistinctLabelsAreReadInLinearTime()
    {
        var text = new StringBuilder("x,label\n");
        for (int i = 0; i < 100_000; i++)
        {
            text.Append(i % 7).Append(",class").Append(i).Append('\n');
        }
        string path = Csv(text.ToString());
        var watch = Stopwatch.StartNew();
        var table = AutoGrad.Data.Csv.ReadClassification(path);
        Assert.AreEqual(100_000, table.ClassNames.Length);
        Assert.AreEqual(99_999, table.Dataset.Labels[^1]);
        Assert.IsTrue(watch.Elapsed.TotalSeconds < 5, $"took {watch.Elapsed.TotalSeconds:F1} s (a list search took 46 s)");
    }

    [TestMethod]
    public void ALargeIntegerLabelInASmallFileIsRejected()
    {
        string path = Csv("1.5,100000\n");
        long allocated = Allocated(() => AutoGrad.Data.Csv.ReadClassification(path));
        var e = Assert.ThrowsExactly<InvalidDataException>(() => AutoGrad.Data.Csv.ReadClassification(path));
        StringAssert.Contains(e.Message, "label 100000 is too large");
        Assert.IsTrue(allocated < 200_000, $"allocated {allocated} bytes for an 11-byte file");
        Assert.AreEqual(1024, AutoGrad.Data.Csv.ReadClassification(Csv("1.5,1023\n")).ClassNames.Length);
    }

    [TestMethod]
    public void InvalidUtf8IsRejectedSoLabelsNeverMerge()
    {
        string path = Csv([.. "1,"u8, 0xFF, .. "\n2,"u8, 0xFE, (byte)'\n']);
        var e = Assert.ThrowsExactly<InvalidDataException>(() => AutoGrad.Data.Csv.ReadClassification(path));
        StringAssert.Contains(e.Message, "line 1: byte 2 (0xFF) is not valid UTF-8");
        // UTF-8 with a byte-order mark, and UTF-16 with one, still read.
        Assert.AreEqual(2, AutoGrad.Data.Csv.ReadClassification(Csv([0xEF, 0xBB, 0xBF, .. "1,é\n2,ü\n"u8])).ClassNames.Length);
        Assert.AreEqual(2, AutoGrad.Data.Csv.ReadClassification(Csv(Encoding.Unicode.GetPreamble().Concat(Encoding.Unicode.GetBytes("1,a\n2,b\n")).ToArray())).ClassNames.Length);
    }

    [TestMethod]
    public void ADecimalCommaIsAnErrorNotTwoValues()
    {
        // The rows keep their width, so only the quotes show that "1,5" is one field (the first row reads as a header).
        string path = Csv("\"1,5\",x\n\"2,5\",y\n");
        var e = Assert.ThrowsExactly<InvalidDataException>(() => AutoGrad.Data.Csv.ReadClassification(path));
        StringAssert.Contains(e.Message, "line 2, column 1: '2,5' is not a number (numbers use a decimal point");
    }

    [TestMethod]
    [DataRow("NaN")]
    [DataRow("Infinity")]
    [DataRow("-Infinity")]
    [DataRow("1e39")]
    public void NonFiniteFeaturesAreRejectedUnlessAllowed(string value)
    {
        string path = Csv($"a,b,label\n1,2,x\n3,{value},y\n");
        var e = Assert.ThrowsExactly<InvalidDataException>(() => AutoGrad.Data.Csv.ReadClassification(path));
        StringAssert.Contains(e.Message, $"line 3, column 2: '{value}' is not a finite float32");
        var table = AutoGrad.Data.Csv.ReadClassification(path, allowNonFinite: true);
        Assert.IsFalse(float.IsFinite(table.Dataset.Features[1, 1]));
    }

    [TestMethod]
    public void QuotedFieldsFollowRfc4180()
    {
        var table = AutoGrad.Data.Csv.ReadClassification(Csv("\"len, cm\",\"class\"\r\n\" 1.5\",\"Iris \"\"setosa\"\", var\"\r\n2,\"two\nlines\"\n"));
        CollectionAssert.AreEqual(new[] { "len, cm" }, table.FeatureNames);
        CollectionAssert.AreEqual(new[] { "Iris \"setosa\", var", "two\nlines" }, table.ClassNames);
        CollectionAssert.AreEqual(new[] { 1.5f, 2f }, table.Dataset.Features.ToArray());
    }

    [TestMethod]
    [DataRow("a,label\n1,x\"y\n", "line 2: a quote inside the unquoted field")]
    [DataRow("a,label\n1,\"x\"y\n", "line 2: 'y' follows a closing quote")]
    [DataRow("a,label\n1,\"xy\n", "line 2: a quoted field is not closed")]
    public void MisplacedQuotesNameTheLine(string text, string expected)
    {
        string path = Csv(text);
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => AutoGrad.Data.Csv.ReadClassification(path)).Message, expected);
    }

    [TestMethod]
    public void NonFiniteDataCanBeCheckedOnceBeforeTraining()
    {
        var good = new TensorDataset(Tensor.FromArray([1f, 2f, 3f, 4f], 2, 2), [0, 1]);
        Assert.AreSame(good, good.ThrowIfNotFinite());
        var bad = new TensorDataset(Tensor.FromArray([1f, 2f, 3f, float.NaN], 2, 2), [0, 1]);
        StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => bad.ThrowIfNotFinite()).Message, "sample 1 has NaN at feature 1");
    }
}
