using System.Buffers.Binary;
using System.Text;

namespace AutoGrad.Tests.IO;

/// <summary>Hand-made file contents for reader tests: a header as written, then zeroed data bytes.</summary>
internal static class FileBytes
{
    /// <summary>A safetensors file: the 8-byte little-endian header length, the JSON header, <paramref name="dataBytes"/> zeros.</summary>
    public static byte[] Safetensors(string json, int dataBytes)
    {
        var header = Encoding.UTF8.GetBytes(json);
        var bytes = new byte[8 + header.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        return bytes;
    }

    /// <summary>An .npy file of format version <paramref name="major"/>.<paramref name="minor"/> with a 2-byte header length.</summary>
    public static byte[] Npy(string header, int dataBytes, byte major = 1, byte minor = 0)
    {
        var h = Encoding.ASCII.GetBytes(header);
        var bytes = new byte[10 + h.Length + dataBytes];
        new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', major, minor }.CopyTo(bytes, 0);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)h.Length);
        h.CopyTo(bytes, 10);
        return bytes;
    }
}
