using AutoGrad.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Data;

/// <summary>CIFAR-10 is not reachable here; the reader is tested on files generated in its binary format.</summary>
[TestClass]
public sealed class Cifar10Tests
{
    private static byte[] Records(int count, int seed)
    {
        var bytes = new byte[count * 3073];
        for (int r = 0; r < count; r++)
        {
            bytes[r * 3073] = (byte)((r + seed) % 10);
            for (int i = 0; i < 3072; i++)
            {
                bytes[r * 3073 + 1 + i] = (byte)((i + r * 7 + seed) % 256);
            }
        }
        return bytes;
    }

    [TestMethod]
    public void BatchesAreReadAsChannelFirstImages()
    {
        string folder = TestUtil.TempFolder("cifar");
        for (int b = 1; b <= 5; b++)
        {
            File.WriteAllBytes(Path.Combine(folder, $"data_batch_{b}.bin"), Records(2, b));
        }
        File.WriteAllBytes(Path.Combine(folder, "test_batch.bin"), Records(3, 0));
        var train = Cifar10.Load(folder, train: true);
        var test = Cifar10.Load(folder, train: false);
        Assert.AreEqual(10, train.Count);
        Assert.AreEqual(3, test.Count);
        CollectionAssert.AreEqual(new[] { 3, 32, 32 }, train.SampleShape.ToArray());
        CollectionAssert.AreEqual(new[] { 1, 2, 2, 3 }, train.Labels[..4]);
        // sample 1 of batch 1: red plane pixel (0, 5) is byte (5 + 7 + 1) % 256; green (1, 0) is (1024 + 32 + 7 + 1)
        Assert.AreEqual(13 / 255f, train.Features[1, 0, 0, 5], 1e-7f);
        Assert.AreEqual((1024 + 32 + 8) % 256 / 255f, train.Features[1, 1, 1, 0], 1e-7f);
        Assert.AreEqual("cat", Cifar10.ClassNames[3]);
    }

    [TestMethod]
    public void BadFilesAreRejected()
    {
        string folder = TestUtil.TempFolder("cifar");
        string partial = Path.Combine(folder, "partial.bin");
        File.WriteAllBytes(partial, Records(2, 0)[..5000]);
        var e = Assert.ThrowsExactly<InvalidDataException>(() => Cifar10.ReadBatch(partial));
        StringAssert.Contains(e.Message, "5000 bytes");
        StringAssert.Contains(e.Message, partial);

        var badLabel = Records(1, 0);
        badLabel[0] = 10;
        File.WriteAllBytes(partial, badLabel);
        e = Assert.ThrowsExactly<InvalidDataException>(() => Cifar10.ReadBatch(partial));
        StringAssert.Contains(e.Message, "label 10");

        Assert.ThrowsExactly<FileNotFoundException>(() => Cifar10.Load(folder, train: true));
    }
}
