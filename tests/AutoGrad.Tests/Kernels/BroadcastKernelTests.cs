using AutoGrad.Kernels;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using static AutoGrad.Tests.Kernels.KernelTestData;

namespace AutoGrad.Tests.Kernels;

/// <summary>Broadcasting against a reference that computes each output element from its multi-index.</summary>
[TestClass]
public sealed class BroadcastKernelTests
{
    public static IEnumerable<object[]> ShapePairs =>
    [
        [new[] { 2, 3 }, new[] { 2, 3 }],
        [Array.Empty<int>(), new[] { 2, 3 }],
        [new[] { 4, 5 }, Array.Empty<int>()],
        [new[] { 2, 3 }, new[] { 3 }],
        [new[] { 4, 1 }, new[] { 1, 5 }],
        [new[] { 2, 1, 3 }, new[] { 4, 1 }],
        [new[] { 1, 3, 1 }, new[] { 2, 1, 4 }],
        [new[] { 2, 1, 3, 1, 5 }, new[] { 1, 4, 1, 6, 1 }],
        [new[] { 3, 1, 2, 1, 2, 2 }, new[] { 1, 2, 1, 3, 1, 2 }],
        [new[] { 2, 0, 3 }, new[] { 3 }],
        [Array.Empty<int>(), Array.Empty<int>()],
        [new[] { 1, 1, 1 }, new[] { 1 }],
        [new[] { 37, 1 }, new[] { 1, 41 }],
        [new[] { 5, 40 }, new[] { 5, 1 }],
        [new[] { 1, 300 }, new[] { 3, 300 }],
    ];

    [TestMethod]
    [DynamicData(nameof(ShapePairs))]
    public void EveryElementEqualsTheIndexedReference(int[] xShape, int[] yShape)
    {
        var outShape = Shapes.Broadcast(xShape, yShape, "test");
        var x = Values(Shapes.Numel(xShape), 1);
        var y = Values(Shapes.Numel(yShape), 2);
        var expected = Reference(x, xShape, y, yShape, outShape, (a, b) => a - b);
        var actual = new float[expected.Length];
        Broadcast.Apply(default(SubtractOperator), x, xShape, y, yShape, actual, outShape);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.IsTrue(SameFloat(expected[i], actual[i]), $"element {i}: {actual[i]} vs {expected[i]}");
        }

        var expand = new float[expected.Length];
        Broadcast.Apply(default(ExpandOperator), x, xShape, x, xShape, expand, outShape);
        var expectedExpand = Reference(x, xShape, x, xShape, outShape, (a, _) => a);
        for (int i = 0; i < expand.Length; i++)
        {
            Assert.IsTrue(SameFloat(expectedExpand[i], expand[i]), $"expand element {i}");
        }
    }

    private static float[] Reference(float[] x, int[] xShape, float[] y, int[] yShape, int[] outShape, Func<float, float, float> op)
    {
        int n = Shapes.Numel(outShape);
        var result = new float[n];
        var index = new int[outShape.Length];
        for (int flat = 0; flat < n; flat++)
        {
            int rest = flat;
            for (int d = outShape.Length - 1; d >= 0; d--)
            {
                index[d] = rest % outShape[d];
                rest /= outShape[d];
            }
            result[flat] = op(x[Offset(index, xShape)], y[Offset(index, yShape)]);
        }
        return result;
    }

    private static int Offset(int[] outIndex, int[] shape)
    {
        int offset = 0;
        int lead = outIndex.Length - shape.Length;
        for (int d = 0; d < shape.Length; d++)
        {
            offset = offset * shape[d] + (shape[d] == 1 ? 0 : outIndex[lead + d]);
        }
        return offset;
    }
}
