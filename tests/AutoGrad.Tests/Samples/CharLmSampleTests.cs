using System.Text.Json;
using AutoGrad.Samples;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Samples;

/// <summary>
/// The charlm command: a short run on the shipped text writes the curve, the sample and metrics.json, and its loss falls
/// below the uniform guess over the vocabulary; the batches are the twin's (splitmix64 of step and row).
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class CharLmSampleTests
{
    [TestMethod]
    public void ShortRunLearnsSomethingAndWritesItsFiles()
    {
        string output = TestUtil.TempFolder("charlm");
        Assert.AreEqual(0, Cli.Run(["charlm", "--epochs", "10", "--batch-size", "8", "--out", output]));
        foreach (var file in new[] { "validation.png", "sample.txt", "metrics.json" })
        {
            Assert.IsTrue(File.Exists(Path.Combine(output, file)), file);
        }
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "metrics.json")));
        double bits = document.RootElement.GetProperty("validation_bits_per_char").GetDouble();
        Assert.IsTrue(bits < Math.Log2(81), $"below the uniform guess over 81 characters ({Math.Log2(81):F2} bits); got {bits:F3}");
        Assert.AreEqual(300 + 4, File.ReadAllText(Path.Combine(output, "sample.txt")).Length);
    }

    [TestMethod]
    public void BatchOffsetsAreTheTwinsSplitmix()
    {
        // splitmix64's finalizer of 0 and 1 (reference values of the algorithm)
        Assert.AreEqual(0xE220A8397B1DCDAFUL, Batches.Hash(0));
        Assert.AreEqual(0x910A2DEC89025CC1UL, Batches.Hash(1));
    }
}
