using System.Diagnostics;
using System.Text.Json;
using AutoGrad.Data;
using AutoGrad.Nn;
using AutoGrad.Optim;

namespace AutoGrad.Benchmarks;

/// <summary>
/// Times training epochs exactly as tests/reference/bench_torch.py does in PyTorch: the 784-256-128-10 MLP with Adam
/// (batch 128, 48,000 images) and LeNet-5 with SGD + momentum (batch 64, 60,000 images) on Fashion-MNIST.
/// </summary>
public static class EpochTimer
{
    public static int Run(string[] args)
    {
        string kind = args.Length > 0 ? args[0] : "mlp";
        int threads = Machine.Option(args, "--threads", Environment.ProcessorCount);
        int repeat = Machine.Option(args, "--repeat", 3);
        Parallelism.MaxThreads = threads;
        var data = LoadFashion();
        var times = new List<double>();
        long allocated = 0;
        for (int r = 0; r < repeat; r++)
        {
            var (seconds, bytes) = Epoch(kind, data);
            times.Add(seconds);
            allocated = bytes;
        }
        times.Sort();
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            bench = $"epoch-{kind}",
            impl = "autograd",
            threads,
            vector_bits = Machine.VectorBits,
            seconds = times,
            median = times[times.Count / 2],
            allocated_bytes_last_epoch = allocated,
            gc_counts = new[] { GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2) },
            memory = AutoGrad.Memory.Report().ToString(),
            peak_rss_kb = Machine.PeakResidentKb(),
        }));
        return 0;
    }

    public static TensorDataset LoadFashion()
    {
        foreach (var folder in new[] { Path.Combine(FindRoot(), "data", "fashion-mnist"), "/usr/share/datasets/fashion-mnist" })
        {
            string images = Path.Combine(folder, "train-images-idx3-ubyte.gz");
            if (File.Exists(images))
            {
                return Idx.ReadImageDataset(images, Path.Combine(folder, "train-labels-idx1-ubyte.gz"));
            }
        }
        throw new FileNotFoundException("Fashion-MNIST not found: bash data/get-fashion-mnist.sh");
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "AutoGrad.sln")))
            {
                return dir.FullName;
            }
        }
        return Directory.GetCurrentDirectory();
    }

    public static Sequential Mlp(Generator g) => AutoGrad.Nn.Mlp.Create([784, 256, 128, 10], generator: g);

    public static Sequential LeNet(Generator g) => new(
        new Conv2d(1, 6, 5, padding: 2, generator: g), new ReLU(), new MaxPool2d(2),
        new Conv2d(6, 16, 5, generator: g), new ReLU(), new MaxPool2d(2), new Flatten(),
        new Linear(400, 120, generator: g), new ReLU(), new Linear(120, 84, generator: g), new ReLU(), new Linear(84, 10, generator: g));

    private static (double Seconds, long Allocated) Epoch(string kind, TensorDataset data)
    {
        var g = new Generator(1);
        bool mlp = kind == "mlp";
        Module model = mlp ? new Sequential(new Flatten(), Mlp(g)) : LeNet(g);
        Optimizer optimizer = mlp ? new Adam(model.Parameters(), 0.002f) : new Sgd(model.Parameters(), 0.01f, momentum: 0.9f);
        var subset = new Subset(data, Enumerable.Range(0, mlp ? 48_000 : 60_000).ToArray());
        var loader = new DataLoader(subset, mlp ? 128 : 64, shuffle: true, seed: 1);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        foreach (var batch in loader)
        {
            optimizer.ZeroGrad(setToNull: false); // as torch 1.13's zero_grad() in bench_torch.py: gradients zeroed in place
            F.CrossEntropy(model.Call(batch.Features), batch.Labels).Backward();
            optimizer.Step();
        }
        return (clock.Elapsed.TotalSeconds, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
