using System.Diagnostics;
using AutoGrad.Nn;

namespace AutoGrad.Benchmarks;

/// <summary>
/// "conv-layers [--batch B] [--threads T] [--only NAME] [--repeat R]": forward + backward times of the resnet sample's
/// convolutions and batch norms, one layer at a time, and the forward under NoGrad (inference), medians of R - 5 timed steps (tests/reference/conv_layers_torch.py times the same in PyTorch).
/// </summary>
public static class ConvLayerTimer
{
    private static readonly (string Name, int In, int Out, int Size, int Kernel, int Stride)[] Layers =
    [
        ("stem 1-24 28", 1, 24, 28, 3, 1), ("conv 24-24 28", 24, 24, 28, 3, 1), ("conv 24-48 s2 28", 24, 48, 28, 3, 2),
        ("conv 48-48 14", 48, 48, 14, 3, 1), ("1x1 24-48 s2 28", 24, 48, 28, 1, 2), ("conv 48-96 s2 14", 48, 96, 14, 3, 2),
        ("conv 96-96 7", 96, 96, 7, 3, 1), ("1x1 48-96 s2 14", 48, 96, 14, 1, 2),
    ];

    /// <summary>The first runs of each layer warm the JIT and the buffer pool and are not timed.</summary>
    private const int WarmUps = 5;

    private static int Repeats = 25;

    public static int Run(string[] args)
    {
        Repeats = Machine.Option(args, "--repeat", 25);
        if (Repeats <= WarmUps)
        {
            Console.Error.WriteLine($"conv-layers: --repeat {Repeats} leaves nothing to time; the first {WarmUps} runs are warm-ups, so give more than {WarmUps}.");
            return 2;
        }
        Parallelism.MaxThreads = Machine.Option(args, "--threads", Environment.ProcessorCount);
        int batch = Machine.Option(args, "--batch", 128);
        string only = args.SkipWhile(a => a != "--only").Skip(1).FirstOrDefault() ?? "";
        var g = new Generator(1);
        foreach (var (name, inChannels, outChannels, size, kernel, stride) in Layers)
        {
            if (!name.Contains(only, StringComparison.Ordinal))
            {
                continue;
            }
            var conv = new Conv2d(inChannels, outChannels, kernel, stride, padding: kernel / 2, bias: false, generator: g);
            var input = new Variable(Tensor.Randn(g, batch, inChannels, size, size), requiresGrad: inChannels > 1);
            Report(name, () => conv.Call(input), input, conv);
        }
        foreach (var (channels, size) in new[] { (24, 28), (48, 14), (96, 7) })
        {
            if (!$"bn+relu {channels} {size}".Contains(only, StringComparison.Ordinal))
            {
                continue;
            }
            var norm = new BatchNorm2d(channels);
            var input = new Variable(Tensor.Randn(g, batch, channels, size, size), requiresGrad: true);
            Report($"bn+relu {channels} {size}", () => F.Relu(norm.Call(input)), input, norm);
        }
        return 0;
    }

    /// <summary>
    /// Times one layer as a training step runs it: the output and the gradients go back to the pool after each step
    /// (as a Sequential step and ZeroGrad do), so the timings measure the kernels rather than fresh large allocations.
    /// </summary>
    private static void Report(string name, Func<Variable> forward, Variable input, Module layer)
    {
        var forwardTimes = new List<double>();
        var backwardTimes = new List<double>();
        for (int r = 0; r < Repeats; r++)
        {
            var clock = Stopwatch.StartNew();
            var output = forward();
            double f = clock.Elapsed.TotalMilliseconds;
            F.Sum(output).Backward();
            double b = clock.Elapsed.TotalMilliseconds - f;
            AutoGrad.Buffers.BufferPool.Return(output.Value);
            foreach (var v in layer.Parameters().Append(input))
            {
                AutoGrad.Buffers.BufferPool.Return(v.Grad);
                v.Grad = null;
            }
            if (r >= WarmUps)
            {
                forwardTimes.Add(f);
                backwardTimes.Add(b);
            }
        }
        var inferenceTimes = new List<double>();
        using (GradMode.NoGrad())
        {
            for (int r = 0; r < Repeats; r++)
            {
                var clock = Stopwatch.StartNew();
                var output = forward();
                double f = clock.Elapsed.TotalMilliseconds;
                AutoGrad.Buffers.BufferPool.Return(output.Value);
                if (r >= WarmUps)
                {
                    inferenceTimes.Add(f);
                }
            }
        }
        forwardTimes.Sort();
        backwardTimes.Sort();
        inferenceTimes.Sort();
        Console.WriteLine($"{name,-20} forward {forwardTimes[forwardTimes.Count / 2],7:F2} ms  backward {backwardTimes[backwardTimes.Count / 2],7:F2} ms"
            + $"  no-grad forward {inferenceTimes[inferenceTimes.Count / 2],7:F2} ms");
    }
}
