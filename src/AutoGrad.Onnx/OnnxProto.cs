using System.Runtime.InteropServices;

namespace AutoGrad.Onnx;

/// <summary>
/// The ONNX messages the exporter writes, with their field numbers from onnx.proto3 (ModelProto, GraphProto,
/// NodeProto, AttributeProto, TensorProto, ValueInfoProto, TypeProto, TensorShapeProto, OperatorSetIdProto).
/// </summary>
internal static class OnnxProto
{
    public const int FloatType = 1;   // TensorProto.DataType.FLOAT
    public const int Int64Type = 7;   // TensorProto.DataType.INT64

    public static ProtoWriter Model(long irVersion, long opset, string producer, string producerVersion, ProtoWriter graph)
        => new ProtoWriter()
            .Int64(1, irVersion)                                   // ir_version
            .String(2, producer)                                   // producer_name
            .String(3, producerVersion)                            // producer_version
            .Message(7, graph)                                     // graph
            .Message(8, new ProtoWriter().String(1, "").Int64(2, opset)); // opset_import { domain, version }

    public static ProtoWriter Graph(string name, IEnumerable<ProtoWriter> nodes, IEnumerable<ProtoWriter> initializers,
        IEnumerable<ProtoWriter> inputs, IEnumerable<ProtoWriter> outputs)
    {
        var graph = new ProtoWriter();
        foreach (var n in nodes)
        {
            graph.Message(1, n);                                   // node
        }
        graph.String(2, name);                                     // name
        foreach (var t in initializers)
        {
            graph.Message(5, t);                                   // initializer
        }
        foreach (var i in inputs)
        {
            graph.Message(11, i);                                  // input
        }
        foreach (var o in outputs)
        {
            graph.Message(12, o);                                  // output
        }
        return graph;
    }

    public static ProtoWriter Node(string opType, string name, IEnumerable<string> inputs, IEnumerable<string> outputs, IEnumerable<ProtoWriter> attributes)
    {
        var node = new ProtoWriter();
        foreach (var i in inputs)
        {
            node.String(1, i);                                     // input
        }
        foreach (var o in outputs)
        {
            node.String(2, o);                                     // output
        }
        node.String(3, name).String(4, opType);                    // name, op_type
        foreach (var a in attributes)
        {
            node.Message(5, a);                                    // attribute
        }
        return node;
    }

    // AttributeProto: name = 1, f = 2, i = 3, s = 4, ints = 8, type = 20 (FLOAT 1, INT 2, STRING 3, INTS 7).
    public static ProtoWriter FloatAttribute(string name, float value) => new ProtoWriter().String(1, name).Float(2, value).Int64(20, 1);

    public static ProtoWriter IntAttribute(string name, long value) => new ProtoWriter().String(1, name).Int64(3, value).Int64(20, 2);

    public static ProtoWriter StringAttribute(string name, string value)
        => new ProtoWriter().String(1, name).Bytes(4, System.Text.Encoding.UTF8.GetBytes(value)).Int64(20, 3);

    public static ProtoWriter IntsAttribute(string name, IEnumerable<int> values)
        => new ProtoWriter().String(1, name).PackedInt64(8, values.Select(v => (long)v)).Int64(20, 7);

    /// <summary>TensorProto: dims = 1, data_type = 2, name = 8, raw_data = 9 (little-endian).</summary>
    public static ProtoWriter FloatTensor(string name, Tensor tensor)
    {
        var bytes = MemoryMarshal.AsBytes(tensor.AsReadOnlySpan());
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("ONNX export writes raw little-endian data; this machine is big-endian.");
        }
        return new ProtoWriter().PackedInt64(1, tensor.Shape.ToArray().Select(d => (long)d)).Int64(2, FloatType).String(8, name).Bytes(9, bytes);
    }

    public static ProtoWriter Int64Tensor(string name, long[] values)
    {
        var bytes = MemoryMarshal.AsBytes(values.AsSpan());
        return new ProtoWriter().PackedInt64(1, [values.Length]).Int64(2, Int64Type).String(8, name).Bytes(9, bytes);
    }

    /// <summary>ValueInfoProto { name = 1, type = 2: TypeProto { tensor_type = 1: { elem_type = 1, shape = 2 } } }; a null dim is symbolic.</summary>
    public static ProtoWriter FloatValueInfo(string name, IReadOnlyList<int?> shape, string symbolicName)
    {
        var dims = new ProtoWriter();
        foreach (var d in shape)
        {
            // TensorShapeProto.dim = 1: Dimension { dim_value = 1 | dim_param = 2 }
            dims.Message(1, d is { } value ? new ProtoWriter().Int64(1, value) : new ProtoWriter().String(2, symbolicName));
        }
        var tensorType = new ProtoWriter().Int64(1, FloatType).Message(2, dims);
        return new ProtoWriter().String(1, name).Message(2, new ProtoWriter().Message(1, tensorType));
    }
}
