using System.Diagnostics;
using System.Text.Json;
using AutoGrad.Data;
using AutoGrad.Nn;
using AutoGrad.Optim;

namespace AutoGrad.Benchmarks;

/// <summary>
/// Times training epochs exactly as tests/reference/bench_torch.py does in PyTorch, on Fashion-MNIST: the
/// 784-256-128-10 MLP with Adam (batch 128, 48,000 images); LeNet-5 with SGD + momentum (batch 64, 60,000 images), as a
/// Sequential ("lenet") and as a Module of one's own written with the PyTorch idiom ("lenet-custom"); and the two-conv
/// net of PyTorch's MNIST example (conv 1-32 and 32-64, 3 x 3, max pooling, dropout, 9216-128-10, log-softmax + NLL,
/// SGD + momentum, batch 64, 8,000 images) as a Sequential ("convnet") and as a Module ("convnet-custom").
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
            steps_per_epoch = kind == "mlp" ? 375 : kind.StartsWith("convnet", StringComparison.Ordinal) ? 125 : 938,
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

    /// <summary>LeNet-5 as a user writes it in PyTorch style: a Module whose Forward calls F and its layers.</summary>
    public sealed class CustomLeNet : Module
    {
        private readonly Conv2d _conv1, _conv2;
        private readonly Linear _fc1, _fc2, _fc3;

        public CustomLeNet(Generator g)
        {
            _conv1 = RegisterModule("conv1", new Conv2d(1, 6, 5, padding: 2, generator: g));
            _conv2 = RegisterModule("conv2", new Conv2d(6, 16, 5, generator: g));
            _fc1 = RegisterModule("fc1", new Linear(400, 120, generator: g));
            _fc2 = RegisterModule("fc2", new Linear(120, 84, generator: g));
            _fc3 = RegisterModule("fc3", new Linear(84, 10, generator: g));
        }

        public override Variable Forward(Variable x)
        {
            x = F.MaxPool2d(F.Relu(_conv1.Call(x)), 2);
            x = F.MaxPool2d(F.Relu(_conv2.Call(x)), 2);
            x = F.Relu(_fc1.Call(F.Flatten(x)));
            x = F.Relu(_fc2.Call(x));
            return _fc3.Call(x);
        }
    }

    /// <summary>
    /// <see cref="CustomLeNet"/> on AutoGrad's fast path for Modules of one's own: the activation as an epilogue of the
    /// layer (<see cref="Activation.Relu"/>) instead of a separate F.Relu.
    /// </summary>
    public sealed class CustomLeNetFused : Module
    {
        private readonly Conv2d _conv1, _conv2;
        private readonly Linear _fc1, _fc2, _fc3;

        public CustomLeNetFused(Generator g)
        {
            _conv1 = RegisterModule("conv1", new Conv2d(1, 6, 5, padding: 2, generator: g));
            _conv2 = RegisterModule("conv2", new Conv2d(6, 16, 5, generator: g));
            _fc1 = RegisterModule("fc1", new Linear(400, 120, generator: g));
            _fc2 = RegisterModule("fc2", new Linear(120, 84, generator: g));
            _fc3 = RegisterModule("fc3", new Linear(84, 10, generator: g));
        }

        public override Variable Forward(Variable x)
        {
            x = F.MaxPool2d(_conv1.Forward(x, Activation.Relu), 2);
            x = F.MaxPool2d(_conv2.Forward(x, Activation.Relu), 2);
            x = _fc1.Forward(F.Flatten(x), Activation.Relu);
            x = _fc2.Forward(x, Activation.Relu);
            return _fc3.Call(x);
        }
    }

    /// <summary>The net of PyTorch's MNIST example, as its users write it (log-softmax in Forward, NLL as the loss).</summary>
    public sealed class ConvNet : Module
    {
        private readonly Conv2d _conv1, _conv2;
        private readonly Linear _fc1, _fc2;

        public ConvNet(Generator g)
        {
            _conv1 = RegisterModule("conv1", new Conv2d(1, 32, 3, generator: g));
            _conv2 = RegisterModule("conv2", new Conv2d(32, 64, 3, generator: g));
            _fc1 = RegisterModule("fc1", new Linear(9216, 128, generator: g));
            _fc2 = RegisterModule("fc2", new Linear(128, 10, generator: g));
        }

        public override Variable Forward(Variable x)
        {
            x = F.Relu(_conv1.Call(x));
            x = F.MaxPool2d(F.Relu(_conv2.Call(x)), 2);
            x = F.Dropout(x, 0.25f, Training);
            x = F.Relu(_fc1.Call(F.Flatten(x)));
            x = F.Dropout(x, 0.5f, Training);
            return F.LogSoftmax(_fc2.Call(x), 1);
        }
    }

    /// <summary><see cref="ConvNet"/> as a Sequential.</summary>
    public static Sequential ConvNetSequential(Generator g) => new(
        new Conv2d(1, 32, 3, generator: g), new ReLU(), new Conv2d(32, 64, 3, generator: g), new ReLU(), new MaxPool2d(2),
        new Dropout(0.25f), new Flatten(), new Linear(9216, 128, generator: g), new ReLU(), new Dropout(0.5f),
        new Linear(128, 10, generator: g), new LogSoftmax(1));

    private static (double Seconds, long Allocated) Epoch(string kind, TensorDataset data)
    {
        var g = new Generator(1);
        Module model = kind switch
        {
            "mlp" => new Sequential(new Flatten(), Mlp(g)),
            "lenet" => LeNet(g),
            "lenet-custom" => new CustomLeNet(g),
            "lenet-custom-fused" => new CustomLeNetFused(g),
            "convnet" => ConvNetSequential(g),
            "convnet-custom" => new ConvNet(g),
            _ => throw new ArgumentException($"epoch: unknown model '{kind}' (mlp, lenet, lenet-custom, convnet, convnet-custom)"),
        };
        bool mlp = kind == "mlp", convnet = kind.StartsWith("convnet", StringComparison.Ordinal);
        Optimizer optimizer = mlp ? new Adam(model.Parameters(), 0.002f) : new Sgd(model.Parameters(), 0.01f, momentum: 0.9f);
        var subset = new Subset(data, Enumerable.Range(0, mlp ? 48_000 : convnet ? 8_000 : 60_000).ToArray());
        var loader = new DataLoader(subset, mlp ? 128 : 64, shuffle: true, seed: 1);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        foreach (var batch in loader)
        {
            optimizer.ZeroGrad(setToNull: false); // as torch 1.13's zero_grad() in bench_torch.py: gradients zeroed in place
            var output = model.Call(batch.Features);
            (convnet ? F.NllLoss(output, batch.Labels) : F.CrossEntropy(output, batch.Labels)).Backward();
            optimizer.Step();
        }
        return (clock.Elapsed.TotalSeconds, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
