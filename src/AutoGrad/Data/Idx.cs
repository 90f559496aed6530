using System.Buffers.Binary;
using System.IO.Compression;
using System.Runtime.InteropServices;
using AutoGrad.IO;

namespace AutoGrad.Data;

/// <summary>An array read from an IDX file: its shape and its values as float32 (unsigned bytes stay 0..255).</summary>
public sealed record IdxArray(int[] Shape, float[] Values)
{
    /// <summary>The values as a tensor of <see cref="Shape"/>.</summary>
    public Tensor ToTensor() => Shape.Length == 0 ? Tensor.Scalar(Values[0]) : Tensor.FromArray(Values, Shape);

    /// <summary>The values as integer labels (for 1-D label files); throws when a value is not an integer.</summary>
    public int[] ToLabels()
    {
        var labels = new int[Values.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            float v = Values[i];
            labels[i] = v == MathF.Round(v) && v is >= 0 and <= int.MaxValue
                ? (int)v
                : throw new InvalidDataException($"IDX: value {v} at index {i} is not a non-negative integer label.");
        }
        return labels;
    }
}

/// <summary>
/// The IDX format of MNIST and Fashion-MNIST, raw or gzip-compressed (detected from the content): two zero bytes, a
/// type code (0x08 ubyte, 0x09 sbyte, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64), the rank, then each
/// dimension as a big-endian int32, then the big-endian data.
/// </summary>
/// <remarks>
/// A raw file must hold exactly the data its header declares. A gzip file must be one complete gzip member (what
/// gzip, Python and <see cref="WriteBytes"/> write): zlib checks its CRC-32, and the reader checks that the
/// trailer's length matches what inflated, so a cut-off file is rejected. The values are allocated as the data
/// inflates, never from the header's claim alone, and a gzip file may inflate to at most
/// <see cref="DefaultMaxCompressionRatio"/> times its size (MNIST's images inflate about 5 times, its labels 2).
/// </remarks>
public static class Idx
{
    private const string Format = "IDX";

    /// <summary>
    /// How many times its own size a gzip file may inflate to by default (beyond that it is taken for a decompression
    /// bomb). Deflate can reach about 1032:1; real IDX data sets stay below 10:1.
    /// </summary>
    public const int DefaultMaxCompressionRatio = 100;

    // Up to this many times the compressed length (in data bytes) is allocated before the data arrives; larger data
    // sets grow their buffer as they inflate.
    private const long UpFrontRatio = 8;
    private const int ChunkBytes = 1 << 16;

    /// <summary>Reads an IDX file (.gz or raw).</summary>
    /// <param name="path">The file.</param>
    /// <param name="maxCompressionRatio">For gzip files: the largest ratio of inflated to compressed bytes accepted.</param>
    /// <exception cref="InvalidDataException">The file is truncated, corrupt, inflates beyond <paramref name="maxCompressionRatio"/>,
    /// or declares more data than it holds.</exception>
    public static IdxArray Read(string path, int maxCompressionRatio = DefaultMaxCompressionRatio)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCompressionRatio, 1);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, ChunkBytes);
        long fileLength = file.Length;
        Span<byte> magic = stackalloc byte[2];
        bool gzip = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
        file.Position = 0;
        if (!gzip)
        {
            return ReadContent(path, file, maxBytes: fileLength, upFrontBytes: fileLength, gzip: false).Array;
        }
        try
        {
            using var stream = new GZipStream(file, CompressionMode.Decompress, leaveOpen: true);
            // Saturating: a caller may allow any ratio up to int.MaxValue, and the product must not wrap to a small bound.
            long maxBytes = Math.Max(1 << 20, fileLength > long.MaxValue / maxCompressionRatio ? long.MaxValue : fileLength * maxCompressionRatio);
            var (array, inflated) = ReadContent(path, stream, maxBytes, upFrontBytes: UpFrontRatio * fileLength + ChunkBytes, gzip: true);
            CheckTrailer(path, file, fileLength, inflated);
            return array;
        }
        catch (InvalidDataException e) when (!e.Message.StartsWith(Format, StringComparison.Ordinal))
        {
            throw Corrupt.File(path, Format, $"the gzip stream is corrupt ({e.Message}).");
        }
    }

    // Inflating stops at the end of the deflate data whether or not the 8-byte trailer (CRC-32, length mod 2^32)
    // followed; zlib verifies the CRC when the trailer is there, and this checks the length is where it must be.
    private static void CheckTrailer(string path, FileStream file, long fileLength, long inflated)
    {
        Span<byte> size = stackalloc byte[4];
        file.Position = fileLength - 4;
        if (fileLength < 18 || file.ReadAtLeast(size, 4, throwOnEndOfStream: false) < 4
            || BinaryPrimitives.ReadUInt32LittleEndian(size) != (uint)inflated)
        {
            throw Corrupt.File(path, Format,
                $"the gzip trailer does not record the {inflated} bytes that inflated (its last 4 bytes are {Convert.ToHexString(size)}): " +
                "the file is truncated, has bytes after the gzip data, or holds several gzip members.");
        }
    }

    private static int ElementSize(byte typeCode) => typeCode switch
    {
        0x08 or 0x09 => 1,
        0x0B => 2,
        0x0C or 0x0D => 4,
        0x0E => 8,
        _ => 0,
    };

    // maxBytes bounds the whole content (header and data); upFrontBytes is how much data may be allocated before it
    // arrives. Returns the array and the content's length.
    private static (IdxArray Array, long Length) ReadContent(string path, Stream stream, long maxBytes, long upFrontBytes, bool gzip)
    {
        Span<byte> head = stackalloc byte[4];
        ReadOrThrow(path, stream, head, "the 4-byte magic number");
        if (head[0] != 0 || head[1] != 0)
        {
            throw Corrupt.File(path, Format, $"the magic number starts with {head[0]:x2} {head[1]:x2}, expected 00 00.");
        }
        byte type = head[2];
        int size = ElementSize(type);
        if (size == 0)
        {
            throw Corrupt.File(path, Format, $"unknown data type code 0x{type:x2} (expected 08, 09, 0B, 0C, 0D or 0E).");
        }
        int rank = head[3];
        if (rank > Tensor.MaxRank)
        {
            throw Corrupt.File(path, Format, $"rank {rank} exceeds AutoGrad's maximum of {Tensor.MaxRank}.");
        }
        var shape = new int[rank];
        Span<byte> dim = stackalloc byte[4];
        for (int d = 0; d < rank; d++)
        {
            ReadOrThrow(path, stream, dim, $"dimension {d}");
            shape[d] = BinaryPrimitives.ReadInt32BigEndian(dim);
            if (shape[d] < 0)
            {
                throw Corrupt.File(path, Format, $"dimension {d} is negative ({shape[d]}).");
            }
        }
        long headerBytes = 4 + 4L * rank;
        long available = maxBytes - headerBytes;
        long count = ElementCount.Of(shape, Array.MaxLength);
        if (count < 0 || count * size > available)
        {
            throw Corrupt.File(path, Format, gzip
                ? $"the shape [{string.Join(", ", shape)}] declares more data than a gzip file of this length may inflate to " +
                  $"({available} bytes at most; Idx.Read's maxCompressionRatio allows more)."
                : $"the shape [{string.Join(", ", shape)}] declares more data than the file holds ({available} bytes after the header; truncated, or a corrupt shape).");
        }
        if (!gzip && count * size != available)
        {
            throw Corrupt.File(path, Format, $"trailing bytes: the shape [{string.Join(", ", shape)}] needs {count * size} bytes of data, the file holds {available}.");
        }
        // Raw files hold exactly the data (checked above); a gzip file's data is allocated as it inflates.
        var values = new float[Math.Min(count, upFrontBytes / size)];
        var chunk = new byte[(int)Math.Min(ChunkBytes, Math.Max(size, count * size))];
        long done = 0;
        while (done < count)
        {
            int n = (int)Math.Min(chunk.Length / size, count - done);
            var bytes = chunk.AsSpan(0, n * size);
            int got = stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
            if (got < bytes.Length)
            {
                throw Corrupt.File(path, Format,
                    $"the file ends inside the data ({done * size + got} of {count * size} bytes for shape [{string.Join(", ", shape)}]; truncated).");
            }
            if (done + n > values.Length)
            {
                Array.Resize(ref values, (int)Math.Min(count, Math.Max(done + n, 2L * values.Length)));
            }
            Decode(type, bytes, values.AsSpan((int)done, n));
            done += n;
        }
        if (gzip && stream.ReadByte() >= 0)
        {
            throw Corrupt.File(path, Format, $"trailing bytes after the data of shape [{string.Join(", ", shape)}].");
        }
        return (new IdxArray(shape, values), headerBytes + count * size);
    }

    private static void Decode(byte type, ReadOnlySpan<byte> raw, Span<float> destination)
    {
        switch (type)
        {
            case 0x08:
                System.Numerics.Tensors.TensorPrimitives.ConvertChecked(raw, destination);
                break;
            case 0x09:
                System.Numerics.Tensors.TensorPrimitives.ConvertChecked(MemoryMarshal.Cast<byte, sbyte>(raw), destination);
                break;
            case 0x0B:
                for (int i = 0; i < destination.Length; i++)
                {
                    destination[i] = BinaryPrimitives.ReadInt16BigEndian(raw[(2 * i)..]);
                }
                break;
            case 0x0C:
                for (int i = 0; i < destination.Length; i++)
                {
                    destination[i] = BinaryPrimitives.ReadInt32BigEndian(raw[(4 * i)..]);
                }
                break;
            case 0x0D:
                for (int i = 0; i < destination.Length; i++)
                {
                    destination[i] = BinaryPrimitives.ReadSingleBigEndian(raw[(4 * i)..]);
                }
                break;
            default:
                for (int i = 0; i < destination.Length; i++)
                {
                    destination[i] = (float)BinaryPrimitives.ReadDoubleBigEndian(raw[(8 * i)..]);
                }
                break;
        }
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
        int[] classes;
        try
        {
            classes = labels.ToLabels();
        }
        catch (InvalidDataException e)
        {
            throw Corrupt.File(labelsPath, Format, e.Message);
        }
        return new TensorDataset(features, classes);
    }
}
