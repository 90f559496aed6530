using AutoGrad.Kernels;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Kernels;

/// <summary>
/// The fused attention kernel against a double-precision reference (weights and output) and against the composite of
/// graph ops (all three gradients), at key lengths and head sizes that cross every vector width, causal or not; and
/// the same bits with one and two threads above its parallel threshold.
/// </summary>
[TestClass]
public sealed class AttentionKernelTests
{
    public static IEnumerable<object[]> Shapes =>
    [
        [1, 1, 1, 1, 1, false],
        [3, 5, 7, 4, 3, true],
        [2, 17, 17, 16, 8, true],
        [2, 9, 33, 32, 32, false],
        [1, 64, 64, 32, 32, true],
        [2, 40, 20, 5, 17, true], // more queries than keys: the last rows keep every key
    ];

    [TestMethod]
    [DynamicData(nameof(Shapes))]
    public void ForwardMatchesTheReference(int groups, int l, int s, int e, int ev, bool causal)
    {
        var q = KernelTestData.Values(groups * l * e, 1, specials: false);
        var k = KernelTestData.Values(groups * s * e, 2, specials: false);
        var v = KernelTestData.Values(groups * s * ev, 3, specials: false);
        var weights = new float[groups * l * s];
        var output = new float[groups * l * ev];
        Attention.Forward(q, k, v, groups, l, s, e, ev, causal, weights, output);
        var expectedWeights = new float[weights.Length];
        var expectedOutput = new float[output.Length];
        Attention.Reference(q, k, v, groups, l, s, e, ev, causal, expectedWeights, expectedOutput);
        AssertClose(expectedWeights, weights, "weights");
        AssertClose(expectedOutput, output, "output");
    }

    [TestMethod]
    [DynamicData(nameof(Shapes))]
    public void BackwardMatchesTheComposite(int groups, int l, int s, int e, int ev, bool causal)
    {
        var q = new Variable(Tensor.FromArray(KernelTestData.Values(groups * l * e, 4, specials: false), groups, l, e), requiresGrad: true);
        var k = new Variable(Tensor.FromArray(KernelTestData.Values(groups * s * e, 5, specials: false), groups, s, e), requiresGrad: true);
        var v = new Variable(Tensor.FromArray(KernelTestData.Values(groups * s * ev, 6, specials: false), groups, s, ev), requiresGrad: true);
        var seed = Tensor.FromArray(KernelTestData.Values(groups * l * ev, 7, specials: false), groups, l, ev);
        var composite = F.MatMul(F.AttentionWeights(q, k, causal), v);
        var (cq, ck, cv) = Gradients(composite, seed, q, k, v);
        var fused = F.ScaledDotProductAttention(q, k, v, isCausal: causal);
        Assert.AreEqual("ScaledDotProductAttention", fused.GradFn!.Name);
        AssertClose(composite.Value.ToArray(), fused.Value.ToArray(), "output");
        var (fq, fk, fv) = Gradients(fused, seed, q, k, v);
        AssertClose(cq, fq, "dq");
        AssertClose(ck, fk, "dk");
        AssertClose(cv, fv, "dv");
    }

    [TestMethod]
    public void AMaskDropoutOrBroadcastBatchTakeTheComposite()
    {
        var g = new Generator(8);
        var q = new Variable(Tensor.Randn(g, 2, 3, 4), requiresGrad: true);
        var k = new Variable(Tensor.Randn(g, 2, 3, 4), requiresGrad: true);
        Assert.AreNotEqual("ScaledDotProductAttention", F.ScaledDotProductAttention(q, k, k, Tensor.Zeros(3, 3)).GradFn!.Name);
        Assert.AreNotEqual("ScaledDotProductAttention", F.ScaledDotProductAttention(q, new Variable(Tensor.Randn(g, 1, 3, 4)), k).GradFn!.Name);
    }

    [TestMethod]
    [TestCategory("Determinism")]
    [DoNotParallelize]
    public void OneAndTwoThreadsGiveTheSameBits()
    {
        const int groups = 16, l = 64, s = 64, e = 32;
        var q = KernelTestData.Values(groups * l * e, 9, specials: false);
        var k = KernelTestData.Values(groups * s * e, 10, specials: false);
        var v = KernelTestData.Values(groups * s * e, 11, specials: false);
        var grad = KernelTestData.Values(groups * l * e, 12, specials: false);
        float[][] Run(int threads)
        {
            int saved = Parallelism.MaxThreads;
            Parallelism.MaxThreads = threads;
            try
            {
                var w = new float[groups * l * s];
                var o = new float[groups * l * e];
                var (dq, dk, dv) = (new float[q.Length], new float[k.Length], new float[v.Length]);
                Attention.Forward(q, k, v, groups, l, s, e, e, true, w, o);
                Attention.Backward(q, k, v, w, grad, groups, l, s, e, e, dq, dk, dv);
                return [w, o, dq, dk, dv];
            }
            finally
            {
                Parallelism.MaxThreads = saved;
            }
        }
        var one = Run(1);
        var two = Run(2);
        for (int i = 0; i < one.Length; i++)
        {
            CollectionAssert.AreEqual(one[i], two[i], $"result {i}");
        }
    }

    private static (float[] Q, float[] K, float[] V) Gradients(Variable output, Tensor seed, Variable q, Variable k, Variable v)
    {
        q.Grad = k.Grad = v.Grad = null;
        output.Backward(seed);
        return (q.Grad!.ToArray(), k.Grad!.ToArray(), v.Grad!.ToArray());
    }

    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.AreEqual(expected.Length, actual.Length, what);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.IsTrue(Math.Abs(expected[i] - actual[i]) <= 1e-5f + 1e-4f * Math.Abs(expected[i]), $"{what}[{i}]: expected {expected[i]}, got {actual[i]}");
        }
    }
}
