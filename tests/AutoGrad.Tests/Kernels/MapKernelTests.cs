using System.Numerics;
using AutoGrad.Kernels;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using static AutoGrad.Tests.Kernels.KernelTestData;

namespace AutoGrad.Tests.Kernels;

/// <summary>
/// Every fused elementwise map and span operator against its scalar form, for every length 0..256 (crossing each
/// vector width and tail) with NaN, ±Inf and ±0 mixed into the inputs.
/// </summary>
[TestClass]
public sealed class MapKernelTests
{
    [TestMethod]
    public void BinaryMapsAgreeWithTheirScalarFormAtEveryLength()
    {
        Check(default(ReluBackwardMap), (g, r) => r > 0 ? g : 0f);
        Check(default(TanhBackwardMap), (g, r) => g * (1f - r * r));
        Check(default(SigmoidBackwardMap), (g, r) => g * r * (1f - r));
        Check(default(AbsBackwardMap), (g, x) => x > 0 ? g : x < 0 ? -g : 0f);
        Check(new ClampBackwardMap(-0.5f, 0.5f), (g, x) => x >= -0.5f && x <= 0.5f ? g : 0f);
        Check(default(EqualMaskMap), (x, y) => x == y ? 1f : 0f);
        Check(new LeakyReluBackwardMap(0.2f), (g, x) => x > 0 ? g : g * 0.2f);
        Check(new PowBackwardMap(3f), (g, x) => g * 3f * MathF.Pow(x, 2f));
        Check(new PowBackwardMap(0f), (g, x) => 0f);
        Check(default(GeluTanhBackwardMap), (g, x) => default(GeluTanhBackwardMap).Invoke(g, x));
    }

    [TestMethod]
    public void UnaryMapsAgreeWithTheirScalarFormAtEveryLength()
    {
        Check(new LeakyReluMap(0.01f), x => x > 0 ? x : x * 0.01f);
        Check(new EluMap(1f), x => x > 0 ? x : MathF.Exp(x) - 1f);
        Check(new SoftplusMap(1f, 20f), x => x > 20f ? x : MathF.Log(1f + MathF.Exp(x)));
        Check(default(GeluTanhMap), x => default(GeluTanhMap).Invoke(x));
    }

    [TestMethod]
    public void GeluTanhExponentialIsWithinTwoUlps()
    {
        // every 1/1024 over [-20, 20], the arguments GELU's tanh gives it, against the double-precision exp
        for (int i = 0; i <= 40 * 1024; i++)
        {
            float x = -20f + i / 1024f;
            float actual = SimdScalar.Sum(GeluTanh.Exp(SimdScalar.Create(x)));
            double exact = Math.Exp(x);
            double ulp = MathF.BitIncrement((float)exact) - (float)exact;
            Assert.IsTrue(Math.Abs(actual - exact) <= 2 * ulp, $"exp({x:R}) = {actual:R}, expected {exact:R}");
        }
    }

    public static IEnumerable<object[]> AllWidths => Widths.All;

    [TestMethod]
    [DynamicData(nameof(AllWidths))]
    public void MapsWithAnIsimdFormGiveTheScalarBitsAtEveryWidthAndLength(int bits) => Widths.Run(bits, new SimdFormAgreesWithScalar());

    private sealed unsafe class SimdFormAgreesWithScalar : IWidthCase
    {
        public void Run<TVec>() where TVec : unmanaged, ISimd<TVec>
        {
            for (int n = 0; n <= 100; n++)
            {
                var x = Values(n, n);
                var y = Values(n, n + 1000);
                var d = new float[n];
                fixed (float* px = x, py = y, pd = d)
                {
                    Map.SerialSimd<GeluTanhMap, TVec>(default, px, pd, n);
                    AssertBits(n, d, i => default(GeluTanhMap).Invoke(x[i]), $"GeluTanhMap at {TVec.Count * 32} bits");
                    Map.SerialSimd<GeluTanhBackwardMap, TVec>(default, py, px, pd, n);
                    AssertBits(n, d, i => default(GeluTanhBackwardMap).Invoke(y[i], x[i]), $"GeluTanhBackwardMap at {TVec.Count * 32} bits");
                }
            }
        }

        private static void AssertBits(int n, float[] actual, Func<int, float> expected, string what)
        {
            for (int i = 0; i < n; i++)
            {
                Assert.IsTrue(SameFloat(expected(i), actual[i]), $"{what}: length {n}, element {i}: got {actual[i]:R}, expected {expected(i):R}.");
            }
        }
    }

    [TestMethod]
    public void SpanOperatorsMatchScalarArithmeticInAllThreeForms()
    {
        CheckOperator(default(AddOperator), (x, y) => x + y);
        CheckOperator(default(SubtractOperator), (x, y) => x - y);
        CheckOperator(default(MultiplyOperator), (x, y) => x * y);
        CheckOperator(default(DivideOperator), (x, y) => x / y);
        CheckOperator(new MapOperator<EqualMaskMap>(default), (x, y) => x == y ? 1f : 0f);
    }

    [TestMethod]
    public void MismatchedLengthsAreRejected()
    {
        Assert.ThrowsExactly<ArgumentException>(() => Map.Apply(default(EqualMaskMap), new float[3], new float[4], new float[4]));
        Assert.ThrowsExactly<ArgumentException>(() => Map.Apply(new LeakyReluMap(0.1f), new float[5], new float[4]));
    }

    [TestMethod]
    public void ErfMatchesKnownValues()
    {
        // Values from tables of erf (Abramowitz and Stegun 7.1), to double precision.
        (double X, double Erf)[] table = [(0, 0), (0.1, 0.1124629160182849), (0.5, 0.5204998778130465), (1, 0.8427007929497149),
            (2, 0.9953222650189527), (2.5, 0.9995930479825550), (3, 0.9999779095030014), (4, 0.9999999845827421)];
        foreach (var (x, erf) in table)
        {
            Assert.AreEqual(erf, Erf.Evaluate(x), 1e-14, $"erf({x})");
            Assert.AreEqual(-erf, Erf.Evaluate(-x), 1e-14, $"erf({-x})");
        }
        Assert.AreEqual(1.0, Erf.Evaluate(double.PositiveInfinity));
        Assert.IsTrue(double.IsNaN(Erf.Evaluate(double.NaN)));
    }

    private static void Check<T>(T map, Func<float, float, float> scalar) where T : struct, IBinaryMap
    {
        for (int n = 0; n <= 256; n++)
        {
            var x = Values(n, n);
            var y = Values(n, n + 1000);
            var d = new float[n];
            Map.Apply(map, x, y, d);
            AssertAll(n, d, i => scalar(x[i], y[i]), typeof(T).Name);
            float s = n > 0 ? y[n / 2] : 1.5f;
            Map.Apply(map, x, s, d);
            AssertAll(n, d, i => scalar(x[i], s), typeof(T).Name + " (vector, scalar)");
            Map.Apply(map, s, y, d);
            AssertAll(n, d, i => scalar(s, y[i]), typeof(T).Name + " (scalar, vector)");
        }
    }

    private static void Check<T>(T map, Func<float, float> scalar) where T : struct, IUnaryMap
    {
        for (int n = 0; n <= 256; n++)
        {
            var x = Values(n, n);
            var d = new float[n];
            Map.Apply(map, x, d);
            AssertAll(n, d, i => scalar(x[i]), typeof(T).Name);
        }
    }

    private static void CheckOperator<T>(T op, Func<float, float, float> scalar) where T : struct, IBinarySpanOperator
    {
        for (int n = 0; n <= 256; n++)
        {
            var x = Values(n, 2 * n);
            var y = Values(n, 2 * n + 1);
            var d = new float[n];
            op.Invoke(x, y, d);
            AssertAll(n, d, i => scalar(x[i], y[i]), typeof(T).Name);
            float s = n > 0 ? x[n - 1] : -2f;
            op.Invoke(x, s, d);
            AssertAll(n, d, i => scalar(x[i], s), typeof(T).Name + " (vector, scalar)");
            op.Invoke(s, y, d);
            AssertAll(n, d, i => scalar(s, y[i]), typeof(T).Name + " (scalar, vector)");
        }
    }

    private static void AssertAll(int n, float[] actual, Func<int, float> expected, string what)
    {
        for (int i = 0; i < n; i++)
        {
            float e = expected(i);
            if (!SameFloat(e, actual[i]) && !(MathF.Abs(e - actual[i]) <= 1e-6f * MathF.Abs(e)))
            {
                Assert.Fail($"{what}: length {n}, element {i}: got {actual[i]:R}, expected {e:R}.");
            }
        }
    }
}
