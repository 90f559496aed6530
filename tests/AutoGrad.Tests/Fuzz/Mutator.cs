using System.Buffers.Binary;
using System.Text;

namespace AutoGrad.Tests.Fuzz;

/// <summary>
/// Seeded mutations of a valid file: bit flips, byte overwrites, truncation, appended or removed ranges, and
/// overwriting 4 or 8 bytes with sizes that are huge, negative or overflow when multiplied.
/// </summary>
internal sealed class Mutator(long seed)
{
    private readonly Generator _random = new(seed);

    private static readonly long[] Interesting =
        [0, 1, -1, 255, 256, 65535, 65536, int.MaxValue, int.MinValue, uint.MaxValue, 1L << 31, 1L << 32, 1L << 40, long.MaxValue, long.MinValue, 46341, 2147483647L * 2];

    public int Next(int max) => _random.NextInt(max);

    public (byte[] Bytes, string Description) Mutate(byte[] valid)
    {
        var bytes = (byte[])valid.Clone();
        int kind = Next(8);
        switch (kind)
        {
            case 0:
            {
                int flips = 1 + Next(8);
                for (int i = 0; i < flips && bytes.Length > 0; i++)
                {
                    bytes[Next(bytes.Length)] ^= (byte)(1 << Next(8));
                }
                return (bytes, $"{flips} bit flips");
            }
            case 1:
            {
                int at = Next(Math.Max(1, bytes.Length));
                if (bytes.Length > 0)
                {
                    bytes[at] = (byte)(Next(3) switch { 0 => 0, 1 => 0xFF, _ => Next(256) });
                }
                return (bytes, $"byte {at} overwritten");
            }
            case 2:
            {
                int length = Next(bytes.Length + 1);
                return (bytes[..length], $"truncated to {length} bytes");
            }
            case 3:
            {
                var extra = new byte[1 + Next(64)];
                for (int i = 0; i < extra.Length; i++)
                {
                    extra[i] = (byte)Next(256);
                }
                return ([.. bytes, .. extra], $"{extra.Length} bytes appended");
            }
            case 4:
            {
                if (bytes.Length == 0)
                {
                    return (bytes, "empty");
                }
                int start = Next(bytes.Length), count = 1 + Next(Math.Min(16, bytes.Length - start));
                return ([.. bytes[..start], .. bytes[(start + count)..]], $"{count} bytes removed at {start}");
            }
            case 5 or 6:
            {
                // A size field somewhere in the first 64 bytes set to an interesting integer, in either byte order.
                int width = Next(2) == 0 ? 4 : 8;
                if (bytes.Length < width)
                {
                    return (bytes, "too short for a size field");
                }
                int at = Next(Math.Min(64, bytes.Length - width + 1));
                long value = Interesting[Next(Interesting.Length)];
                var target = bytes.AsSpan(at, width);
                bool big = Next(2) == 0;
                if (width == 4)
                {
                    if (big) BinaryPrimitives.WriteInt32BigEndian(target, (int)value); else BinaryPrimitives.WriteInt32LittleEndian(target, (int)value);
                }
                else
                {
                    if (big) BinaryPrimitives.WriteInt64BigEndian(target, value); else BinaryPrimitives.WriteInt64LittleEndian(target, value);
                }
                return (bytes, $"{width}-byte {(big ? "big" : "little")}-endian {value} at {at}");
            }
            default:
                return (bytes, "unchanged");
        }
    }

    /// <summary>Replaces a random run of digits in the text part of a file by a huge, negative or overflowing number.</summary>
    public (byte[] Bytes, string Description) MutateNumberInText(byte[] valid, int textEnd)
    {
        var text = Encoding.Latin1.GetString(valid, 0, Math.Min(textEnd, valid.Length));
        var digits = System.Text.RegularExpressions.Regex.Matches(text, "[0-9]+");
        if (digits.Count == 0)
        {
            return Mutate(valid);
        }
        var m = digits[Next(digits.Count)];
        string[] replacements = ["-1", "-4", "99999999999999999999", "4294967296", "2147483647", "65536", "0", "1e9", "3.5", "\"x\"", "[", "null", "{}", "-9223372036854775808"];
        string replacement = replacements[Next(replacements.Length)];
        var mutated = Encoding.Latin1.GetBytes(text[..m.Index] + replacement + text[(m.Index + m.Length)..]);
        return ([.. mutated, .. valid[Math.Min(textEnd, valid.Length)..]], $"number '{m.Value}' at {m.Index} replaced by {replacement}");
    }
}
