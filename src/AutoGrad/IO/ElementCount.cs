namespace AutoGrad.IO;

/// <summary>The element count a file's header declares, computed without overflow.</summary>
internal static class ElementCount
{
    /// <summary>
    /// The product of <paramref name="dims"/> (all non-negative), or -1 when it exceeds <paramref name="max"/>. A zero
    /// anywhere makes the product 0, so an empty array such as (2147483647, 0) is valid.
    /// </summary>
    public static long Of(ReadOnlySpan<int> dims, long max)
    {
        if (dims.Contains(0))
        {
            return 0;
        }
        long count = 1;
        foreach (int d in dims)
        {
            if (count > max / d)
            {
                return -1;
            }
            count *= d;
        }
        return count <= max ? count : -1;
    }
}
