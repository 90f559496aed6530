using AutoGrad.Kernels;
using BenchmarkDotNet.Attributes;

namespace AutoGrad.Benchmarks;

/// <summary>SGEMM throughput on square sizes and on the MLP's training shapes (forward and the two backward products).</summary>
[MemoryDiagnoser]
[Config(typeof(GflopsConfig))]
public class GemmBenchmarks
{
    private float[] _a = [], _b = [], _c = [];

    [ParamsSource(nameof(Shapes))]
    public GemmShape Shape { get; set; } = new(256, 256, 256, false, false);

    public static IEnumerable<GemmShape> Shapes =>
    [
        new(256, 256, 256, false, false), new(512, 512, 512, false, false), new(1024, 1024, 1024, false, false), new(2048, 2048, 2048, false, false),
        new(128, 256, 784, false, true),  // forward: x [128, 784] W^T, W [256, 784]
        new(128, 784, 256, false, false), // backward, input: grad [128, 256] W [256, 784]
        new(256, 784, 128, true, false),  // backward, weight: grad^T [256, 128] x [128, 784]
    ];

    [GlobalSetup]
    public void Setup()
    {
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
