using System.Text.Json;
using AutoGrad.Data;
using AutoGrad.Samples;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Samples;

/// <summary>
/// Each subcommand for a few batches: the files appear and metrics.json has the documented keys. The accuracy runs
/// themselves are not unit tests (see the README's results).
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class SampleSmokeTests
{
    private static string RepositoryData()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "data", "mnist", "train-images-idx3-ubyte.gz")))
            {
                return Path.Combine(dir.FullName, "data");
            }
        }
        throw new DirectoryNotFoundException("data/mnist not found above the test assembly.");
    }

    /// <summary>A data folder holding a tiny Fashion-MNIST in the real file layout.</summary>
    private static string FakeFashionData()
    {
        string data = TestUtil.TempFolder("fashion-data");
        string folder = Path.Combine(data, "fashion-mnist");
        var g = new Generator(1);
        foreach (var (prefix, n) in new[] { ("train", 300), ("t10k", 100) })
        {
            var labels = Enumerable.Range(0, n).Select(i => (byte)(i % 10)).ToArray();
            var pixels = new byte[n * 784];
            for (int i = 0; i < pixels.Length; i++)
            {
                pixels[i] = (byte)(labels[i / 784] * 20 + g.NextInt(40)); // brightness says the class
            }
            Idx.WriteBytes(Path.Combine(folder, $"{prefix}-images-idx3-ubyte.gz"), pixels, n, 28, 28);
            Idx.WriteBytes(Path.Combine(folder, $"{prefix}-labels-idx1-ubyte.gz"), labels, n);
        }
        return data;
    }

    private static JsonElement Metrics(string folder, string command)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "metrics.json")));
        var root = document.RootElement.Clone();
        Assert.AreEqual(command, root.GetProperty("command").GetString());
        Assert.AreEqual(JsonValueKind.Object, root.GetProperty("hyperparameters").ValueKind);
        Assert.AreEqual(JsonValueKind.Number, root.GetProperty("test_accuracy").ValueKind);
        foreach (var epoch in root.GetProperty("epochs").EnumerateArray())
        {
            foreach (var key in new[] { "epoch", "train_loss", "val_accuracy", "seconds" })
            {
                Assert.AreEqual(JsonValueKind.Number, epoch.GetProperty(key).ValueKind, key);
            }
        }
        Assert.IsFalse(Directory.GetFiles(folder, "*.tmp").Any() || Directory.GetFiles(folder, ".*").Any(), "no temporary files left");
        return root;
    }

    [TestMethod]
    public void Iris()
    {
        string output = TestUtil.TempFolder("iris");
        Assert.AreEqual(0, Cli.Run(["iris", "--epochs", "3", "--out", output, "--data-dir", RepositoryData()]));
        var metrics = Metrics(output, "iris");
        Assert.AreEqual(3, metrics.GetProperty("epochs").GetArrayLength());
        Assert.AreEqual(IrisSample.LearningRates.Length * IrisSample.HiddenSizes.Length, metrics.GetProperty("sweep").GetArrayLength());
        Assert.IsTrue(File.Exists(Path.Combine(output, "loss.png")));
        Assert.IsTrue(File.Exists(Path.Combine(output, "model.safetensors")));
    }

    [TestMethod]
    public void FashionMlpWithSweep()
    {
        string output = TestUtil.TempFolder("fashion");
        Assert.AreEqual(0, Cli.Run(["fashion-mlp", "--epochs", "1", "--sweep", "--out", output, "--data-dir", FakeFashionData()]));
        var metrics = Metrics(output, "fashion-mlp");
        Assert.AreEqual(FashionMlpSample.SweepVariants.Count, metrics.GetProperty("sweep").GetArrayLength());
        foreach (var file in new[] { "loss.png", "accuracy.png", "model.safetensors", "sweep.md" })
        {
            Assert.IsTrue(File.Exists(Path.Combine(output, file)), file);
        }
    }

    [TestMethod]
    public void LeNetOnFashionLayout()
    {
        string output = TestUtil.TempFolder("lenet-fashion");
        Assert.AreEqual(0, Cli.Run(["lenet", "--data", "fashion", "--epochs", "1", "--out", output, "--data-dir", FakeFashionData()]));
        Metrics(output, "lenet");
    }

    [TestMethod]
    public void MainJobTrainsLeNetThenVisualizes()
    {
        string output = TestUtil.TempFolder("main");
        Assert.AreEqual(0, Cli.Run(["--epochs", "2", "--limit", "2000", "--out", output, "--data-dir", RepositoryData()]));
        Assert.AreEqual(2, Metrics(Path.Combine(output, "lenet"), "lenet").GetProperty("epochs").GetArrayLength());
        Assert.IsTrue(File.Exists(Path.Combine(output, "lenet", "model.safetensors")));
        var visualize = Metrics(Path.Combine(output, "visualize"), "visualize");
        Assert.AreEqual(10, visualize.GetProperty("classes").GetArrayLength());
        Assert.IsTrue(File.Exists(Path.Combine(output, "visualize", "classes.png")));

        string saliency = Path.Combine(output, "saliency");
        Assert.AreEqual(0, Cli.Run(["visualize", "--saliency", "--limit", "200", "--checkpoint", Path.Combine(output, "lenet", "model.safetensors"),
            "--out", saliency, "--data-dir", RepositoryData()]));
        Assert.IsTrue(File.Exists(Path.Combine(saliency, "saliency.png")));
    }

    [TestMethod]
    public void BadValuesAndMissingDataFailWithoutWritingOutput()
    {
        string output = TestUtil.TempFolder("bad");
        Assert.AreNotEqual(0, Cli.Run(["lenet", "--epochs", "0", "--out", output]));
        Assert.AreNotEqual(0, Cli.Run(["lenet", "--data", "cifar", "--out", output]));
        Assert.AreNotEqual(0, Cli.Run(["iris", "--lr", "-1", "--out", output]));
        Assert.AreEqual(1, Cli.Run(["lenet", "--out", output, "--data-dir", TestUtil.TempFolder("empty-data")]));
        Assert.AreEqual(1, Cli.Run(["fashion-mlp", "--out", output, "--data-dir", TestUtil.TempFolder("empty-data")]) , "missing Fashion-MNIST");
        Assert.AreEqual(0, Directory.GetFileSystemEntries(output).Length);
    }
}
