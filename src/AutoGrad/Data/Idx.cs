using System.Buffers.Binary;
using System.IO.Compression;
using AutoGrad.IO;

namespace AutoGrad.Data;

/// <summary>An array read from an IDX file: its shape and its values as float32 (unsigned bytes stay 0..255).</summary>
public sealed record IdxArray(int[] Shape, float[] Values)
{
    /// <summary>The values as a tensor of <see cref="Shape"/>.</summary>
    public Tensor ToTensor() => Shape.Length == 0 ? Tensor.Scalar(Values[0]) : Tensor.FromArray(Values, Shape);

    /// <summary>The values as integer labels (for 1-D label files); throws when a value is not an integer.</summary>
    public int[] ToLabels() => Array.ConvertAll(Values, v => v == MathF.Round(v)
        ? (int)v
        : throw new InvalidDataException($"IDX: value {v} is not an integer label."));
}

/// <summary>
/// The IDX format of MNIST and Fashion-MNIST, raw or gzip-compressed (detected from the content): two zero bytes, a
/// type code (0x08 ubyte, 0x09 sbyte, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64), the rank, then each
/// dimension as a big-endian int32, then the big-endian data.
/// </summary>
public static class Idx
{
    private const string Format = "IDX";

    // Deflate cannot expand data by more than about 1032:1, so a gzip file of n bytes holds at most this many.
    private const long MaxDeflateRatio = 1032;

    /// <summary>Reads an IDX file (.gz or raw).</summary>
    /// <exception cref="InvalidDataException">The file is truncated, corrupt or declares more data than it can hold.</exception>
    public static IdxArray Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        long fileLength = file.Length;
        Span<byte> magic = stackalloc byte[2];
        bool gzip = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
        file.Position = 0;
        long maxBytes = gzip ? fileLength * MaxDeflateRatio : fileLength;
        using var stream = gzip ? new GZipStream(file, CompressionMode.Decompress) : (Stream)file;
        try
        {
            return ReadContent(path, stream, maxBytes);
        }
        catch (InvalidDataException e) when (!e.Message.StartsWith(Format, StringComparison.Ordinal))
        {
            throw Corrupt.File(path, Format, $"the gzip stream is corrupt ({e.Message}).");
        }
    }

    private static IdxArray ReadContent(string path, Stream stream, long maxBytes)
    {
        Span<byte> head = stackalloc byte[4];
        ReadOrThrow(path, stream, head, "the 4-byte magic number");
        if (head[0] != 0 || head[1] != 0)
        {
            throw Corrupt.File(path, Format, $"the magic number starts with {head[0]:x2} {head[1]:x2}, expected 00 00.");
        }
        int size = head[2] switch
        {
            0x08 or 0x09 => 1,
            0x0B => 2,
            0x0C or 0x0D => 4,
            0x0E => 8,
            _ => throw Corrupt.File(path, Format, $"unknown data type code 0x{head[2]:x2} (expected 08, 09, 0B, 0C, 0D or 0E)."),
        };
        int rank = head[3];
        if (rank > Tensor.MaxRank)
        {
            throw Corrupt.File(path, Format, $"rank {rank} exceeds AutoGrad's maximum of {Tensor.MaxRank}.");
        }
        var shape = new int[rank];
        Span<byte> dim = stackalloc byte[4];
        long count = 1;
        for (int d = 0; d < rank; d++)
        {
            ReadOrThrow(path, stream, dim, $"dimension {d}");
            shape[d] = BinaryPrimitives.ReadInt32BigEndian(dim);
            if (shape[d] < 0)
            {
                throw Corrupt.File(path, Format, $"dimension {d} is negative ({shape[d]}).");
            }
            count *= shape[d];
            if (count * size > maxBytes || count > Array.MaxLength)
            {
                throw Corrupt.File(path, Format,
                    $"the shape [{string.Join(", ", shape[..(d + 1)])}...] declares more data than a file of this length can hold.");
            }
        }
        var raw = new byte[count * size];
        ReadOrThrow(path, stream, raw, $"the data ({raw.Length} bytes for shape [{string.Join(", ", shape)}])");
        if (stream.ReadByte() >= 0)
        {
            throw Corrupt.File(path, Format, $"trailing bytes after the data of shape [{string.Join(", ", shape)}].");
        }
        var values = new float[count];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = head[2] switch
            {
                0x08 => raw[i],
                0x09 => (sbyte)raw[i],
                0x0B => BinaryPrimitives.ReadInt16BigEndian(raw.AsSpan(2 * i)),
                0x0C => BinaryPrimitives.ReadInt32BigEndian(raw.AsSpan(4 * i)),
                0x0D => BinaryPrimitives.ReadSingleBigEndian(raw.AsSpan(4 * i)),
                _ => (float)BinaryPrimitives.ReadDoubleBigEndian(raw.AsSpan(8 * i)),
            };
        }
        return new IdxArray(shape, values);
    }

    private static void ReadOrThrow(string path, Stream stream, Span<byte> buffer, string what)
    {
        if (stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false) < buffer.Length)
        {
            throw Corrupt.File(path, Format, $"the file ends inside {what} (truncated).");
        }
    }

    /// <summary>Writes unsigned bytes of <paramref name="shape"/> as IDX (type 0x08), gzip-compressed when the path ends in .gz; atomic.</summary>
    public static void WriteBytes(string path, ReadOnlySpan<byte> values, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Length > 255 || shape.Any(d => d < 0) || shape.Aggregate(1L, (a, d) => a * d) != values.Length)
        {
            throw new ArgumentException($"Idx.WriteBytes: shape {Shapes.Format(shape)} does not hold {values.Length} values.");
        }
        var content = new byte[4 + 4 * shape.Length + values.Length];
        content[2] = 0x08;
        content[3] = (byte)shape.Length;
        for (int d = 0; d < shape.Length; d++)
        {
            BinaryPrimitives.WriteInt32BigEndian(content.AsSpan(4 + 4 * d), shape[d]);
        }
        values.CopyTo(content.AsSpan(4 + 4 * shape.Length));
        bool gzip = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase);
        AtomicFile.Write(path, stream =>
        {
            if (gzip)
            {
                using var compressed = new GZipStream(stream, CompressionLevel.SmallestSize, leaveOpen: true);
                compressed.Write(content);
            }
            else
            {
                stream.Write(content);
            }
        });
    }

    /// <summary>
    /// Reads an image file [N, rows, cols] and its label file [N] into a dataset of [1, rows, cols] samples with
    /// pixels scaled to [0, 1] (MNIST / Fashion-MNIST).
    /// </summary>
    public static TensorDataset ReadImageDataset(string imagesPath, string labelsPath)
    {
        var images = Read(imagesPath);
        var labels = Read(labelsPath);
        if (images.Shape.Length != 3)
        {
            throw Corrupt.File(imagesPath, Format, $"an image file must have shape [N, rows, cols]; got [{string.Join(", ", images.Shape)}].");
        }
        if (labels.Shape.Length != 1 || labels.Shape[0] != images.Shape[0])
        {
            throw Corrupt.File(labelsPath, Format,
                $"a label file must have shape [{images.Shape[0]}] to match {imagesPath}; got [{string.Join(", ", labels.Shape)}].");
        }
        var features = Transforms.ScaleToUnit(Tensor.FromArray(images.Values, images.Shape[0], 1, images.Shape[1], images.Shape[2]));
        return new TensorDataset(features, labels.ToLabels());
    }
}
