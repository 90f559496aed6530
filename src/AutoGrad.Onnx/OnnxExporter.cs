using AutoGrad.IO;
using AutoGrad.Nn;
using AutoGrad.Onnx.Export;

namespace AutoGrad.Onnx;

/// <summary>
/// Exports a model to ONNX (opset 17) by tracing: one forward pass in evaluation mode records the graph, which is
/// then walked from the output and written node for node through ONNX's generated message classes. Parameters
/// become initializers under their dotted names (the names <c>StateDict</c> and PyTorch use), buffers such as
/// running statistics likewise; the batch dimension is symbolic ("N"), so the file accepts any batch size.
/// </summary>
/// <remarks>
/// A dynamic batch is found, not assumed: the model is traced a second time on one more sample, and what differs
/// between the two graphs depends on the batch. A reshape gets a -1 (or a 0, "copy") where its target shape moved;
/// any other setting that moved (a constant mask or index of the batch's size) is refused with the op named, as is
/// a graph whose structure changes with the batch, since ONNX could not express it. Export with
/// <c>dynamicBatch: false</c> to fix the batch size instead.
/// </remarks>
public static class OnnxExporter
{
    /// <summary>
    /// The ONNX operator set the exporter targets: 17, the newest that PyTorch 1.13 writes and Debian's onnx 1.12
    /// checks (it has LayerNormalization; GELU, an op only from opset 20, is written as its formula).
    /// </summary>
    public const int OpsetVersion = 17;

    /// <summary>The ops the exporter maps, by AutoGrad's names, with their limits.</summary>
    public static IReadOnlyList<string> SupportedOps => OpEmitter.Supported;

    /// <summary>Writes the ONNX model of <paramref name="model"/> traced on <paramref name="exampleInput"/> to <paramref name="path"/>, atomically.</summary>
    public static void Export(Module model, Tensor exampleInput, string path, bool dynamicBatch = true)
    {
        var bytes = Export(model, exampleInput, dynamicBatch);
        AtomicFile.Write(path, s => s.Write(bytes));
    }

    /// <summary>The ONNX model (serialized ModelProto) of <paramref name="model"/> traced on <paramref name="exampleInput"/>.</summary>
    /// <exception cref="NotSupportedException">The forward pass uses an op with no ONNX mapping; the message names the op and its node.</exception>
    public static byte[] Export(Module model, Tensor exampleInput, bool dynamicBatch = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(exampleInput);
        if (exampleInput.Rank == 0)
        {
            throw new ArgumentException("ONNX export: the example input must have a batch dim; got a scalar.", nameof(exampleInput));
        }
        using var evaluation = model.EvalMode();
        using var recording = GradMode.EnableGrad();
        var (input, output) = Trace(model, exampleInput);
        var twins = dynamicBatch ? BatchTwins.Pair(output, Trace(model, WithOneMoreSample(exampleInput)).Output) : null;
        return new GraphBuilder(model, input, twins).Build(output);
    }

    private static (Variable Input, Variable Output) Trace(Module model, Tensor example)
    {
        var input = new Variable(example, requiresGrad: true, name: "input");
        var output = model.Call(input);
        if (ReferenceEquals(output, input))
        {
            throw new NotSupportedException("ONNX export: the model returns its input unchanged; there is nothing to export.");
        }
        return (input, output);
    }

    // The example with its first sample repeated once more at the end: a batch one larger, of valid inputs.
    private static Tensor WithOneMoreSample(Tensor example)
    {
        int sample = example.Length / Math.Max(example.Shape[0], 1);
        var values = new float[example.Length + sample];
        example.AsReadOnlySpan().CopyTo(values);
        example.AsReadOnlySpan()[..sample].CopyTo(values.AsSpan(example.Length));
        return Tensor.FromArray(values, [example.Shape[0] + 1, .. example.ShapeArray[1..]]);
    }
}
