using System.Numerics;

namespace AutoGrad.Kernels;

// Elementwise activations and their derivatives as fused maps (forward and backward side by side per function).
// Those with no vector math in System.Numerics evaluate the scalar form per lane, so both paths agree exactly.

internal static class Lanes
{
    /// <summary>Applies a scalar function to each lane of one vector.</summary>
    public static Vector<float> Apply<T>(T map, Vector<float> x) where T : struct, IUnaryMap
    {
        Span<float> lanes = stackalloc float[Vector<float>.Count];
        for (int i = 0; i < lanes.Length; i++)
        {
            lanes[i] = map.Invoke(x[i]);
        }
        return new Vector<float>(lanes);
    }

    /// <summary>Applies a scalar function of two arguments to each pair of lanes.</summary>
    public static Vector<float> Apply<T>(T map, Vector<float> x, Vector<float> y) where T : struct, IBinaryMap
    {
        Span<float> lanes = stackalloc float[Vector<float>.Count];
        for (int i = 0; i < lanes.Length; i++)
        {
            lanes[i] = map.Invoke(x[i], y[i]);
        }
        return new Vector<float>(lanes);
    }
}

/// <summary>leaky_relu: x if x &gt; 0 else slope * x.</summary>
internal readonly struct LeakyReluMap(float slope) : IUnaryMap
{
    public float Invoke(float x) => x > 0 ? x : x * slope;
    public Vector<float> Invoke(Vector<float> x) => Vector.ConditionalSelect(Vector.GreaterThan(x, Vector<float>.Zero), x, x * slope);
}

/// <summary>leaky_relu backward: grad if x &gt; 0 else slope * grad.</summary>
internal readonly struct LeakyReluBackwardMap(float slope) : IBinaryMap
{
    public float Invoke(float grad, float x) => x > 0 ? grad : grad * slope;
    public Vector<float> Invoke(Vector<float> grad, Vector<float> x) => Vector.ConditionalSelect(Vector.GreaterThan(x, Vector<float>.Zero), grad, grad * slope);
}

/// <summary>elu: x if x &gt; 0 else alpha * (e^x - 1).</summary>
internal readonly struct EluMap(float alpha) : IUnaryMap
{
    public float Invoke(float x) => x > 0 ? x : alpha * (MathF.Exp(x) - 1f);
    public Vector<float> Invoke(Vector<float> x) => Lanes.Apply(this, x);
}

/// <summary>elu backward: grad if x &gt; 0 else grad * alpha * e^x.</summary>
internal readonly struct EluBackwardMap(float alpha) : IBinaryMap
{
    public float Invoke(float grad, float x) => x > 0 ? grad : grad * alpha * MathF.Exp(x);
    public Vector<float> Invoke(Vector<float> grad, Vector<float> x) => Lanes.Apply(this, grad, x);
}

/// <summary>softplus: log(1 + e^(beta x)) / beta, or x where beta x &gt; threshold (PyTorch's linear regime).</summary>
internal readonly struct SoftplusMap(float beta, float threshold) : IUnaryMap
{
    public float Invoke(float x) => x * beta > threshold ? x : MathF.Log(1f + MathF.Exp(x * beta)) / beta;
    public Vector<float> Invoke(Vector<float> x) => Lanes.Apply(this, x);
}

/// <summary>softplus backward: grad * sigmoid(beta x), or grad in the linear regime.</summary>
internal readonly struct SoftplusBackwardMap(float beta, float threshold) : IBinaryMap
{
    public float Invoke(float grad, float x)
    {
        if (x * beta > threshold)
        {
            return grad;
        }
        float z = MathF.Exp(x * beta);
        return grad * z / (z + 1f);
    }

    public Vector<float> Invoke(Vector<float> grad, Vector<float> x) => Lanes.Apply(this, grad, x);
}

/// <summary>gelu, exact: x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)).</summary>
internal readonly struct GeluMap : IUnaryMap
{
    public float Invoke(float x) => 0.5f * x * (1f + Erf.Invoke(x * 0.70710678118654752f));
    public Vector<float> Invoke(Vector<float> x) => Lanes.Apply(this, x);
}

/// <summary>gelu backward, exact: grad * (Phi(x) + x * phi(x)).</summary>
internal readonly struct GeluBackwardMap : IBinaryMap
{
    public float Invoke(float grad, float x)
    {
        float cdf = 0.5f * (1f + Erf.Invoke(x * 0.70710678118654752f));
        float pdf = 0.3989422804014327f * MathF.Exp(-0.5f * x * x);
        return grad * (cdf + x * pdf);
    }

    public Vector<float> Invoke(Vector<float> grad, Vector<float> x) => Lanes.Apply(this, grad, x);
}

/// <summary>gelu, tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).</summary>
internal readonly struct GeluTanhMap : IUnaryMap
{
    public static bool HasSimdForm => true;

    public float Invoke(float x) => SimdScalar.Sum(Invoke(SimdScalar.Create(x)));

    // Map runs the ISimd form; this one serves only loops with a broadcast operand, lane by lane for the same bits
    public Vector<float> Invoke(Vector<float> x) => Lanes.Apply(this, x);

    public TVec Invoke<TVec>(TVec x) where TVec : unmanaged, ISimd<TVec>
    {
        var inner = TVec.Create(GeluTanh.Beta) * (x + TVec.Create(GeluTanh.Kappa) * x * x * x);
        return TVec.Create(0.5f) * x * (TVec.Create(1f) + GeluTanh.Tanh(inner));
    }
}

/// <summary>gelu backward, tanh approximation (PyTorch's formula).</summary>
internal readonly struct GeluTanhBackwardMap : IBinaryMap
{
    public static bool HasSimdForm => true;

    public float Invoke(float grad, float x) => SimdScalar.Sum(Invoke(SimdScalar.Create(grad), SimdScalar.Create(x)));

    // as in GeluTanhMap: only loops with a broadcast operand use this form
    public Vector<float> Invoke(Vector<float> grad, Vector<float> x) => Lanes.Apply(this, grad, x);

    public TVec Invoke<TVec>(TVec grad, TVec x) where TVec : unmanaged, ISimd<TVec>
    {
        var beta = TVec.Create(GeluTanh.Beta);
        var half = TVec.Create(0.5f);
        var one = TVec.Create(1f);
        var x2 = x * x;
        var t = GeluTanh.Tanh(beta * (x + TVec.Create(GeluTanh.Kappa) * x2 * x));
        var innerDerivative = beta * (one + TVec.Create(3f * GeluTanh.Kappa) * x2);
        return grad * (half * (one + t) + half * x * (one - t * t) * innerDerivative);
    }
}

/// <summary>
/// tanh as (e^2u - 1) / (e^2u + 1) with u clamped to [-10, 10] (where tanh is +-1 in float): GELU's tanh form spent
/// most of a transformer step in the scalar tanhf. e^2u comes from <see cref="Exp{TVec}"/>, a polynomial in float
/// (Vector.Exp works in double and made GELU three times as slow), written once over the width, so vector bodies
/// and scalar tails give the same bits. Near 0 the absolute error is a few ulps of 1, which GELU adds to 1.
/// </summary>
internal static class GeluTanh
{
    public const float Beta = 0.7978845608028654f, Kappa = 0.044715f;

    // exp(x) = 2^n e^r with n = round(x log2 e) and r = x - n ln 2 (ln 2 split in two, Cody and Waite, so r is exact
    // to float precision); e^r by Cephes' degree-7 expf polynomial, within 2 ulps for |r| <= ln 2 / 2. 2^n is built
    // in the exponent bits, so the argument must keep n in float's normal range: here |x| <= 20.
    private const float Log2E = 1.44269504f, Ln2High = 0.693359375f, Ln2Low = -2.12194440e-4f;
    private const float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f, P3 = 4.1665795894e-2f,
        P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;

    public static TVec Tanh<TVec>(TVec u) where TVec : unmanaged, ISimd<TVec>
    {
        var one = TVec.Create(1f);
        var e = Exp(TVec.Create(2f) * TVec.Min(TVec.Max(u, TVec.Create(-10f)), TVec.Create(10f)));
        return (e - one) / (e + one);
    }

    internal static TVec Exp<TVec>(TVec x) where TVec : unmanaged, ISimd<TVec>
    {
        var n = TVec.Round(x * TVec.Create(Log2E));
        var r = TVec.FusedMultiplyAdd(n, TVec.Create(-Ln2Low), TVec.FusedMultiplyAdd(n, TVec.Create(-Ln2High), x));
        var p = TVec.FusedMultiplyAdd(TVec.Create(P0), r, TVec.Create(P1));
        p = TVec.FusedMultiplyAdd(p, r, TVec.Create(P2));
        p = TVec.FusedMultiplyAdd(p, r, TVec.Create(P3));
        p = TVec.FusedMultiplyAdd(p, r, TVec.Create(P4));
        p = TVec.FusedMultiplyAdd(p, r, TVec.Create(P5));
        p = TVec.FusedMultiplyAdd(p * r, r, r) + TVec.Create(1f);
        return p * TVec.PowerOfTwo(n);
    }
}

/// <summary>The error function, evaluated in double precision so the float result is correctly rounded in practice.</summary>
internal static class Erf
{
    public static float Invoke(float x) => (float)Evaluate(x);

    /// <summary>
    /// erf(x) for |x| &lt; 2.5 by its Maclaurin series (terms fall fast enough that 60 suffice for double precision
    /// there), beyond by 1 - erfc(x) with erfc's continued fraction; |x| &gt; 6 is ±1 to double precision.
    /// </summary>
    public static double Evaluate(double x)
    {
        if (double.IsNaN(x))
        {
            return double.NaN;
        }
        double ax = Math.Abs(x);
        if (ax > 6)
        {
            return Math.Sign(x);
        }
        if (ax < 2.5)
        {
            // erf(x) = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1))
            double term = x, sum = x, x2 = x * x;
            for (int n = 1; n < 60; n++)
            {
                term *= -x2 / n;
                double contribution = term / (2 * n + 1);
                sum += contribution;
                if (Math.Abs(contribution) < 1e-17 * Math.Abs(sum))
                {
                    break;
                }
            }
            return 1.1283791670955126 * sum;
        }
        // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...))))), evaluated bottom-up.
        double fraction = ax;
        for (int k = 60; k >= 1; k--)
        {
            fraction = ax + (k / 2.0) / fraction;
        }
        double erfc = Math.Exp(-ax * ax) / (1.7724538509055160 * fraction);
        return Math.Sign(x) * (1 - erfc);
    }
}

// Second derivatives, g * f''(x), for the backward of a backward (createGraph): the derivative of f'(x) * grad with
// respect to x.

/// <summary>g * 0: the second derivative of a piecewise-linear activation (LeakyReLU) away from its kink.</summary>
internal readonly struct ZeroSecondMap : IBinaryMap
{
    public float Invoke(float grad, float x) => 0f;
    public Vector<float> Invoke(Vector<float> grad, Vector<float> x) => Vector<float>.Zero;
}

/// <summary>elu'': 0 if x &gt; 0 else g * alpha * e^x.</summary>
internal readonly struct EluSecondMap(float alpha) : IBinaryMap
{
    public float Invoke(float grad, float x) => x > 0 ? 0f : grad * alpha * MathF.Exp(x);
    public Vector<float> Invoke(Vector<float> grad, Vector<float> x) => Lanes.Apply(this, grad, x);
}

/// <summary>softplus'': g * beta * s (1 - s) with s = sigmoid(beta x); 0 in the linear regime.</summary>
internal readonly struct SoftplusSecondMap(float beta, float threshold) : IBinaryMap
{
    public float Invoke(float grad, float x)
    {
        if (x * beta > threshold)
        {
            return 0f;
        }
        float s = 1f / (1f + MathF.Exp(-x * beta));
        return grad * beta * s * (1f - s);
    }

    public Vector<float> Invoke(Vector<float> grad, Vector<float> x) => Lanes.Apply(this, grad, x);
}

/// <summary>gelu'', exact: g * phi(x) * (2 - x^2).</summary>
internal readonly struct GeluSecondMap : IBinaryMap
{
    public float Invoke(float grad, float x) => grad * 0.3989422804014327f * MathF.Exp(-0.5f * x * x) * (2f - x * x);
    public Vector<float> Invoke(Vector<float> grad, Vector<float> x) => Lanes.Apply(this, grad, x);
}

/// <summary>gelu'', tanh approximation: g * (1 - t^2) (u' - x t u'^2 + x u'' / 2), u = sqrt(2/pi) (x + 0.044715 x^3), t = tanh u.</summary>
internal readonly struct GeluTanhSecondMap : IBinaryMap
{
    public float Invoke(float grad, float x)
    {
        const float Beta = GeluTanh.Beta, Kappa = GeluTanh.Kappa;
        float x2 = x * x;
        float t = MathF.Tanh(Beta * (x + Kappa * x2 * x));
        float u1 = Beta * (1f + 3f * Kappa * x2);
        float u2 = 6f * Beta * Kappa * x;
        return grad * (1f - t * t) * (u1 - x * t * u1 * u1 + 0.5f * x * u2);
    }

    public Vector<float> Invoke(Vector<float> grad, Vector<float> x) => Lanes.Apply(this, grad, x);
}
