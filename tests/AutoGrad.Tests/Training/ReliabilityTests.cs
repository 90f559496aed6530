using System.Diagnostics;
using AutoGrad.Data;
using AutoGrad.IO;
using AutoGrad.Metrics;
using AutoGrad.Nn;
using AutoGrad.Optim;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Training;

/// <summary>Determinism across runs and thread counts, exact resume, crash-safe checkpoints, concurrent inference, flat memory.</summary>
[TestClass]
[DoNotParallelize]
public sealed class ReliabilityTests
{
    private static readonly Lazy<TensorDataset> Digits = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string images = Path.Combine(dir.FullName, "data", "mnist", "train-images-idx3-ubyte.gz");
            if (File.Exists(images))
            {
                var all = Idx.ReadImageDataset(images, Path.Combine(dir.FullName, "data", "mnist", "train-labels-idx1-ubyte.gz"));
                return all.Select(Enumerable.Range(0, 640).ToArray());
            }
        }
        throw new DirectoryNotFoundException("data/mnist not found above the test assembly.");
    });

    private static Sequential SmallCnn(long seed) => new(
        new Conv2d(1, 4, 5, padding: 2, generator: new Generator(seed)), new ReLU(), new MaxPool2d(2),
        new Flatten(), new Dropout(0.2f), new Linear(4 * 14 * 14, 64, generator: new Generator(seed + 1)), new ReLU(),
        new Linear(64, 10, generator: new Generator(seed + 2)));

    private sealed class Run
    {
        public Run(long seed, float lr = 2e-3f)
        {
            Model = SmallCnn(seed);
            Optimizer = new Adam(Model.Parameters(), lr);
            Scheduler = new StepLr(Optimizer, stepSize: 1, gamma: 0.7f);
            Loader = new DataLoader(Digits.Value, 32, shuffle: true, seed: seed);
            Generator.ManualSeed(seed); // dropout masks come from the thread's default generator
        }

        public Sequential Model { get; }

        public Adam Optimizer { get; }

        public StepLr Scheduler { get; }

        public DataLoader Loader { get; }

        public Dictionary<string, Generator> Generators => new() { ["loader"] = Loader.Generator, ["default"] = Generator.Default };

        public void Epoch()
        {
            foreach (var batch in Loader)
            {
                Optimizer.ZeroGrad();
                F.CrossEntropy(Model.Call(batch.Features), batch.Labels).Backward();
                Optimizer.Step();
            }
            Scheduler.Step();
        }

        public float[] Weights() => Model.Parameters().SelectMany(p => p.Value.ToArray()).ToArray();
    }

    private static void AssertBitwiseEqual(float[] expected, float[] actual, string what)
    {
        Assert.AreEqual(expected.Length, actual.Length, what);
        for (int i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
            {
                Assert.Fail($"{what}: weight {i} differs: {expected[i]:R} vs {actual[i]:R}");
            }
        }
    }

    [TestMethod]
    [TestCategory("Determinism")]
    public void SameSeedGivesBitwiseIdenticalWeightsWithOneAndTwoThreads()
    {
        int saved = Parallelism.MaxThreads;
        try
        {
            Parallelism.MaxThreads = 1;
            var one = new Run(7);
            one.Epoch();
            Parallelism.MaxThreads = 2;
            var two = new Run(7);
            two.Epoch();
            var again = new Run(7);
            again.Epoch();
            AssertBitwiseEqual(one.Weights(), two.Weights(), "1 vs 2 threads");
            AssertBitwiseEqual(two.Weights(), again.Weights(), "two runs");
            Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Parallelism.MaxThreads = 0);
        }
        finally
        {
            Parallelism.MaxThreads = saved;
        }
    }

    [TestMethod]
    [TestCategory("Determinism")]
    public void ResumingFromACheckpointEndsBitwiseEqual()
    {
        var uninterrupted = new Run(11);
        for (int e = 0; e < 4; e++)
        {
            uninterrupted.Epoch();
        }

        string path = Path.Combine(TestUtil.TempFolder("resume"), "train.safetensors");
        var first = new Run(11);
        first.Epoch();
        first.Epoch();
        TrainingCheckpoint.Save(path, first.Model, first.Optimizer, first.Scheduler, epoch: 2, first.Generators);

        var resumed = new Run(99); // different initialization, order and masks until the checkpoint is loaded
        int done = TrainingCheckpoint.Load(path, resumed.Model, resumed.Optimizer, resumed.Scheduler, resumed.Generators);
        Assert.AreEqual(2, done);
        Assert.AreEqual(first.Optimizer.LearningRate, resumed.Optimizer.LearningRate);
        for (int e = done; e < 4; e++)
        {
            resumed.Epoch();
        }
        AssertBitwiseEqual(uninterrupted.Weights(), resumed.Weights(), "resumed at epoch 2");

        // PyTorch's resume semantics: the saved base and current rates count, not those the resumed run was built with.
        var otherRate = new Run(99, lr: 0.5f);
        TrainingCheckpoint.Load(path, otherRate.Model, otherRate.Optimizer, otherRate.Scheduler, otherRate.Generators);
        Assert.AreEqual(first.Optimizer.LearningRate, otherRate.Optimizer.LearningRate);
        for (int e = done; e < 4; e++)
        {
            otherRate.Epoch();
        }
        AssertBitwiseEqual(uninterrupted.Weights(), otherRate.Weights(), "resumed at epoch 2 into Adam(lr: 0.5)");

        string plain = Path.Combine(TestUtil.TempFolder("resume"), "plain.safetensors");
        Safetensors.Save(plain, resumed.Model.StateDict());
        Assert.ThrowsExactly<InvalidDataException>(() => TrainingCheckpoint.Load(plain, resumed.Model, resumed.Optimizer, null));
    }

    [TestMethod]
    [Timeout(120_000, CooperativeCancellation = true)]
    public void KillingTheWriterMidSaveLeavesTheLastCheckpointReadable()
    {
        string writer = Path.Combine(AppContext.BaseDirectory, "AutoGrad.Tests.CheckpointWriter.dll");
        string folder = TestUtil.TempFolder("crash");
        string path = Path.Combine(folder, "model.safetensors");
        var random = new Random(5);
        for (int attempt = 0; attempt < 6; attempt++)
        {
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true };
            start.ArgumentList.Add(writer);
            start.ArgumentList.Add(path);
            using var child = Process.Start(start)!;
            Assert.AreEqual("saved", child.StandardOutput.ReadLine(), "the writer completed its first save");
            Thread.Sleep(random.Next(0, 60));
            child.Kill(entireProcessTree: true);
            child.WaitForExit();

            var state = Safetensors.Load(path);
            Assert.AreEqual(8, state.Count, $"attempt {attempt}: a complete checkpoint");
            float value = state["layer0.weight"][0, 0];
            Assert.IsTrue(value is 1f or 2f);
            Assert.IsTrue(state.Values.All(t => t.ToArray().All(v => v == value)), $"attempt {attempt}: one consistent save, not a mix");
        }
        // A kill leaves the writer's temporary file behind; the next save of the same file removes it.
        Safetensors.Save(path, Safetensors.Load(path));
        CollectionAssert.AreEqual(new[] { "model.safetensors" }, Directory.GetFiles(folder).Select(Path.GetFileName).ToArray(),
            "stale temporary files are removed");
    }

    [TestMethod]
    public void OneModelServesEightThreadsUnderNoGrad()
    {
        var model = SmallCnn(3);
        model.Eval();
        var inputs = Enumerable.Range(0, 8).Select(i => Tensor.Rand(new Generator(100 + i), 16, 1, 28, 28)).ToArray();
        float[][] expected;
        using (GradMode.NoGrad())
        {
            expected = inputs.Select(x => model.Call(x).Value.ToArray()).ToArray();
        }
        var actual = new float[8][];
        var threads = Enumerable.Range(0, 8).Select(i => new Thread(() =>
        {
            using var _ = GradMode.NoGrad();
            for (int repeat = 0; repeat < 20; repeat++)
            {
                actual[i] = model.Call(inputs[i]).Value.ToArray();
            }
        })).ToArray();
        foreach (var t in threads)
        {
            t.Start();
        }
        foreach (var t in threads)
        {
            t.Join();
        }
        for (int i = 0; i < 8; i++)
        {
            AssertBitwiseEqual(expected[i], actual[i], $"thread {i}");
        }
    }

    private static (long Start, long End) TrainSteps(int steps)
    {
        var model = Mlp.Create([64, 128, 10], generator: new Generator(1));
        var optimizer = new Adam(model.Parameters());
        var x = Tensor.Randn(new Generator(2), 32, 64);
        int[] y = Enumerable.Range(0, 32).Select(i => i % 10).ToArray();
        long start = 0;
        for (int step = 0; step < steps; step++)
        {
            optimizer.ZeroGrad();
            F.CrossEntropy(model.Call(x), y).Backward();
            optimizer.Step();
            if (step == steps / 10)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                start = GC.GetTotalMemory(forceFullCollection: true);
            }
        }
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return (start, GC.GetTotalMemory(forceFullCollection: true));
    }

    [TestMethod]
    public void TrainingKeepsNoGraphAlive() => AssertFlat(TrainSteps(1_000));

    [TestMethod]
    [TestCategory("LongRun")]
    public void TenThousandStepsWithFlatMemory() => AssertFlat(TrainSteps(10_000));

    private static void AssertFlat((long Start, long End) memory)
        => Assert.IsTrue(memory.End - memory.Start < 1 << 20, $"live memory grew from {memory.Start} to {memory.End} bytes");
}
