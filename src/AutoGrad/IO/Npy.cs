using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Runtime.InteropServices;

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
public static class Npy
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
        byte major = prefix[6], minor = prefix[7];
        if (major is < 1 or > 3 || minor != 0)
        {
            throw Corrupt.File(path, Format, $"format version {major}.{minor} is not supported (1.0, 2.0 and 3.0 are).");
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
        ReadOrThrow(path, stream, headerBytes, "the header");
        string header;
        try
        {
            header = (major == 3 ? StrictUtf8 : Encoding.Latin1).GetString(headerBytes);
        }
        catch (DecoderFallbackException)
        {
            throw Corrupt.File(path, Format, "the version 3.0 header is not valid UTF-8.");
        }
        var (descr, fortran, shape) = new HeaderParser(path, header).Parse();
        var kind = ParseDType(path, descr);
        long count = ElementCount.Of(shape, Array.MaxLength);
        if (count < 0 || count * kind.Size > fileLength - dataStart)
        {
            throw Corrupt.File(path, Format,
                $"shape ({string.Join(", ", shape)}) of {descr} needs more bytes than the {fileLength - dataStart} the file holds after the header (truncated, or a corrupt shape).");
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
        ReadOrThrow(path, stream, raw, "the data");
        var order = fortran && shape.Length > 1 ? FortranToC(shape) : null;
        if (kind.IsFloat)
        {
            var values = new float[count];
            if (kind.Code == "f4" && !kind.BigEndian == BitConverter.IsLittleEndian && order is null)
            {
                MemoryMarshal.Cast<byte, float>(raw).CopyTo(values);
            }
            else
            {
                for (long i = 0; i < count; i++)
                {
                    values[order?[i] ?? i] = kind.ReadFloat(raw.AsSpan((int)(i * kind.Size), kind.Size));
                }
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

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static void ReadOrThrow(string path, Stream stream, Span<byte> buffer, string what)
    {
        if (stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false) < buffer.Length)
        {
            throw Corrupt.File(path, Format, $"the file ended inside {what} (it changed while being read).");
        }
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

    /// <summary>
    /// The header dict, read the way numpy's <c>ast.literal_eval</c> reads it but only as far as .npy needs: exactly
    /// the keys descr (a string), fortran_order (True or False) and shape (a tuple of non-negative integers: <c>()</c>,
    /// <c>(3,)</c>, <c>(3, 4)</c>), each once, in any order. One pass over the text, so time is linear in its length.
    /// </summary>
    private ref struct HeaderParser(string path, string text)
    {
        private readonly string _path = path;
        private readonly string _text = text;
        private int _at;

        public (string Descr, bool Fortran, int[] Shape) Parse()
        {
            string? descr = null;
            bool? fortran = null;
            int[]? shape = null;
            Expect('{');
            while (true)
            {
                if (TryTake('}'))
                {
                    break;
                }
                string key = String();
                Expect(':');
                switch (key)
                {
                    case "descr" when descr is null:
                        descr = String();
                        break;
                    case "fortran_order" when fortran is null:
                        fortran = Word() switch
                        {
                            "True" => true,
                            "False" => false,
                            var w => throw Fail($"fortran_order must be True or False, not '{Abbreviate(w)}'"),
                        };
                        break;
                    case "shape" when shape is null:
                        shape = Tuple();
                        break;
                    case "descr" or "fortran_order" or "shape":
                        throw Fail($"the key '{key}' appears twice");
                    default:
                        throw Fail($"unexpected key '{Abbreviate(key)}' (the header holds descr, fortran_order and shape)");
                }
                if (!TryTake(','))
                {
                    Expect('}');
                    break;
                }
            }
            SkipSpace();
            if (_at != _text.Length)
            {
                throw Fail("text follows the closing brace");
            }
            if (descr is null || fortran is null || shape is null)
            {
                throw Fail("the header needs the keys descr, fortran_order and shape");
            }
            return (descr, fortran.Value, shape);
        }

        private int[] Tuple()
        {
            Expect('(');
            var dims = new List<int>();
            bool comma = false;
            while (!TryTake(')'))
            {
                if (dims.Count > 0 && !comma)
                {
                    throw Fail("the shape needs commas between its dimensions");
                }
                dims.Add(Integer());
                if (dims.Count > Tensor.MaxRank)
                {
                    throw Fail($"the shape has more than {Tensor.MaxRank} dimensions, AutoGrad's maximum");
                }
                comma = TryTake(',');
            }
            if (dims.Count == 1 && !comma)
            {
                throw Fail("the shape is not a tuple (a 1-d shape is written (n,))");
            }
            return [.. dims];
        }

        private int Integer()
        {
            SkipSpace();
            int start = _at;
            while (_at < _text.Length && char.IsAsciiDigit(_text[_at]))
            {
                _at++;
            }
            var digits = _text.AsSpan(start, _at - start);
            if (digits.Length == 0)
            {
                throw Fail($"expected a dimension (a non-negative integer) at offset {start}");
            }
            if (digits.Length > 1 && digits[0] == '0')
            {
                throw Fail($"the dimension '{digits}' has a leading zero");
            }
            if (!int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out int value))
            {
                throw Fail($"the dimension '{Abbreviate(digits.ToString())}' is not a 32-bit integer");
            }
            return value;
        }

        private string String()
        {
            SkipSpace();
            if (_at >= _text.Length || _text[_at] is not ('\'' or '"'))
            {
                throw Fail($"expected a quoted string at offset {_at}");
            }
            char quote = _text[_at++];
            int start = _at;
            int end = _text.IndexOf(quote, start);
            if (end < 0)
            {
                throw Fail("a string is not closed");
            }
            var value = _text[start..end];
            if (value.Contains('\\') || value.Contains('\n'))
            {
                throw Fail($"the string '{Abbreviate(value)}' has an escape or a line break");
            }
            _at = end + 1;
            return value;
        }

        private string Word()
        {
            SkipSpace();
            int start = _at;
            while (_at < _text.Length && char.IsAsciiLetterOrDigit(_text[_at]))
            {
                _at++;
            }
            return _text[start.._at];
        }

        private void Expect(char c)
        {
            if (!TryTake(c))
            {
                throw Fail(_at < _text.Length ? $"expected '{c}' at offset {_at}, found '{_text[_at]}'" : $"expected '{c}', the header ended");
            }
        }

        private bool TryTake(char c)
        {
            SkipSpace();
            if (_at < _text.Length && _text[_at] == c)
            {
                _at++;
                return true;
            }
            return false;
        }

        private void SkipSpace()
        {
            while (_at < _text.Length && _text[_at] is ' ' or '\t' or '\n' or '\r')
            {
                _at++;
            }
        }

        private readonly InvalidDataException Fail(string problem)
            => Corrupt.File(_path, Format, $"the header is not a dict of descr, fortran_order and shape: {problem}: {Abbreviate(_text)}");
    }

    private static string Abbreviate(string text) => text.Length <= 120 ? text : text[..120] + "...";

    private sealed record DType(int Size, bool IsFloat, Func<ReadOnlySpan<byte>, float> Float, Func<ReadOnlySpan<byte>, long> Integer)
    {
        public string Code { get; init; } = "";

        public bool BigEndian { get; init; }

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
        DType kind = code switch
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
        return kind with { Code = code, BigEndian = big };
    }
}
