using AutoGrad.Nn;
using AutoGrad.Optim;
using BenchmarkDotNet.Attributes;

namespace AutoGrad.Benchmarks;

/// <summary>LeNet's layers at batch 64 (forward + backward), softmax cross-entropy, and whole training steps.</summary>
[MemoryDiagnoser]
public class LayerBenchmarks
{
    private Variable _image = null!, _conv1Out = null!, _logits = null!;
    private Conv2d _conv1 = null!, _conv2 = null!;
    private Variable _conv2In = null!;
    private int[] _labels = [];
    private Sequential _mlp = null!, _lenet = null!;
    private Adam _mlpOptimizer = null!;
    private Sgd _lenetOptimizer = null!;
    private Tensor _mlpBatch = null!, _lenetBatch = null!;

    [GlobalSetup]
    public void Setup()
    {
        var g = new Generator(1);
        _image = new Variable(Tensor.Rand(g, 64, 1, 28, 28));
        _conv1 = new Conv2d(1, 6, 5, padding: 2, generator: g);
        _conv2 = new Conv2d(6, 16, 5, generator: g);
        _conv2In = new Variable(Tensor.Rand(g, 64, 6, 14, 14), requiresGrad: true);
        _conv1Out = new Variable(Tensor.Randn(g, 64, 6, 28, 28), requiresGrad: true);
        _logits = new Variable(Tensor.Randn(g, 128, 10), requiresGrad: true);
        _labels = Enumerable.Range(0, 128).Select(i => i % 10).ToArray();
        _mlp = EpochTimer.Mlp(g);
        _mlpOptimizer = new Adam(_mlp.Parameters(), 0.002f);
        _mlpBatch = Tensor.Rand(g, 128, 784);
        _lenet = EpochTimer.LeNet(g);
        _lenetOptimizer = new Sgd(_lenet.Parameters(), 0.01f, momentum: 0.9f);
        _lenetBatch = Tensor.Rand(g, 64, 1, 28, 28);
    }

    // Each layer benchmark gives its output (and the input gradient) back to the pool afterwards, as a Sequential step
    // does, so it times the layer rather than fresh large-object allocations.

    [Benchmark]
    public void Conv1Forward() => ForwardOnly(() => _conv1.Call(_image));

    [Benchmark]
    public void Conv1ForwardBackward() => ForwardBackward(() => _conv1.Call(_image), null);

    [Benchmark]
    public void Conv2Forward() => ForwardOnly(() => _conv2.Call(_conv2In));

    [Benchmark]
    public void Conv2ForwardBackward() => ForwardBackward(() => _conv2.Call(_conv2In), _conv2In);

    [Benchmark]
    public void MaxPoolForward() => ForwardOnly(() => F.MaxPool2d(_conv1Out, 2));

    [Benchmark]
    public void MaxPoolForwardBackward() => ForwardBackward(() => F.MaxPool2d(_conv1Out, 2), _conv1Out);

    [Benchmark]
    public void ReluForwardBackward() => ForwardBackward(() => F.Relu(_conv1Out), _conv1Out);

    private static void ForwardOnly(Func<Variable> layer)
    {
        using var _ = GradMode.NoGrad();
        AutoGrad.Buffers.BufferPool.Return(layer().Value);
    }

    private static void ForwardBackward(Func<Variable> layer, Variable? input)
    {
        var output = layer();
        F.Sum(output).Backward();
        AutoGrad.Buffers.BufferPool.Return(output.Value);
        if (input is not null)
        {
            AutoGrad.Buffers.BufferPool.Return(input.Grad);
            input.Grad = null;
        }
    }

    [Benchmark]
    public void SoftmaxCrossEntropy() => F.CrossEntropy(_logits, _labels).Backward();

    [Benchmark]
    public void MlpStep()
    {
        _mlpOptimizer.ZeroGrad(setToNull: false);
        F.CrossEntropy(_mlp.Call(_mlpBatch), _labels).Backward();
        _mlpOptimizer.Step();
    }

    [Benchmark]
    public void LeNetStep()
    {
        _lenetOptimizer.ZeroGrad(setToNull: false);
        F.CrossEntropy(_lenet.Call(_lenetBatch), _labels[..64]).Backward();
        _lenetOptimizer.Step();
    }
}
