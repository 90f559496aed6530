namespace AutoGrad.Kernels;

/// <summary>Random masks for dropout.</summary>
internal static class DropoutMask
{
    /// <summary>Each element is 0 with probability p, otherwise 1 / (1 - p), so the expected value is unchanged.</summary>
    public static void Fill(Generator generator, float p, Span<float> mask)
    {
        float keep = 1f / (1f - p);
        for (int i = 0; i < mask.Length; i++)
        {
            mask[i] = generator.NextFloat() < p ? 0f : keep;
        }
    }
}
