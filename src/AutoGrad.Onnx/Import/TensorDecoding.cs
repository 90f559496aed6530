using System.Buffers.Binary;
using AutoGrad.Onnx.Protos;

namespace AutoGrad.Onnx.Import;

/// <summary>Turns a TensorProto (an initializer, a Constant's value, a test's .pb file) into an <see cref="OnnxValue"/>.</summary>
internal static class TensorDecoding
{
    /// <summary>Decodes <paramref name="tensor"/>; <paramref name="where"/> names it in error messages.</summary>
    /// <exception cref="InvalidDataException">The element count disagrees with the dims, or a dim is negative.</exception>
    /// <exception cref="NotSupportedException">External data, or an element type AutoGrad does not compute with.</exception>
    public static OnnxValue Decode(TensorProto tensor, string where)
    {
        var shape = Shape(tensor, where, out int count);
        if (tensor.DataLocation == TensorProto.Types.DataLocation.External || tensor.ExternalData.Count > 0)
        {
            throw new NotSupportedException($"{where}: tensor '{tensor.Name}' keeps its data in an external file; only data inside the model is read.");
        }
        var element = (OnnxElement)tensor.DataType;
        var raw = tensor.RawData.Span;
        bool hasRaw = !tensor.RawData.IsEmpty || count == 0;
        switch (element)
        {
            case OnnxElement.Float:
            {
                float[] data;
                if (hasRaw && tensor.FloatData.Count == 0)
                {
                    CheckRaw(raw, count, 4, tensor, where);
                    data = new float[count];
                    for (int i = 0; i < count; i++)
                    {
                        data[i] = BinaryPrimitives.ReadSingleLittleEndian(raw[(4 * i)..]);
                    }
                }
                else
                {
                    data = Typed(tensor.FloatData, count, tensor, where);
                }
                return OnnxValue.Float(new Variable(OnnxValue.MakeTensor(data, shape)));
            }
            case OnnxElement.Int64:
                return OnnxValue.Int(hasRaw && tensor.Int64Data.Count == 0 ? Raw(raw, count, 8, tensor, where, s => BinaryPrimitives.ReadInt64LittleEndian(s))
                    : Typed(tensor.Int64Data, count, tensor, where), shape, element);
            case OnnxElement.Uint64:
                return OnnxValue.Int(hasRaw && tensor.Uint64Data.Count == 0 ? Raw(raw, count, 8, tensor, where, s => (long)BinaryPrimitives.ReadUInt64LittleEndian(s))
                    : Typed(tensor.Uint64Data, count, tensor, where).Select(v => (long)v).ToArray(), shape, element);
            case OnnxElement.Int32 or OnnxElement.Int16 or OnnxElement.Int8 or OnnxElement.Uint16 or OnnxElement.Uint8 or OnnxElement.Bool:
            {
                int size = element switch { OnnxElement.Int32 => 4, OnnxElement.Int16 or OnnxElement.Uint16 => 2, _ => 1 };
                long[] data = hasRaw && tensor.Int32Data.Count == 0 ? Raw(raw, count, size, tensor, where, s => element switch
                {
                    OnnxElement.Int32 => BinaryPrimitives.ReadInt32LittleEndian(s),
                    OnnxElement.Int16 => BinaryPrimitives.ReadInt16LittleEndian(s),
                    OnnxElement.Uint16 => BinaryPrimitives.ReadUInt16LittleEndian(s),
                    OnnxElement.Int8 => (sbyte)s[0],
                    _ => s[0],
                }) : Typed(tensor.Int32Data, count, tensor, where).Select(v => (long)v).ToArray();
                return OnnxValue.Int(data, shape, element);
            }
            case OnnxElement.Uint32:
                return OnnxValue.Int(hasRaw && tensor.Uint64Data.Count == 0 ? Raw(raw, count, 4, tensor, where, s => (long)BinaryPrimitives.ReadUInt32LittleEndian(s))
                    : Typed(tensor.Uint64Data, count, tensor, where).Select(v => (long)v).ToArray(), shape, element);
            default:
                throw new NotSupportedException($"{where}: tensor '{tensor.Name}' has element type {element}; AutoGrad computes with float32, and integers and booleans for shapes and indices.");
        }
    }

    /// <summary>The dims of <paramref name="tensor"/> as ints, checked, and their product.</summary>
    private static int[] Shape(TensorProto tensor, string where, out int count)
    {
        if (tensor.Dims.Count > Tensor.MaxRank)
        {
            throw new NotSupportedException($"{where}: tensor '{tensor.Name}' has rank {tensor.Dims.Count}; at most {Tensor.MaxRank} is supported.");
        }
        var shape = new int[tensor.Dims.Count];
        long total = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            long d = tensor.Dims[i];
            if (d < 0 || d > int.MaxValue)
            {
                throw new InvalidDataException($"{where}: tensor '{tensor.Name}' has dim {i} = {d}; expected 0 .. {int.MaxValue}.");
            }
            shape[i] = (int)d;
            total *= d;
            if (total > int.MaxValue)
            {
                throw new InvalidDataException($"{where}: tensor '{tensor.Name}' of dims [{string.Join(", ", tensor.Dims)}] has more than {int.MaxValue} elements.");
            }
        }
        count = (int)total;
        return shape;
    }

    private static void CheckRaw(ReadOnlySpan<byte> raw, int count, int size, TensorProto tensor, string where)
    {
        if (raw.Length != (long)count * size)
        {
            throw new InvalidDataException(
                $"{where}: tensor '{tensor.Name}' of dims [{string.Join(", ", tensor.Dims)}] needs {(long)count * size} bytes of raw_data ({count} x {size}); it has {raw.Length}.");
        }
    }

    private delegate long ReadOne(ReadOnlySpan<byte> bytes);

    private static long[] Raw(ReadOnlySpan<byte> raw, int count, int size, TensorProto tensor, string where, ReadOne read)
    {
        CheckRaw(raw, count, size, tensor, where);
        var data = new long[count];
        for (int i = 0; i < count; i++)
        {
            data[i] = read(raw.Slice(size * i, size));
        }
        return data;
    }

    private static T[] Typed<T>(IReadOnlyList<T> values, int count, TensorProto tensor, string where)
    {
        if (values.Count != count)
        {
            throw new InvalidDataException(
                $"{where}: tensor '{tensor.Name}' of dims [{string.Join(", ", tensor.Dims)}] needs {count} elements; it has {values.Count}.");
        }
        return [.. values];
    }
}
