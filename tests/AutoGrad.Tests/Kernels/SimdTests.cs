using AutoGrad.Kernels;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Kernels;

/// <summary>The width vocabulary itself, at every width: partial loads and stores, masks, sums, maxima, transposes.</summary>
[TestClass]
public sealed unsafe class SimdTests
{
    [TestMethod]
    [DynamicData(nameof(Widths.All), typeof(Widths))]
    public void PartialLoadsAndStoresTouchOnlyTheirLanes(int bits) => Widths.Run(bits, new PartialAccess());

    private sealed class PartialAccess : IWidthCase
    {
        public void Run<TVec>() where TVec : unmanaged, ISimd<TVec>
        {
            int w = TVec.Count;
            var source = Enumerable.Range(1, 3 * w).Select(i => (float)i).ToArray();
            for (int count = 0; count <= w; count++)
            {
                var target = Enumerable.Repeat(-7f, 3 * w).ToArray();
                var lanes = new float[w];
                fixed (float* ps = source, pt = target, pl = lanes)
                {
                    var v = TVec.LoadFirst(ps + w, count);
                    TVec.Store(v, pl);
                    TVec.StoreFirst(TVec.Load(ps + w), pt + w, count);
                    TVec.Store(TVec.Load(ps) & TVec.FirstLanes(count), pt); // a masked copy into the first w
                }
                for (int i = 0; i < w; i++)
                {
                    Assert.AreEqual(i < count ? source[w + i] : 0f, lanes[i], $"LoadFirst({count}) lane {i} at {w * 32} bits");
                    Assert.AreEqual(i < count ? source[i] : 0f, target[i], $"Load & FirstLanes({count}) lane {i}");
                    Assert.AreEqual(i < count ? source[w + i] : -7f, target[w + i], $"StoreFirst({count}) lane {i}");
                    Assert.AreEqual(-7f, target[2 * w + i], "nothing written past the vector");
                }
            }
        }
    }

    [TestMethod]
    [DynamicData(nameof(Widths.All), typeof(Widths))]
    public void ArithmeticMatchesScalarMath(int bits) => Widths.Run(bits, new Arithmetic());

    private sealed class Arithmetic : IWidthCase
    {
        public void Run<TVec>() where TVec : unmanaged, ISimd<TVec>
        {
            int w = TVec.Count;
            var x = KernelTestData.Values(w, 1);
            var y = KernelTestData.Values(w, 2);
            var z = KernelTestData.Values(w, 3);
            var result = new float[4 * w];
            fixed (float* px = x, py = y, pz = z, pr = result)
            {
                TVec.Store(TVec.FusedMultiplyAdd(TVec.Load(px), TVec.Load(py), TVec.Load(pz)), pr);
                TVec.Store(TVec.Load(px) + TVec.Load(py), pr + w);
                TVec.Store(TVec.Load(px) * TVec.Create(3f), pr + 2 * w);
                TVec.Store(TVec.Max(TVec.Load(px), TVec.Zero), pr + 3 * w);
                float sum = TVec.Sum(TVec.Load(py));
                Assert.AreEqual(y.Sum(), sum, 1e-3f * (1 + y.Sum(Math.Abs)), "Sum");
            }
            for (int i = 0; i < w; i++)
            {
                Assert.IsTrue(KernelTestData.SameFloat(MathF.FusedMultiplyAdd(x[i], y[i], z[i]), result[i]), $"FusedMultiplyAdd lane {i}");
                Assert.IsTrue(KernelTestData.SameFloat(x[i] + y[i], result[w + i]), $"+ lane {i}");
                Assert.IsTrue(KernelTestData.SameFloat(x[i] * 3f, result[2 * w + i]), $"* lane {i}");
                Assert.IsTrue(KernelTestData.SameFloat(MathF.Max(x[i], 0f), result[3 * w + i]), $"Max lane {i}: max({x[i]}, 0)");
            }
        }
    }

    [TestMethod]
    [DynamicData(nameof(Widths.All), typeof(Widths))]
    public void TransposeSwapsRowsAndColumnsBetweenStridedBlocks(int bits) => Widths.Run(bits, new TransposeCase());

    private sealed class TransposeCase : IWidthCase
    {
        public void Run<TVec>() where TVec : unmanaged, ISimd<TVec>
        {
            int w = TVec.Count, sourceStride = w + 3, targetStride = w + 5;
            var source = Enumerable.Range(0, w * sourceStride).Select(i => (float)i).ToArray();
            var target = new float[w * targetStride];
            fixed (float* ps = source, pt = target)
            {
                TVec.Transpose(ps, sourceStride, pt, targetStride);
            }
            for (int i = 0; i < w; i++)
            {
                for (int j = 0; j < targetStride; j++)
                {
                    float expected = j < w ? source[j * sourceStride + i] : 0f;
                    Assert.AreEqual(expected, target[i * targetStride + j], $"row {i}, column {j} at {w * 32} bits");
                }
            }
        }
    }
}
