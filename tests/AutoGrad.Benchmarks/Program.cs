using AutoGrad.Benchmarks;
using BenchmarkDotNet.Running;

// "epoch mlp|lenet [--threads N] [--repeat R]" times whole training epochs (the PyTorch twin is
// tests/reference/bench_torch.py); anything else goes to BenchmarkDotNet (e.g. --filter "*Gemm*").
if (args.Length > 0 && args[0] == "epoch")
{
    return EpochTimer.Run(args[1..]);
}
BenchmarkSwitcher.FromAssembly(typeof(EpochTimer).Assembly).Run(args);
return 0;
