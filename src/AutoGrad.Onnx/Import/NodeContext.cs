using AutoGrad.Onnx.Protos;

namespace AutoGrad.Onnx.Import;

/// <summary>
/// What an op's handler sees of one node while the graph runs: its inputs (already computed), its attributes read with
/// ONNX's defaults, the opset and the module's mode, and the errors that name the node.
/// </summary>
internal sealed class NodeContext(NodeProto node, OnnxValue?[] inputs, long opset, bool training, string source, IReadOnlySet<string> buffers)
{
    public NodeProto Node => node;

    public long Opset => opset;

    /// <summary>The module's mode: Dropout and BatchNormalization follow it, as PyTorch's modules do.</summary>
    public bool Training => training;

    public string OpType => node.OpType;

    /// <summary>How errors name this node: file, node name, op and opset.</summary>
    public string Where => $"{source}: node '{node.Name}' ({node.OpType}, opset {opset})";

    public int InputCount => inputs.Length;

    /// <summary>How many outputs the node names (trailing optional outputs may be left out).</summary>
    public int OutputCount => node.Output.Count;

    /// <summary>Whether output <paramref name="index"/> is asked for (named and not empty).</summary>
    public bool WantsOutput(int index) => index < node.Output.Count && node.Output[index].Length > 0;

    /// <summary>Whether input <paramref name="index"/> is a buffer of the module (state it may update in place).</summary>
    public bool IsBuffer(int index) => index < node.Input.Count && buffers.Contains(node.Input[index]);

    public bool HasInput(int index) => index < inputs.Length && inputs[index] is not null;

    public OnnxValue Input(int index)
        => HasInput(index) ? inputs[index]! : throw Invalid($"input {index} is required but {(index < inputs.Length ? "empty" : $"the node has {inputs.Length} inputs")}");

    public OnnxValue? OptionalInput(int index) => HasInput(index) ? inputs[index] : null;

    /// <summary>Input <paramref name="index"/> as a float Variable; an integer tensor is refused.</summary>
    public Variable Real(int index)
    {
        var value = Input(index);
        return value.Real ?? throw Unsupported($"input {index} ('{node.Input[index]}') is {value.Element}; this op computes in float32 only");
    }

    public Variable? OptionalReal(int index) => HasInput(index) ? Real(index) : null;

    /// <summary>Input <paramref name="index"/> as integers (a shape, axes, indices), or null when absent.</summary>
    public long[]? OptionalLongs(int index) => HasInput(index) ? inputs[index]!.AsLongs() : null;

    public AttributeProto? Attribute(string name) => node.Attribute.FirstOrDefault(a => a.Name == name);

    public long Int(string name, long fallback)
        => Attribute(name) is { } a ? Expect(a, AttributeProto.Types.AttributeType.Int).I : fallback;

    public float Float(string name, float fallback)
        => Attribute(name) is { } a ? Expect(a, AttributeProto.Types.AttributeType.Float).F : fallback;

    public string String(string name, string fallback)
        => Attribute(name) is { } a ? Expect(a, AttributeProto.Types.AttributeType.String).S.ToStringUtf8() : fallback;

    public long[]? Ints(string name)
        => Attribute(name) is { } a ? [.. Expect(a, AttributeProto.Types.AttributeType.Ints).Ints] : null;

    public TensorProto? TensorAttribute(string name)
        => Attribute(name) is { } a ? Expect(a, AttributeProto.Types.AttributeType.Tensor).T : null;

    /// <summary>A node attribute of a rank-sized list, as ints, checked to have <paramref name="count"/> entries.</summary>
    public int[] IntList(string name, int count, int fallback)
    {
        var values = Ints(name);
        if (values is null)
        {
            return Enumerable.Repeat(fallback, count).ToArray();
        }
        if (values.Length != count)
        {
            throw Invalid($"attribute '{name}' has {values.Length} entries; expected {count}");
        }
        return values.Select(v => checked((int)v)).ToArray();
    }

    private AttributeProto Expect(AttributeProto attribute, AttributeProto.Types.AttributeType type)
    {
        // Old writers leave the type unset; the field that is filled then decides.
        if (attribute.Type != type && attribute.Type != AttributeProto.Types.AttributeType.Undefined)
        {
            throw Invalid($"attribute '{attribute.Name}' is {attribute.Type}; expected {type}");
        }
        return attribute;
    }

    /// <summary>Normalizes <paramref name="axis"/> for a tensor of <paramref name="rank"/> dims, refusing one out of range.</summary>
    public int Axis(long axis, int rank)
    {
        if (axis < -rank || axis >= rank)
        {
            throw Invalid($"axis {axis} is out of range for rank {rank}");
        }
        return (int)(axis < 0 ? axis + rank : axis);
    }

    public InvalidDataException Invalid(string problem) => new($"{Where}: {problem}.");

    public NotSupportedException Unsupported(string what) => new($"{Where}: {what}.");
}
