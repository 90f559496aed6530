using System.Numerics;

namespace AutoGrad.Kernels;

// Comparisons as masks: 1 where the relation holds, else 0 (PyTorch's bool tensors, as floats). NaN compares unequal
// to everything, itself included, so only Ne holds for it.

internal readonly struct EqMap : IBinaryMap
{
    public float Invoke(float x, float y) => x == y ? 1f : 0f;
    public Vector<float> Invoke(Vector<float> x, Vector<float> y) => Vector.ConditionalSelect(Vector.Equals(x, y), Vector<float>.One, Vector<float>.Zero);
}

internal readonly struct NeMap : IBinaryMap
{
    public float Invoke(float x, float y) => x == y ? 0f : 1f;
    public Vector<float> Invoke(Vector<float> x, Vector<float> y) => Vector.ConditionalSelect(Vector.Equals(x, y), Vector<float>.Zero, Vector<float>.One);
}

internal readonly struct LtMap : IBinaryMap
{
    public float Invoke(float x, float y) => x < y ? 1f : 0f;
    public Vector<float> Invoke(Vector<float> x, Vector<float> y) => Vector.ConditionalSelect(Vector.LessThan(x, y), Vector<float>.One, Vector<float>.Zero);
}

internal readonly struct LeMap : IBinaryMap
{
    public float Invoke(float x, float y) => x <= y ? 1f : 0f;
    public Vector<float> Invoke(Vector<float> x, Vector<float> y) => Vector.ConditionalSelect(Vector.LessThanOrEqual(x, y), Vector<float>.One, Vector<float>.Zero);
}

internal readonly struct GtMap : IBinaryMap
{
    public float Invoke(float x, float y) => x > y ? 1f : 0f;
    public Vector<float> Invoke(Vector<float> x, Vector<float> y) => Vector.ConditionalSelect(Vector.GreaterThan(x, y), Vector<float>.One, Vector<float>.Zero);
}

internal readonly struct GeMap : IBinaryMap
{
    public float Invoke(float x, float y) => x >= y ? 1f : 0f;
    public Vector<float> Invoke(Vector<float> x, Vector<float> y) => Vector.ConditionalSelect(Vector.GreaterThanOrEqual(x, y), Vector<float>.One, Vector<float>.Zero);
}

/// <summary>where(condition, x, y) with the condition as a 0/1 mask: x where it is nonzero, else y (no arithmetic, so Inf and NaN pass).</summary>
internal static class Selection
{
    public static void Where(ReadOnlySpan<float> condition, ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> destination)
    {
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = condition[i] != 0 ? x[i] : y[i];
        }
    }
}
