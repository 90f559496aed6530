using AutoGrad.Kernels;
using BenchmarkDotNet.Attributes;

namespace AutoGrad.Benchmarks;

/// <summary>
/// SGEMM throughput on square sizes and on the MLP's and LeNet's training shapes (forward and the two backward products),
/// with 1 and 2 threads.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(GflopsConfig))]
public class GemmBenchmarks
{
    private float[] _a = [], _b = [], _c = [];

    [ParamsSource(nameof(Shapes))]
    public GemmShape Shape { get; set; } = new(256, 256, 256, false, false);

    [Params(1, 2)]
    public int Threads { get; set; } = 1;

    public static IEnumerable<GemmShape> Shapes =>
    [
        new(256, 256, 256, false, false), new(512, 512, 512, false, false), new(1024, 1024, 1024, false, false), new(2048, 2048, 2048, false, false),
        new(128, 256, 784, false, true),  // forward: x [128, 784] W^T, W [256, 784]
        new(128, 784, 256, false, false), // backward, input: grad [128, 256] W [256, 784]
        new(256, 784, 128, true, false),  // backward, weight: grad^T [256, 128] x [128, 784]
        new(16, 6400, 150, false, false), // LeNet conv2 forward at batch 64: W [16, 150] cols [150, 6400]
        new(16, 150, 6400, false, true),  // conv2 weight gradient: grad [16, 6400] cols^T
        new(150, 6400, 16, true, false),  // conv2 column gradient: W^T grad
        new(6, 50176, 25, false, false),  // conv1 forward at batch 64
    ];

    [GlobalSetup]
    public void Setup()
    {
        Parallelism.MaxThreads = Threads;
        var g = new Generator(1);
        _a = new float[Shape.M * Shape.K];
        _b = new float[Shape.K * Shape.N];
        _c = new float[Shape.M * Shape.N];
        g.FillUniform(_a);
        g.FillUniform(_b);
    }

    [Benchmark]
    public void Multiply() => Gemm.Multiply(_a, _b, _c, Shape.M, Shape.N, Shape.K, Shape.TransA, Shape.TransB);
}

/// <summary>One GEMM problem: C[m, n] = op(A)[m, k] op(B)[k, n].</summary>
public sealed record GemmShape(int M, int N, int K, bool TransA, bool TransB)
{
    public double Flops => 2.0 * M * N * K;

    public override string ToString() => $"{M}x{N}x{K}{(TransA ? " A^T" : "")}{(TransB ? " B^T" : "")}";
}
