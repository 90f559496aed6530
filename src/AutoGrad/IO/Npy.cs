using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace AutoGrad.IO;

/// <summary>An array read from an .npy file: its shape and its values, as float32 or as 64-bit integers.</summary>
public sealed class NpyArray
{
    internal NpyArray(int[] shape, string dtype, float[]? floats, long[]? integers)
    {
        Shape = shape;
        DType = dtype;
        Floats = floats;
        Integers = integers;
    }

    /// <summary>The array's shape (empty for a 0-d array).</summary>
    public IReadOnlyList<int> Shape { get; }

    /// <summary>The numpy dtype string as stored, e.g. <c>&lt;f4</c> or <c>&lt;i8</c>.</summary>
    public string DType { get; }

    /// <summary>True for floating-point arrays.</summary>
    public bool IsFloat => Floats is not null;

    internal float[]? Floats { get; }

    internal long[]? Integers { get; }

    /// <summary>The values as a float32 tensor (integers are converted).</summary>
    public Tensor ToTensor()
    {
        var data = Floats ?? Array.ConvertAll(Integers!, v => (float)v);
        return Shape.Count == 0 ? Tensor.Scalar(data[0]) : Tensor.FromArray(data, [.. Shape]);
    }

    /// <summary>The values as 32-bit integers; throws for floating-point arrays or values outside the int range.</summary>
    public int[] ToInt32()
    {
        if (Integers is null)
        {
            throw new InvalidOperationException($"Npy: the array has dtype {DType}; ToInt32 needs an integer array.");
        }
        return Array.ConvertAll(Integers, v => v is >= int.MinValue and <= int.MaxValue
            ? (int)v
            : throw new OverflowException($"Npy: value {v} does not fit in a 32-bit integer."));
    }
}

/// <summary>
/// NumPy's .npy format, versions 1.0, 2.0 and 3.0: a magic string, a version, a header length (2 or 4 bytes) and a
/// Python-literal header dict with descr, fortran_order and shape, then the raw data. We write float32 (&lt;f4) and
/// int32/int64; we read f4, f8, f2, i1/i2/i4/i8, u1/u2/u4 and b1 in either byte order and either memory order.
/// </summary>
public static partial class Npy
{
    private const string Format = "NPY";
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Saves <paramref name="tensor"/> as a float32 array, atomically.</summary>
    public static void Save(string path, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var values = tensor.AsReadOnlySpan().ToArray();
        Write(path, "<f4", tensor.Shape.ToArray(), 4, (span, i) => BinaryPrimitives.WriteSingleLittleEndian(span, values[i]));
    }

    /// <summary>Saves integers (e.g. predicted classes) as an int32 array of <paramref name="shape"/> (default 1-D), atomically.</summary>
    public static void Save(string path, int[] values, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(values);
        shape = CheckShape(values.Length, shape);
        Write(path, "<i4", shape, 4, (span, i) => BinaryPrimitives.WriteInt32LittleEndian(span, values[i]));
    }

    /// <summary>Saves integers as an int64 array (PyTorch's default integer type), atomically.</summary>
    public static void Save(string path, long[] values, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(values);
        shape = CheckShape(values.Length, shape);
        Write(path, "<i8", shape, 8, (span, i) => BinaryPrimitives.WriteInt64LittleEndian(span, values[i]));
    }

    private static int[] CheckShape(int count, int[]? shape)
    {
        if (shape is null || shape.Length == 0)
        {
            return [count];
        }
        if (shape.Any(d => d < 0) || shape.Aggregate(1L, (a, d) => a * d) != count)
        {
            throw new ArgumentException($"Npy.Save: shape {Shapes.Format(shape)} does not hold {count} values.");
        }
        return shape;
    }

    private delegate void ElementWriter(Span<byte> destination, int index);

    private static void Write(string path, string descr, int[] shape, int itemSize, ElementWriter writeElement)
    {
        string dims = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape);
        string dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({dims}), }}";
        // Version 1.0 unless the header needs more than 65535 bytes; the total prefix is padded to 64 bytes.
        bool v1 = dict.Length + 1 + 10 <= ushort.MaxValue;
        int prefix = v1 ? 10 : 12;
        int padded = (prefix + dict.Length + 1 + 63) / 64 * 64;
        string header = dict.PadRight(padded - prefix - 1) + "\n";
        int count = shape.Aggregate(1, (a, d) => a * d);
        AtomicFile.Write(path, stream =>
        {
            stream.Write(Magic);
            stream.WriteByte(v1 ? (byte)1 : (byte)2);
            stream.WriteByte(0);
            Span<byte> length = stackalloc byte[4];
            if (v1)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(length, (ushort)header.Length);
                stream.Write(length[..2]);
            }
            else
            {
                BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)header.Length);
                stream.Write(length);
            }
            stream.Write(Encoding.ASCII.GetBytes(header));
            var buffer = new byte[Math.Min(count, 16384) * itemSize];
            for (int start = 0; start < count; start += 16384)
            {
                int n = Math.Min(16384, count - start);
                for (int i = 0; i < n; i++)
                {
                    writeElement(buffer.AsSpan(i * itemSize, itemSize), start + i);
                }
                stream.Write(buffer, 0, n * itemSize);
            }
        });
    }

    /// <summary>Reads an .npy file.</summary>
    /// <exception cref="InvalidDataException">The file is truncated, corrupt, or holds a dtype AutoGrad does not read.</exception>
    public static NpyArray Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        long fileLength = stream.Length;
        Span<byte> prefix = stackalloc byte[12];
        int got = stream.ReadAtLeast(prefix[..10], 10, throwOnEndOfStream: false);
        if (got < 10 || !prefix[..6].SequenceEqual(Magic))
        {
            throw Corrupt.File(path, Format, "missing the \\x93NUMPY magic string (not an .npy file, or truncated).");
        }
        byte major = prefix[6];
        if (major is < 1 or > 3)
        {
            throw Corrupt.File(path, Format, $"format version {major}.{prefix[7]} is not supported (1.0, 2.0 and 3.0 are).");
        }
        long headerLength;
        if (major == 1)
        {
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(prefix[8..]);
        }
        else
        {
            if (stream.ReadAtLeast(prefix[10..12], 2, throwOnEndOfStream: false) < 2)
            {
                throw Corrupt.File(path, Format, "truncated inside the header length.");
            }
            headerLength = BinaryPrimitives.ReadUInt32LittleEndian(prefix[8..]);
        }
        long dataStart = (major == 1 ? 10 : 12) + headerLength;
        if (dataStart > fileLength)
        {
            throw Corrupt.File(path, Format, $"the header declares {headerLength} bytes but the file has only {fileLength} bytes.");
        }
        var headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        string header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(headerBytes);
        var (descr, fortran, shape) = ParseHeader(path, header);
        var kind = ParseDType(path, descr);
        long count = 1;
        foreach (int d in shape)
        {
            count *= d;
            if (count * kind.Size > fileLength)
            {
                throw Corrupt.File(path, Format, $"shape ({string.Join(", ", shape)}) of {descr} needs more bytes than the file's {fileLength}.");
            }
        }
        long dataBytes = count * kind.Size;
        if (dataBytes > Array.MaxLength)
        {
            throw Corrupt.File(path, Format, $"{dataBytes} data bytes are more than AutoGrad reads into one buffer.");
        }
        if (dataStart + dataBytes != fileLength)
        {
            throw Corrupt.File(path, Format,
                $"shape ({string.Join(", ", shape)}) of {descr} needs {dataBytes} data bytes, the file holds {fileLength - dataStart} (truncated or trailing bytes).");
        }
        var raw = new byte[dataBytes];
        stream.ReadExactly(raw);
        var order = fortran ? FortranToC(shape) : null;
        if (kind.IsFloat)
        {
            var values = new float[count];
            for (long i = 0; i < count; i++)
            {
                values[order?[i] ?? i] = kind.ReadFloat(raw.AsSpan((int)(i * kind.Size), kind.Size));
            }
            return new NpyArray(shape, descr, values, null);
        }
        var integers = new long[count];
        for (long i = 0; i < count; i++)
        {
            integers[order?[i] ?? i] = kind.ReadInteger(raw.AsSpan((int)(i * kind.Size), kind.Size));
        }
        return new NpyArray(shape, descr, null, integers);
    }

    // Element i of Fortran-ordered data (first index fastest) goes to position result[i] of the C-ordered array.
    private static long[] FortranToC(int[] shape)
    {
        long count = shape.Aggregate(1L, (a, d) => a * d);
        var result = new long[count];
        var index = new int[shape.Length];
        var strides = Shapes.ContiguousStrides(shape);
        for (long i = 0; i < count; i++)
        {
            long c = 0;
            for (int d = 0; d < shape.Length; d++)
            {
                c += (long)index[d] * strides[d];
            }
            result[i] = c;
            for (int d = 0; d < shape.Length && ++index[d] == shape[d]; d++)
            {
                index[d] = 0;
            }
        }
        return result;
    }

    [GeneratedRegex(@"^\{\s*(?:'(?<key>descr|fortran_order|shape)'\s*:\s*(?<value>'[^']*'|True|False|\([^)]*\))\s*,?\s*){3}\}\s*$")]
    private static partial Regex HeaderPattern();

    private static (string Descr, bool Fortran, int[] Shape) ParseHeader(string path, string header)
    {
        var match = HeaderPattern().Match(header);
        if (!match.Success)
        {
            throw Corrupt.File(path, Format, $"the header is not a dict of descr, fortran_order and shape: {Abbreviate(header)}");
        }
        var fields = new Dictionary<string, string>();
        for (int i = 0; i < 3; i++)
        {
            if (!fields.TryAdd(match.Groups["key"].Captures[i].Value, match.Groups["value"].Captures[i].Value))
            {
                throw Corrupt.File(path, Format, $"the header repeats '{match.Groups["key"].Captures[i].Value}'.");
            }
        }
        if (!fields.TryGetValue("descr", out var descr) || descr[0] != '\'' || !fields.TryGetValue("fortran_order", out var fortran)
            || fortran[0] == '\'' || fortran[0] == '(' || !fields.TryGetValue("shape", out var shapeText) || shapeText[0] != '(')
        {
            throw Corrupt.File(path, Format, $"the header needs a string descr, a boolean fortran_order and a tuple shape: {Abbreviate(header)}");
        }
        var parts = shapeText.Trim('(', ')').Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length > Tensor.MaxRank)
        {
            throw Corrupt.File(path, Format, $"shape {shapeText} has rank {parts.Length}; AutoGrad supports up to {Tensor.MaxRank}.");
        }
        var shape = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out shape[i]))
            {
                throw Corrupt.File(path, Format, $"shape {shapeText} has a dimension that is not a non-negative 32-bit integer.");
            }
        }
        return (descr.Trim('\''), fortran == "True", shape);
    }

    private static string Abbreviate(string text) => text.Length <= 120 ? text : text[..120] + "...";

    private sealed record DType(int Size, bool IsFloat, Func<ReadOnlySpan<byte>, float> Float, Func<ReadOnlySpan<byte>, long> Integer)
    {
        public float ReadFloat(ReadOnlySpan<byte> b) => Float(b);

        public long ReadInteger(ReadOnlySpan<byte> b) => Integer(b);
    }

    private static DType ParseDType(string path, string descr)
    {
        if (descr.Length < 3 || descr[0] is not ('<' or '>' or '|' or '='))
        {
            throw Corrupt.File(path, Format, $"dtype '{descr}' is not a simple numeric type.");
        }
        bool big = descr[0] == '>';
        string code = descr[1..];
        Func<ReadOnlySpan<byte>, long> noInt = _ => 0;
        Func<ReadOnlySpan<byte>, float> noFloat = _ => 0;
        return code switch
        {
            "f4" => new(4, true, b => big ? BinaryPrimitives.ReadSingleBigEndian(b) : BinaryPrimitives.ReadSingleLittleEndian(b), noInt),
            "f8" => new(8, true, b => (float)(big ? BinaryPrimitives.ReadDoubleBigEndian(b) : BinaryPrimitives.ReadDoubleLittleEndian(b)), noInt),
            "f2" => new(2, true, b => (float)(big ? BinaryPrimitives.ReadHalfBigEndian(b) : BinaryPrimitives.ReadHalfLittleEndian(b)), noInt),
            "i1" => new(1, false, noFloat, b => (sbyte)b[0]),
            "u1" or "b1" => new(1, false, noFloat, b => b[0]),
            "i2" => new(2, false, noFloat, b => big ? BinaryPrimitives.ReadInt16BigEndian(b) : BinaryPrimitives.ReadInt16LittleEndian(b)),
            "u2" => new(2, false, noFloat, b => big ? BinaryPrimitives.ReadUInt16BigEndian(b) : BinaryPrimitives.ReadUInt16LittleEndian(b)),
            "i4" => new(4, false, noFloat, b => big ? BinaryPrimitives.ReadInt32BigEndian(b) : BinaryPrimitives.ReadInt32LittleEndian(b)),
            "u4" => new(4, false, noFloat, b => big ? BinaryPrimitives.ReadUInt32BigEndian(b) : BinaryPrimitives.ReadUInt32LittleEndian(b)),
            "i8" => new(8, false, noFloat, b => big ? BinaryPrimitives.ReadInt64BigEndian(b) : BinaryPrimitives.ReadInt64LittleEndian(b)),
            _ => throw Corrupt.File(path, Format, $"dtype '{descr}' is not supported (float16/32/64, int8..int64, uint8..uint32, bool are)."),
        };
    }
}
