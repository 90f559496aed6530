using AutoGrad.Onnx.Protos;
using Google.Protobuf;

namespace AutoGrad.Onnx;

/// <summary>
/// Loads ONNX models other frameworks wrote (torch.onnx.export, AutoGrad's <see cref="OnnxExporter"/>) as trainable
/// <see cref="OnnxModule"/>s. The operators are listed in <see cref="SupportedOperators"/>; opsets 1 to 20 are read
/// with each version's semantics where they differ (axes as inputs from opset 13, Softmax's 2-D coercion before 13).
/// </summary>
public static class OnnxImporter
{
    /// <summary>The ONNX operator types the importer runs.</summary>
    public static IReadOnlyList<string> SupportedOperators { get; } = [.. Import.OnnxOps.Handlers.Keys.Order(StringComparer.Ordinal)];

    /// <summary>Loads the model in the file at <paramref name="path"/>.</summary>
    /// <exception cref="InvalidDataException">The file is no valid ONNX model (the message names the file and the problem).</exception>
    /// <exception cref="NotSupportedException">The model uses an operator, attribute value or element type the importer lacks.</exception>
    public static OnnxModule Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Load(File.ReadAllBytes(path), path);
    }

    /// <summary>Loads a model from <paramref name="stream"/> (read to its end).</summary>
    /// <inheritdoc cref="Load(string)"/>
    public static OnnxModule Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return Load(buffer.ToArray(), "ONNX stream");
    }

    /// <summary>Loads a model from the bytes of an .onnx file.</summary>
    /// <inheritdoc cref="Load(string)"/>
    public static OnnxModule Load(ReadOnlySpan<byte> model) => Load(model, "ONNX model");

    private static OnnxModule Load(ReadOnlySpan<byte> bytes, string source)
    {
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"{source}: not a valid ONNX model (protobuf: {e.Message})", e);
        }
        return new OnnxModule(model, source);
    }
}
