using System.Diagnostics;
using System.Text.Json;
using AutoGrad.Nn;
using AutoGrad.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace AutoGrad.Benchmarks;

/// <summary>
/// Times AutoGrad's eval-mode forward under <see cref="GradMode.NoGrad"/> against ONNX Runtime running the same weights
/// (exported with <see cref="OnnxExporter"/>), for the models of <see cref="EpochTimer"/>, with the same thread count on
/// both sides. The outputs must agree within 1e-4 (absolute plus relative) or the run fails. Each repeat times about a
/// second of calls per side, the two sides taking turns so that the machine's load hits both alike.
/// </summary>
public static class InferenceTimer
{
    private const double SecondsPerMeasurement = 1.0;
    private const float Tolerance = 1e-4f;

    public static int Run(string[] args)
    {
        string kind = args.Length > 0 ? args[0] : "mlp";
        int threads = Machine.Option(args, "--threads", Environment.ProcessorCount);
        int batch = Machine.Option(args, "--batch", 64);
        int repeat = Machine.Option(args, "--repeat", 3);
        Parallelism.MaxThreads = threads;
        var g = new Generator(1);
        Module model = kind == "mlp" ? new Sequential(new Flatten(), EpochTimer.Mlp(g)) : EpochTimer.LeNet(g);
        model.Eval();
        var input = Tensor.Rand(g, batch, 1, 28, 28);
        using var ort = new OrtModel(OnnxExporter.Export(model, input), input, threads);

        float[] expected = Forward(model, input).ToArray();
        ort.Run();
        float worst = 0f;
        for (int i = 0; i < expected.Length; i++)
        {
            float diff = MathF.Abs(expected[i] - ort.Output[i]);
            worst = MathF.Max(worst, diff);
            if (!(diff <= Tolerance + Tolerance * MathF.Abs(ort.Output[i])))
            {
                Console.Error.WriteLine($"infer {kind} batch {batch}: AutoGrad and ONNX Runtime differ at output element {i}: " +
                    $"{expected[i]} vs {ort.Output[i]} (tolerance {Tolerance} absolute + {Tolerance} relative)");
                return 2;
            }
        }

        Action autograd = () => Forward(model, input);
        Action onnx = ort.Run;
        int autogradCalls = CallsPerMeasurement(autograd), onnxCalls = CallsPerMeasurement(onnx);
        var autogradMs = new List<double>();
        var onnxMs = new List<double>();
        for (int r = 0; r < repeat; r++)
        {
            autogradMs.Add(MillisecondsPerCall(autograd, autogradCalls));
            onnxMs.Add(MillisecondsPerCall(onnx, onnxCalls));
        }
        autogradMs.Sort();
        onnxMs.Sort();
        double ours = autogradMs[repeat / 2], theirs = onnxMs[repeat / 2];
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            bench = $"infer-{kind}",
            impl = "autograd-vs-onnxruntime",
            ort_version = OrtEnv.Instance().GetVersionString(),
            batch,
            threads,
            vector_bits = Machine.VectorBits,
            autograd_ms = autogradMs,
            autograd_median_ms = ours,
            ort_ms = onnxMs,
            ort_median_ms = theirs,
            ratio = theirs / ours, // above 1: AutoGrad is faster
            calls = new[] { autogradCalls, onnxCalls },
            max_abs_diff = worst,
        }));
        return 0;
    }

    private static Tensor Forward(Module model, Tensor input)
    {
        using (GradMode.NoGrad())
        {
            return model.Call(input).Value;
        }
    }

    /// <summary>Warms <paramref name="call"/> up (JIT tiers, buffer pools, ORT's threads), then sizes a measurement to about a second.</summary>
    private static int CallsPerMeasurement(Action call)
    {
        var clock = Stopwatch.StartNew();
        int warmup = 0;
        while ((clock.Elapsed.TotalSeconds < 0.5 || warmup < 50) && clock.Elapsed.TotalSeconds < 3)
        {
            call();
            warmup++;
        }
        int probe = Math.Max(1, warmup / 10);
        double seconds = MillisecondsPerCall(call, probe) / 1e3;
        return (int)Math.Clamp(Math.Ceiling(SecondsPerMeasurement / seconds), 1, 10_000_000);
    }

    private static double MillisecondsPerCall(Action call, int calls)
    {
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < calls; i++)
        {
            call();
        }
        return clock.Elapsed.TotalMilliseconds / calls;
    }

    /// <summary>
    /// An ONNX Runtime session on one fixed input, in its fastest form from .NET: input and output bound once as
    /// OrtValues over managed arrays, so a call does no allocation and no copying on the managed side.
    /// </summary>
    private sealed class OrtModel : IDisposable
    {
        private readonly InferenceSession _session;
        private readonly OrtValue _input, _output;
        private readonly RunOptions _runOptions = new();
        private readonly string[] _inputNames, _outputNames;

        public OrtModel(byte[] model, Tensor input, int threads)
        {
            using var options = new SessionOptions
            {
                IntraOpNumThreads = threads,
                InterOpNumThreads = 1,
                ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
                GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            };
            _session = new InferenceSession(model, options);
            _inputNames = [.. _session.InputMetadata.Keys];
            _outputNames = [.. _session.OutputMetadata.Keys];
            _input = OrtValue.CreateTensorValueFromMemory(input.ToArray(), [.. input.Shape.ToArray().Select(d => (long)d)]);
            Output = new float[input.Shape[0] * 10];
            _output = OrtValue.CreateTensorValueFromMemory(Output, [input.Shape[0], 10]);
        }

        public float[] Output { get; }

        public void Run() => _session.Run(_runOptions, _inputNames, [_input], _outputNames, [_output]);

        public void Dispose()
        {
            _input.Dispose();
            _output.Dispose();
            _runOptions.Dispose();
            _session.Dispose();
        }
    }
}
