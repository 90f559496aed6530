using AutoGrad.Kernels;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Kernels;

/// <summary>Reductions over every subset of dims against a double-precision reference.</summary>
[TestClass]
public sealed class ReduceKernelTests
{
    public static IEnumerable<object[]> Shapes =>
    [
        [new[] { 7 }],
        [new[] { 3, 70 }],
        [new[] { 2, 3, 4 }],
        [new[] { 3, 1, 5, 2 }],
        [new[] { 2, 5, 3, 17 }],
        [new[] { 4, 0, 3 }],
    ];

    [TestMethod]
    [DynamicData(nameof(Shapes))]
    public void EverySubsetOfDimsMatchesTheReference(int[] shape)
    {
        int rank = shape.Length;
        var x = KernelTestData.Values(AutoGrad.Shapes.Numel(shape), 3, specials: false);
        for (int mask = 0; mask < 1 << rank; mask++)
        {
            var dims = Enumerable.Range(0, rank).Where(d => (mask >> d & 1) != 0).ToArray();
            var outShape = shape.Select((s, d) => dims.Contains(d) ? 1 : s).ToArray();
            int n = AutoGrad.Shapes.Numel(outShape);
            var sum = new float[n];
            Reduce.Apply(default(SumReduce), x, shape, dims, sum);
            var expected = ReferenceSum(x, shape, dims, outShape);
            for (int i = 0; i < n; i++)
            {
                Assert.AreEqual(expected[i], sum[i], 1e-5 * (1 + Math.Abs(expected[i])), $"sum over [{string.Join(",", dims)}] element {i}");
            }
            bool empty = dims.Any(d => shape[d] == 0);
            if (!empty && n > 0)
            {
                var max = new float[n];
                Reduce.Apply(default(MaxReduce), x, shape, dims, max);
                var min = new float[n];
                Reduce.Apply(default(MinReduce), x, shape, dims, min);
                var (expectedMax, expectedMin) = ReferenceExtrema(x, shape, dims, outShape);
                CollectionAssert.AreEqual(expectedMax, max, $"max over [{string.Join(",", dims)}]");
                CollectionAssert.AreEqual(expectedMin, min, $"min over [{string.Join(",", dims)}]");
            }
        }
    }

    [TestMethod]
    public void MaxAndMinPropagateNaN()
    {
        float[] x = [1f, float.NaN, 3f, 4f, 5f, 6f];
        var max = new float[2];
        Reduce.Apply(default(MaxReduce), x, [2, 3], [1], max);
        Assert.IsTrue(float.IsNaN(max[0]));
        Assert.AreEqual(6f, max[1]);
        var min = new float[3];
        Reduce.Apply(default(MinReduce), x, [2, 3], [0], min);
        Assert.IsTrue(float.IsNaN(min[1]));
        Assert.AreEqual(1f, min[0]);
    }

    private static double[] ReferenceSum(float[] x, int[] shape, int[] dims, int[] outShape)
    {
        var result = new double[AutoGrad.Shapes.Numel(outShape)];
        ForEach(shape, (flat, outFlat) => result[outFlat] += x[flat], dims, outShape);
        return result;
    }

    private static (float[] Max, float[] Min) ReferenceExtrema(float[] x, int[] shape, int[] dims, int[] outShape)
    {
        int n = AutoGrad.Shapes.Numel(outShape);
        var max = Enumerable.Repeat(float.NegativeInfinity, n).ToArray();
        var min = Enumerable.Repeat(float.PositiveInfinity, n).ToArray();
        ForEach(shape, (flat, outFlat) =>
        {
            max[outFlat] = Math.Max(max[outFlat], x[flat]);
            min[outFlat] = Math.Min(min[outFlat], x[flat]);
        }, dims, outShape);
        return (max, min);
    }

    private static void ForEach(int[] shape, Action<int, int> visit, int[] dims, int[] outShape)
    {
        int total = AutoGrad.Shapes.Numel(shape);
        var index = new int[shape.Length];
        for (int flat = 0; flat < total; flat++)
        {
            int rest = flat;
            for (int d = shape.Length - 1; d >= 0; d--)
            {
                index[d] = rest % shape[d];
                rest /= shape[d];
            }
            int outFlat = 0;
            for (int d = 0; d < shape.Length; d++)
            {
                outFlat = outFlat * outShape[d] + (dims.Contains(d) ? 0 : index[d]);
            }
            visit(flat, outFlat);
        }
    }
}
