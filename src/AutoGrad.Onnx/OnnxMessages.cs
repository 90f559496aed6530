using System.Runtime.InteropServices;
using AutoGrad.Onnx.Protos;
using Google.Protobuf;

namespace AutoGrad.Onnx;

/// <summary>Builders for the generated ONNX messages the exporter writes: attributes, initializers, value infos.</summary>
internal static class OnnxMessages
{
    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Float(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto String(string name, string value)
        => new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    public static AttributeProto Ints(string name, params int[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values.Select(v => (long)v));
        return attribute;
    }

    /// <summary>A float32 initializer, raw little-endian data.</summary>
    public static TensorProto FloatTensor(string name, Tensor tensor)
    {
        RequireLittleEndian();
        var proto = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(tensor.AsReadOnlySpan())) };
        proto.Dims.AddRange(tensor.ShapeArray.Select(d => (long)d));
        return proto;
    }

    /// <summary>An int64 initializer of the given shape (a vector of the values when none is given).</summary>
    public static TensorProto Int64Tensor(string name, long[] values, int[]? shape = null)
    {
        RequireLittleEndian();
        var proto = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan())) };
        proto.Dims.AddRange((shape ?? [values.Length]).Select(d => (long)d));
        return proto;
    }

    /// <summary>A bool initializer: true where <paramref name="mask"/> is nonzero.</summary>
    public static TensorProto BoolTensor(string name, Tensor mask)
    {
        var bytes = mask.AsReadOnlySpan().ToArray().Select(v => v != 0 ? (byte)1 : (byte)0).ToArray();
        var proto = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Bool, RawData = ByteString.CopyFrom(bytes) };
        proto.Dims.AddRange(mask.ShapeArray.Select(d => (long)d));
        return proto;
    }

    /// <summary>A float tensor's name, element type and shape; a null dim is the symbolic <paramref name="symbolicName"/>.</summary>
    public static ValueInfoProto FloatValueInfo(string name, IReadOnlyList<int?> shape, string symbolicName)
    {
        var dims = new TensorShapeProto();
        foreach (var d in shape)
        {
            dims.Dim.Add(d is { } value ? new TensorShapeProto.Types.Dimension { DimValue = value } : new TensorShapeProto.Types.Dimension { DimParam = symbolicName });
        }
        var tensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = dims };
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensorType } };
    }

    private static void RequireLittleEndian()
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("ONNX export writes raw little-endian data; this machine is big-endian.");
        }
    }
}
