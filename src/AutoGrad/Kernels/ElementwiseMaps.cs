using System.Numerics;

namespace AutoGrad.Kernels;

// Fused elementwise kernels (mostly backward formulas) that TensorPrimitives has no single call for.
// Each is a struct so Map.Apply specializes on it; scalar and vector forms say the same thing.

/// <summary>relu backward: grad where result &gt; 0, else 0 (PyTorch's threshold_backward).</summary>
internal readonly struct ReluBackwardMap : IBinaryMap
{
    public float Invoke(float grad, float result) => result > 0 ? grad : 0f;
    public Vector<float> Invoke(Vector<float> grad, Vector<float> result)
        => Vector.ConditionalSelect(Vector.GreaterThan(result, Vector<float>.Zero), grad, Vector<float>.Zero);
}

/// <summary>tanh backward: grad * (1 - result^2).</summary>
internal readonly struct TanhBackwardMap : IBinaryMap
{
    public float Invoke(float grad, float result) => grad * (1f - result * result);
    public Vector<float> Invoke(Vector<float> grad, Vector<float> result) => grad * (Vector<float>.One - result * result);
}

/// <summary>sigmoid backward: grad * result * (1 - result).</summary>
internal readonly struct SigmoidBackwardMap : IBinaryMap
{
    public float Invoke(float grad, float result) => grad * result * (1f - result);
    public Vector<float> Invoke(Vector<float> grad, Vector<float> result) => grad * result * (Vector<float>.One - result);
}

/// <summary>abs backward: grad * sign(x), with sign(0) = 0.</summary>
internal readonly struct AbsBackwardMap : IBinaryMap
{
    public float Invoke(float grad, float x) => x > 0 ? grad : x < 0 ? -grad : 0f;
    public Vector<float> Invoke(Vector<float> grad, Vector<float> x)
        => Vector.ConditionalSelect(Vector.GreaterThan(x, Vector<float>.Zero), grad,
            Vector.ConditionalSelect(Vector.LessThan(x, Vector<float>.Zero), -grad, Vector<float>.Zero));
}

/// <summary>clamp backward: grad where min &lt;= x &lt;= max (bounds included, as PyTorch), else 0.</summary>
internal readonly struct ClampBackwardMap(float min, float max) : IBinaryMap
{
    public float Invoke(float grad, float x) => x >= min && x <= max ? grad : 0f;
    public Vector<float> Invoke(Vector<float> grad, Vector<float> x)
    {
        var inside = Vector.BitwiseAnd(Vector.GreaterThanOrEqual(x, new Vector<float>(min)), Vector.LessThanOrEqual(x, new Vector<float>(max)));
        return Vector.ConditionalSelect(inside, grad, Vector<float>.Zero);
    }
}

/// <summary>1 where x == y, else 0: the arg-max mask of max/min backward.</summary>
internal readonly struct EqualMaskMap : IBinaryMap
{
    public float Invoke(float x, float y) => x == y ? 1f : 0f;
    public Vector<float> Invoke(Vector<float> x, Vector<float> y)
        => Vector.ConditionalSelect(Vector.Equals(x, y), Vector<float>.One, Vector<float>.Zero);
}

/// <summary>pow backward: grad * p * x^(p-1), with the whole term 0 when p == 0 (as PyTorch).</summary>
internal readonly struct PowBackwardMap(float exponent) : IBinaryMap
{
    public float Invoke(float grad, float x) => exponent == 0 ? 0f : grad * exponent * MathF.Pow(x, exponent - 1f);
    public Vector<float> Invoke(Vector<float> grad, Vector<float> x)
    {
        // No vector pow in System.Numerics: the scalar form per lane keeps both paths identical.
        Span<float> lanes = stackalloc float[Vector<float>.Count];
        for (int i = 0; i < lanes.Length; i++)
        {
            lanes[i] = Invoke(grad[i], x[i]);
        }
        return new Vector<float>(lanes);
    }
}
