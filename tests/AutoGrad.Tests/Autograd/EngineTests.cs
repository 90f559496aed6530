using Microsoft.VisualStudio.TestTools.UnitTesting;
using static AutoGrad.Tests.TestUtil;

namespace AutoGrad.Tests.Autograd;

[TestClass]
public sealed class EngineTests
{
    [TestMethod]
    public void ChainOfOneHundredThousandOpsBackpropagatesWithoutRecursion()
    {
        var x = V([0.5f], 1);
        var y = x;
        for (int i = 0; i < 100_000; i++)
        {
            y = i % 2 == 0 ? y + 1e-3f : y * 1f;
        }
        y.Sum().Backward();
        Assert.AreEqual(1f, x.Grad![0]);
        Assert.AreEqual(0.5f + 50_000 * 1e-3f, y.Item(), 0.05f);
    }

    [TestMethod]
    public void GradientsAccumulateAcrossBackwardCallsUntilZeroed()
    {
        var x = V([1f, 2f], 2);
        (x * 3f).Sum().Backward();
        (x * 3f).Sum().Backward();
        AssertClose(T([6f, 6f], 2), x.Grad!);
        x.ZeroGrad();
        AssertClose(T([0f, 0f], 2), x.Grad!);
        (x * x).Sum().Backward();
        AssertClose(T([2f, 4f], 2), x.Grad!);
    }

    [TestMethod]
    public void RetainGraphAllowsASecondBackwardAndReleaseForbidsIt()
    {
        var x = V([2f], 1);
        var y = (x * x * x).Sum();
        y.Backward(retainGraph: true);
        AssertClose(T([12f], 1), x.Grad!);
        y.Backward();
        AssertClose(T([24f], 1), x.Grad!);
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => y.Backward());
        StringAssert.Contains(error.Message, "retainGraph");
    }

    [TestMethod]
    public void DiamondGraphSumsBothPaths()
    {
        // y = (2x) * (x + 3)  =>  dy/dx = 2(x + 3) + 2x = 4x + 6
        var x = V([1f, -2f, 0.5f], 3);
        var a = x * 2f;
        var b = x + 3f;
        (a * b).Sum().Backward();
        AssertClose(T([10f, -2f, 8f], 3), x.Grad!);
    }

    [TestMethod]
    public void InputUsedTwiceGetsBothContributions()
    {
        var x = V([3f], 1);
        var y = x * x + x;
        y.Sum().Backward();
        AssertClose(T([7f], 1), x.Grad!);
    }

    [TestMethod]
    public void NoGradRecordsNothingAndRestoresOnDispose()
    {
        var x = V([1f, 2f], 2);
        Variable y;
        using (GradMode.NoGrad())
        {
            Assert.IsFalse(GradMode.IsEnabled);
            using (GradMode.NoGrad())
            {
                y = x * 2f;
            }
            Assert.IsFalse(GradMode.IsEnabled, "an inner scope restores the outer NoGrad, not grad mode on");
            using (GradMode.EnableGrad())
            {
                Assert.IsTrue((x * 2f).RequiresGrad);
            }
        }
        Assert.IsTrue(GradMode.IsEnabled);
        Assert.IsFalse(y.RequiresGrad);
        Assert.IsTrue(y.IsLeaf);
        Assert.IsNull(y.GradFnName);
        Assert.ThrowsExactly<InvalidOperationException>(() => y.Sum().Backward());
    }

    [TestMethod]
    public void GradModeIsPerThread()
    {
        var x = V([1f], 1);
        using (GradMode.NoGrad())
        {
            bool otherThreadRecords = false;
            var thread = new Thread(() => otherThreadRecords = (x * 2f).RequiresGrad);
            thread.Start();
            thread.Join();
            Assert.IsTrue(otherThreadRecords);
            Assert.IsFalse((x * 2f).RequiresGrad);
        }
    }

    [TestMethod]
    public void DetachCutsTheGraphAndSharesData()
    {
        var x = V([1f, 2f], 2);
        var d = (x * 2f).Detach();
        Assert.IsTrue(d.IsLeaf);
        Assert.IsFalse(d.RequiresGrad);
        var y = (x * d).Sum();
        y.Backward();
        AssertClose(T([2f, 4f], 2), x.Grad!); // d is a constant: dy/dx = d
        var shared = x.Detach();
        shared.Value[0] = 42f;
        Assert.AreEqual(42f, x.Value[0]);
    }

    [TestMethod]
    public void InteriorGradientsAreKeptOnlyWhenRetained()
    {
        var x = V([1f, 2f], 2);
        var h = x * 3f;
        var k = x * 4f;
        k.RetainGrad();
        (h + k * k).Sum().Backward();
        Assert.IsNull(h.Grad);
        AssertClose(T([8f, 16f], 2), k.Grad!);
        Assert.IsFalse(h.IsLeaf);
        Assert.IsTrue(x.IsLeaf);
    }

    [TestMethod]
    public void NoGradientForInputsThatDoNotNeedOne()
    {
        var x = V([1f, 2f], 2);
        var c = new Variable(T([5f, 7f], 2));
        (x * c).Sum().Backward();
        Assert.IsNull(c.Grad);
        AssertClose(T([5f, 7f], 2), x.Grad!);
    }

    [TestMethod]
    public void BroadcastGradientsAreSummedBackToTheInputShape()
    {
        var a = V([1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
        var b = V([10f, 20f, 30f], 3);
        var s = V([2f]);
        ((a + b) * s).Sum().Backward();
        AssertClose(T([2f, 2f, 2f, 2f, 2f, 2f], 2, 3), a.Grad!);
        AssertClose(T([4f, 4f, 4f], 3), b.Grad!);
        AssertClose(T([141f], 1), s.Grad!); // sum(a + b) = 21 + 2 * 60
    }

    [TestMethod]
    public void ExplicitOutputGradientWeightsEachElement()
    {
        var x = V([1f, 2f, 3f], 3);
        var y = x * x;
        y.Backward(T([1f, 0f, -1f], 3));
        AssertClose(T([2f, 0f, -6f], 3), x.Grad!);
    }

    [TestMethod]
    public void BackwardOnALeafSeedsItsOwnGradient()
    {
        var x = V([4f]);
        x.Backward();
        AssertClose(T([1f], 1), x.Grad!);
    }

    [TestMethod]
    public void ReleasedGraphFreesInputsForCollection()
    {
        var weak = MakeGraphAndBackward();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.IsFalse(weak.TryGetTarget(out _), "an interior variable was kept alive by the released graph");
    }

    private static WeakReference<Variable> MakeGraphAndBackward()
    {
        var x = V([1f, 2f], 2);
        var interior = x * 2f;
        var y = (interior * interior).Sum();
        y.Backward();
        return new WeakReference<Variable>(interior);
    }
}
