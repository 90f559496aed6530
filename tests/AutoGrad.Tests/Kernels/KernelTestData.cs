namespace AutoGrad.Tests.Kernels;

/// <summary>Inputs for kernel tests: random values with the special ones (NaN, ±Inf, ±0) mixed in.</summary>
internal static class KernelTestData
{
    public static readonly float[] Specials = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f, 1f, -1f, float.Epsilon, float.MaxValue];

    public static float[] Values(int length, int seed, bool specials = true)
    {
        var generator = new Generator(seed);
        var values = new float[length];
        generator.FillNormal(values, 0f, 2f);
        if (specials)
        {
            for (int i = 0; i < length; i += 7)
            {
                values[i] = Specials[(i / 7 + seed) % Specials.Length];
            }
        }
        return values;
    }

    /// <summary>Bitwise equality, with every NaN equal to every NaN.</summary>
    public static bool SameFloat(float a, float b) => float.IsNaN(a) ? float.IsNaN(b) : BitConverter.SingleToInt32Bits(a) == BitConverter.SingleToInt32Bits(b) || a == b && a != 0;
}
