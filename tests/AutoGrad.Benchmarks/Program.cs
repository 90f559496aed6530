using AutoGrad.Benchmarks;
using BenchmarkDotNet.Running;

// "epoch mlp|lenet [--threads N] [--repeat R]" times whole training epochs (the PyTorch twin is
// tests/reference/bench_torch.py); "infer mlp|lenet [--threads N] [--batch B] [--repeat R]" times eval-mode forwards
// against ONNX Runtime on the same weights; "gemm 2048x384x128nt ..." prints GFLOP/s of single products; anything else goes to BenchmarkDotNet (e.g. --filter "*Gemm*").
return args.FirstOrDefault() switch
{
    "epoch" => EpochTimer.Run(args[1..]),
    "infer" => InferenceTimer.Run(args[1..]),
    "gemm" => GemmTimer.Run(args[1..]),
    "conv-layers" => ConvLayerTimer.Run(args[1..]),
    _ => RunBenchmarkDotNet(args),
};

static int RunBenchmarkDotNet(string[] args)
{
    BenchmarkSwitcher.FromAssembly(typeof(EpochTimer).Assembly).Run(args);
    return 0;
}
