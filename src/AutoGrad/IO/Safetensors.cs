using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using AutoGrad.Nn;

namespace AutoGrad.IO;

/// <summary>
/// The safetensors format (Hugging Face; what PyTorch users load with <c>safetensors.torch.load_file</c>): an 8-byte
/// little-endian header length N, N bytes of JSON mapping each name to its dtype, shape and [begin, end) byte offsets
/// into the data that follows, and an optional <c>__metadata__</c> object of strings. We write float32 (F32); we read
/// F32, F64, F16, BF16 and the integer types, converting to float32.
/// </summary>
public static class Safetensors
{
    private const string Format = "safetensors";
    private const long MaxHeaderBytes = 100_000_000; // the limit the reference implementation enforces

    /// <summary>Saves <paramref name="tensors"/> (e.g. a module's or optimizer's StateDict) atomically to <paramref name="path"/>.</summary>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var header = BuildHeader(tensors, metadata ?? new Dictionary<string, string> { ["format"] = "pt" });
        AtomicFile.Write(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            stream.Write(length);
            stream.Write(header);
            foreach (var tensor in tensors.Values)
            {
                WriteFloats(stream, tensor.AsReadOnlySpan());
            }
        });
    }

    private static byte[] BuildHeader(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (metadata.Count > 0)
            {
                json.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata)
                {
                    json.WriteString(key, value);
                }
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, tensor) in tensors)
            {
                if (name == "__metadata__")
                {
                    throw new ArgumentException("Safetensors.Save: '__metadata__' is reserved and cannot name a tensor.", nameof(tensors));
                }
                ArgumentNullException.ThrowIfNull(tensor, name);
                json.WriteStartObject(name);
                json.WriteString("dtype", "F32");
                json.WriteStartArray("shape");
                foreach (int d in tensor.Shape)
                {
                    json.WriteNumberValue(d);
                }
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                offset += 4L * tensor.Length;
                json.WriteNumberValue(offset);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        // Pad with spaces so the data starts 8-byte aligned, as the reference writer does.
        int padded = (int)((buffer.Length + 7) / 8 * 8);
        var header = new byte[padded];
        buffer.GetBuffer().AsSpan(0, (int)buffer.Length).CopyTo(header);
        header.AsSpan((int)buffer.Length).Fill((byte)' ');
        return header;
    }

    private static void WriteFloats(Stream stream, ReadOnlySpan<float> values)
    {
        if (BitConverter.IsLittleEndian)
        {
            stream.Write(MemoryMarshal.AsBytes(values));
            return;
        }
        Span<byte> four = stackalloc byte[4];
        foreach (float v in values)
        {
            BinaryPrimitives.WriteSingleLittleEndian(four, v);
            stream.Write(four);
        }
    }

    /// <summary>Reads every tensor of a safetensors file, in file order, as float32.</summary>
    /// <exception cref="InvalidDataException">The file is truncated, corrupt or not safetensors.</exception>
    public static StateDict Load(string path) => Load(path, out _);

    /// <summary>Reads every tensor and the <c>__metadata__</c> strings.</summary>
    /// <exception cref="InvalidDataException">The file is truncated, corrupt or not safetensors.</exception>
    public static StateDict Load(string path, out IReadOnlyDictionary<string, string> metadata)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        long fileLength = stream.Length;
        Span<byte> lengthBytes = stackalloc byte[8];
        if (fileLength < 8 || stream.ReadAtLeast(lengthBytes, 8, throwOnEndOfStream: false) < 8)
        {
            throw Corrupt.File(path, Format, $"the file has {fileLength} bytes, fewer than the 8-byte header length.");
        }
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > (ulong)(fileLength - 8) || headerLength > MaxHeaderBytes)
        {
            throw Corrupt.File(path, Format, $"the header declares {headerLength} bytes but the file has {fileLength - 8} bytes after the length.");
        }
        var header = new byte[headerLength];
        stream.ReadExactly(header);
        var entries = ParseHeader(path, header, out metadata);
        long dataLength = fileLength - 8 - (long)headerLength;
        CheckLayout(path, entries, dataLength);

        var result = new StateDict();
        var raw = Array.Empty<byte>();
        foreach (var entry in entries)
        {
            long bytes = entry.End - entry.Begin;
            stream.Position = 8 + (long)headerLength + entry.Begin;
            if (raw.Length < bytes)
            {
                raw = new byte[bytes];
            }
            if (stream.ReadAtLeast(raw.AsSpan(0, (int)bytes), (int)bytes, throwOnEndOfStream: false) < bytes)
            {
                throw Corrupt.File(path, Format, $"the file ended inside tensor '{entry.Name}' (it changed while being read).");
            }
            var tensor = Tensor.Zeros(entry.Shape);
            Decode(entry.DType, raw.AsSpan(0, (int)bytes), tensor.AsSpan());
            result.Add(entry.Name, tensor);
        }
        return result;
    }

    private sealed record Entry(string Name, string DType, int[] Shape, long Begin, long End);

    private static List<Entry> ParseHeader(string path, byte[] header, out IReadOnlyDictionary<string, string> metadata)
    {
        if (!System.Text.Unicode.Utf8.IsValid(header))
        {
            throw Corrupt.File(path, Format, "the header is not valid UTF-8.");
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header.AsMemory().TrimEnd((byte)' '), new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw Corrupt.File(path, Format, $"the header is not valid JSON ({e.Message}).");
        }
        using (document)
        {
            try
            {
                return ParseEntries(path, document, out metadata);
            }
            catch (InvalidOperationException e)
            {
                // System.Text.Json validates escapes only when a string is read: a lone surrogate such as \ud800 in a
                // name, a dtype or a metadata value cannot become a .NET string.
                throw Corrupt.File(path, Format, $"the header has a string that is not valid Unicode, e.g. a lone surrogate escape ({e.Message}).");
            }
        }
    }

    private static List<Entry> ParseEntries(string path, JsonDocument document, out IReadOnlyDictionary<string, string> metadata)
    {
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw Corrupt.File(path, Format, "the header must be a JSON object.");
        }
        var meta = new Dictionary<string, string>(StringComparer.Ordinal);
        var entries = new List<Entry>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in document.RootElement.EnumerateObject())
        {
            if (!names.Add(property.Name))
            {
                throw Corrupt.File(path, Format, $"the header names '{property.Name}' twice.");
            }
            if (property.Name == "__metadata__")
            {
                if (property.Value.ValueKind != JsonValueKind.Object)
                {
                    throw Corrupt.File(path, Format, "__metadata__ must be an object of strings.");
                }
                foreach (var m in property.Value.EnumerateObject())
                {
                    if (m.Value.ValueKind != JsonValueKind.String)
                    {
                        throw Corrupt.File(path, Format, $"__metadata__ value '{m.Name}' is not a string.");
                    }
                    if (!meta.TryAdd(m.Name, m.Value.GetString()!))
                    {
                        throw Corrupt.File(path, Format, $"__metadata__ names '{m.Name}' twice.");
                    }
                }
                continue;
            }
            entries.Add(ParseEntry(path, property));
        }
        metadata = meta;
        return entries;
    }

    private static Entry ParseEntry(string path, JsonProperty property)
    {
        string name = property.Name;
        var value = property.Value;
        if (value.ValueKind != JsonValueKind.Object
            || !value.TryGetProperty("dtype", out var dtype) || dtype.ValueKind != JsonValueKind.String
            || !value.TryGetProperty("shape", out var shape) || shape.ValueKind != JsonValueKind.Array
            || !value.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
        {
            throw Corrupt.File(path, Format, $"tensor '{name}' needs a string dtype, a shape array and two data_offsets.");
        }
        string type = dtype.GetString()!;
        if (ElementSize(type) == 0)
        {
            throw Corrupt.File(path, Format, $"tensor '{name}' has dtype '{type}'; supported are F32, F64, F16, BF16, I64, I32, I16, I8, U8 and BOOL.");
        }
        if (shape.GetArrayLength() > Tensor.MaxRank)
        {
            throw Corrupt.File(path, Format, $"tensor '{name}' has rank {shape.GetArrayLength()}; AutoGrad supports up to {Tensor.MaxRank}.");
        }
        var dims = new int[shape.GetArrayLength()];
        int i = 0;
        foreach (var d in shape.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt32(out dims[i]) || dims[i] < 0)
            {
                throw Corrupt.File(path, Format, $"tensor '{name}' has a dimension that is not a non-negative 32-bit integer: {d.GetRawText()}.");
            }
            i++;
        }
        long numel = ElementCount.Of(dims, Array.MaxLength);
        if (numel < 0)
        {
            throw Corrupt.File(path, Format, $"tensor '{name}' (shape [{string.Join(", ", dims)}]) declares more elements than an array can hold.");
        }
        if (offsets[0].ValueKind != JsonValueKind.Number || offsets[1].ValueKind != JsonValueKind.Number
            || !offsets[0].TryGetInt64(out long begin) || !offsets[1].TryGetInt64(out long end) || begin < 0 || end < begin)
        {
            throw Corrupt.File(path, Format, $"tensor '{name}' has invalid data_offsets {offsets.GetRawText()}.");
        }
        if (numel * ElementSize(type) > Array.MaxLength)
        {
            throw Corrupt.File(path, Format, $"tensor '{name}' is larger than AutoGrad can hold in one buffer.");
        }
        if (end - begin != numel * ElementSize(type))
        {
            throw Corrupt.File(path, Format,
                $"tensor '{name}' ({type}, shape [{string.Join(", ", dims)}]) needs {numel * ElementSize(type)} bytes but its offsets span {end - begin}.");
        }
        return new Entry(name, type, dims, begin, end);
    }

    // The data must be covered exactly: sorted by offset, the tensors tile [0, dataLength) without gaps or overlaps.
    private static void CheckLayout(string path, List<Entry> entries, long dataLength)
    {
        long expected = 0;
        foreach (var entry in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (entry.Begin != expected)
            {
                throw Corrupt.File(path, Format, $"tensor '{entry.Name}' starts at byte {entry.Begin} of the data, expected {expected} (gap or overlap).");
            }
            expected = entry.End;
        }
        if (expected != dataLength)
        {
            throw Corrupt.File(path, Format, $"the tensors cover {expected} bytes but the file holds {dataLength} bytes of data (truncated or trailing bytes).");
        }
    }

    private static int ElementSize(string dtype) => dtype switch
    {
        "F64" or "I64" => 8,
        "F32" or "I32" => 4,
        "F16" or "BF16" or "I16" => 2,
        "I8" or "U8" or "BOOL" => 1,
        _ => 0,
    };

    private static void Decode(string dtype, ReadOnlySpan<byte> raw, Span<float> destination)
    {
        if (dtype == "F32" && BitConverter.IsLittleEndian)
        {
            MemoryMarshal.Cast<byte, float>(raw).CopyTo(destination);
            return;
        }
        // The conversion is chosen once per tensor, not once per element.
        Func<ReadOnlySpan<byte>, float> read = dtype switch
        {
            "F32" => static b => BinaryPrimitives.ReadSingleLittleEndian(b),
            "F64" => static b => (float)BinaryPrimitives.ReadDoubleLittleEndian(b),
            "F16" => static b => (float)BinaryPrimitives.ReadHalfLittleEndian(b),
            "BF16" => static b => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(b) << 16),
            "I64" => static b => BinaryPrimitives.ReadInt64LittleEndian(b),
            "I32" => static b => BinaryPrimitives.ReadInt32LittleEndian(b),
            "I16" => static b => BinaryPrimitives.ReadInt16LittleEndian(b),
            "I8" => static b => (sbyte)b[0],
            _ => static b => b[0], // U8, BOOL
        };
        int size = ElementSize(dtype);
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = read(raw.Slice(i * size, size));
        }
    }
}
