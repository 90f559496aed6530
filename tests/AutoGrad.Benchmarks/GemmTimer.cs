using System.Diagnostics;
using AutoGrad.Kernels;

namespace AutoGrad.Benchmarks;

/// <summary>
/// "gemm M N K [t|n][t|n] ... [--threads T]": GFLOP/s of single products, the median of 15 timed rounds of about 50 ms after a warm-up round,
/// a quick look at one shape next to BenchmarkDotNet's full <see cref="GemmBenchmarks"/>. Shapes are written
/// "2048x384x128nt" (A plain, B transposed).
/// </summary>
public static class GemmTimer
{
    public static int Run(string[] args)
    {
        Parallelism.MaxThreads = Machine.Option(args, "--threads", Environment.ProcessorCount);
        foreach (var spec in args.Where(a => a.Contains('x')))
        {
            var parts = spec.Split('x');
            string flags = new(parts[2].SkipWhile(char.IsDigit).ToArray());
            int m = int.Parse(parts[0]), n = int.Parse(parts[1]), k = int.Parse(parts[2][..^flags.Length]);
            bool transA = flags.Length > 0 && flags[0] == 't', transB = flags.Length > 1 && flags[1] == 't';
            var g = new Generator(1);
            var a = new float[m * k];
            var b = new float[k * n];
            var c = new float[m * n];
            g.FillUniform(a);
            g.FillUniform(b);
            double flops = 2.0 * m * n * k;
            int reps = Math.Max(1, (int)(5e9 / flops)); // about 50 ms a round
            var rates = new List<double>();
            for (int r = 0; r < 16; r++)
            {
                var clock = Stopwatch.StartNew();
                for (int i = 0; i < reps; i++)
                {
                    Gemm.Multiply(a, b, c, m, n, k, transA, transB);
                }
                if (r > 0)
                {
                    rates.Add(flops * reps / clock.Elapsed.TotalSeconds / 1e9);
                }
            }
            rates.Sort();
            Console.WriteLine($"{spec,-20} threads {Parallelism.MaxThreads}: median {rates[rates.Count / 2],7:F1} GFLOP/s (min {rates[0]:F1}, max {rates[^1]:F1})");
        }
        return 0;
    }
}
