using AutoGrad.Kernels;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Kernels;

[TestClass]
public sealed class LayoutKernelTests
{
    [TestMethod]
    public void PermuteMatchesTheIndexedReferenceForEveryPermutation()
    {
        foreach (var shape in new[] { new[] { 2, 3, 4 }, new[] { 3, 1, 5 }, new[] { 2, 3, 1, 4 }, new[] { 5, 1, 1, 7 } })
        {
            var x = KernelTestData.Values(Shapes.Numel(shape), 4);
            foreach (var permutation in Permutations(Enumerable.Range(0, shape.Length).ToArray()))
            {
                var actual = new float[x.Length];
                Layout.Permute(x, shape, permutation, actual);
                var outShape = permutation.Select(p => shape[p]).ToArray();
                var strides = Shapes.ContiguousStrides(shape);
                var index = new int[shape.Length];
                for (int flat = 0; flat < x.Length; flat++)
                {
                    int rest = flat, source = 0;
                    for (int d = outShape.Length - 1; d >= 0; d--)
                    {
                        index[d] = rest % outShape[d];
                        rest /= outShape[d];
                    }
                    for (int d = 0; d < outShape.Length; d++)
                    {
                        source += index[d] * strides[permutation[d]];
                    }
                    Assert.IsTrue(KernelTestData.SameFloat(x[source], actual[flat]), $"shape [{string.Join(",", shape)}] perm [{string.Join(",", permutation)}] element {flat}");
                }
            }
        }
    }

    [TestMethod]
    public void GatherAndScatterAddAreAdjoint()
    {
        // x viewed as [outer 2, size 4, inner 3]
        var x = Enumerable.Range(0, 24).Select(i => (float)i).ToArray();
        int[] indices = [3, 0, 3, 1];
        var gathered = new float[2 * 4 * 3];
        Layout.Gather(x, 2, 4, 3, indices, gathered);
        for (int o = 0; o < 2; o++)
        {
            for (int j = 0; j < 4; j++)
            {
                for (int k = 0; k < 3; k++)
                {
                    Assert.AreEqual(x[(o * 4 + indices[j]) * 3 + k], gathered[(o * 4 + j) * 3 + k]);
                }
            }
        }
        var back = new float[24];
        Layout.ScatterAdd(Enumerable.Repeat(1f, 24).ToArray(), 2, 4, 3, indices, back);
        // index 3 appears twice, 0 and 1 once, 2 never
        CollectionAssert.AreEqual(new float[] { 1, 1, 1, 1, 1, 1, 0, 0, 0, 2, 2, 2 }, back[..12]);
    }

    private static IEnumerable<int[]> Permutations(int[] items)
    {
        if (items.Length <= 1)
        {
            yield return items;
            yield break;
        }
        for (int i = 0; i < items.Length; i++)
        {
            var rest = items.Where((_, j) => j != i).ToArray();
            foreach (var tail in Permutations(rest))
            {
                yield return [items[i], .. tail];
            }
        }
    }
}
