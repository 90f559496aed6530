using Google.Protobuf;

namespace AutoGrad.Onnx;

/// <summary>
/// Builds one protobuf message field by field with Google.Protobuf's CodedOutputStream. ONNX's messages are declared
/// where they are written (OnnxProto) by their field numbers from onnx.proto3, instead of generated classes.
/// </summary>
internal sealed class ProtoWriter
{
    private readonly MemoryStream _buffer = new();
    private readonly CodedOutputStream _output;

    public ProtoWriter() => _output = new CodedOutputStream(_buffer, leaveOpen: true);

    public ProtoWriter String(int field, string value)
    {
        _output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        _output.WriteString(value);
        return this;
    }

    public ProtoWriter Int64(int field, long value)
    {
        _output.WriteTag(field, WireFormat.WireType.Varint);
        _output.WriteInt64(value);
        return this;
    }

    public ProtoWriter Float(int field, float value)
    {
        _output.WriteTag(field, WireFormat.WireType.Fixed32);
        _output.WriteFloat(value);
        return this;
    }

    public ProtoWriter Bytes(int field, ReadOnlySpan<byte> value)
    {
        _output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        _output.WriteBytes(ByteString.CopyFrom(value));
        return this;
    }

    public ProtoWriter Message(int field, ProtoWriter message) => Bytes(field, message.ToArray());

    /// <summary>A packed repeated int64 field (proto3's default encoding for repeated scalars).</summary>
    public ProtoWriter PackedInt64(int field, IEnumerable<long> values)
    {
        var packed = new ProtoWriter();
        foreach (long v in values)
        {
            packed._output.WriteInt64(v);
        }
        return Bytes(field, packed.ToArray());
    }

    public byte[] ToArray()
    {
        _output.Flush();
        return _buffer.ToArray();
    }
}
