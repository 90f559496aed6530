using AutoGrad.Nn;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Autograd;

/// <summary>Anomaly detection, caller lines in errors, gradient hooks, module hooks and DOT export.</summary>
[TestClass]
public sealed class DiagnosticsTests
{
    [TestMethod]
    public void ShapeErrorsNameTheCallersLine()
    {
        var a = new Variable(Tensor.Zeros(2, 3));
        var b = new Variable(Tensor.Zeros(4));
        var e = Assert.ThrowsExactly<ArgumentException>(() => _ = a + b);
        StringAssert.Contains(e.Message, "[2, 3]");
        StringAssert.Contains(e.Message, "(called at DiagnosticsTests.cs:line ");
        var m = Assert.ThrowsExactly<ArgumentException>(() => F.MatMul(a, a));
        StringAssert.Contains(m.Message, "DiagnosticsTests.cs:line");
    }

    [TestMethod]
    public void AnomalyModeNamesTheForwardOpAndLine()
    {
        var x = new Variable(Tensor.FromArray([1f, -1f]), requiresGrad: true);
        Assert.IsTrue(float.IsNaN(F.Log(F.Neg(F.Exp(x))).Value[0]), "without anomaly mode NaN flows through");
        using (AnomalyMode.Detect())
        {
            Assert.IsTrue(AnomalyMode.IsEnabled);
            var e = Assert.ThrowsExactly<AnomalyException>(() => F.Log(x));
            Assert.AreEqual("Log", e.Op);
            Assert.AreEqual("forward", e.Phase);
            StringAssert.Contains(e.Message, "[2]");
            StringAssert.StartsWith(e.CallSite, "DiagnosticsTests.cs:line ");
        }
        Assert.IsFalse(AnomalyMode.IsEnabled);
    }

    [TestMethod]
    public void AnomalyModeCatchesTheFirstNonFiniteGradient()
    {
        // sqrt(0) is finite, but its gradient 1 / (2 sqrt(0)) is infinite.
        var x = new Variable(Tensor.FromArray([0f, 4f]), requiresGrad: true);
        using (AnomalyMode.Detect())
        {
            var y = F.Sum(F.Sqrt(x));
            var e = Assert.ThrowsExactly<AnomalyException>(() => y.Backward());
            Assert.AreEqual("Sqrt", e.Op);
            Assert.AreEqual("backward", e.Phase);
            StringAssert.Contains(e.CallSite!, "DiagnosticsTests.cs");
        }
    }

    [TestMethod]
    public void VariableHooksSeeAndReplaceGradients()
    {
        var x = new Variable(Tensor.FromArray([1f, 2f]), requiresGrad: true);
        var h = x * 3f;
        var seen = new List<float[]>();
        using var leafHook = x.RegisterHook(g => { seen.Add(g.ToArray()); return null; });
        var interiorHook = h.RegisterHook(g => Tensor.FromArray(g.ToArray().Select(v => v * 10f).ToArray(), 2));
        F.Sum(h * h).Backward();
        // dL/dh = 2h = [6, 12], scaled by 10 by the hook, times 3 for x.
        CollectionAssert.AreEqual(new[] { 180f, 360f }, seen.Single());
        CollectionAssert.AreEqual(new[] { 180f, 360f }, x.Grad!.ToArray());

        x.ZeroGrad();
        interiorHook.Dispose();
        leafHook.Remove();
        var h2 = x * 3f;
        F.Sum(h2 * h2).Backward();
        CollectionAssert.AreEqual(new[] { 18f, 36f }, x.Grad!.ToArray());
        Assert.AreEqual(1, seen.Count, "removed hooks stay silent");

        var bad = x.RegisterHook(_ => Tensor.Zeros(3));
        Assert.ThrowsExactly<InvalidOperationException>(() => F.Sum(x * 1f).Backward());
        bad.Dispose();
        Assert.ThrowsExactly<InvalidOperationException>(() => new Variable(Tensor.Zeros(1)).RegisterHook(g => g));
    }

    [TestMethod]
    public void LeafHookRunsOnceOnTheSummedGradient()
    {
        var x = new Variable(Tensor.FromArray([1f]), requiresGrad: true);
        int calls = 0;
        x.RegisterHook(g => { calls++; Assert.AreEqual(5f, g[0]); return null; });
        (x * 2f + x * 3f).Sum().Backward();
        Assert.AreEqual(1, calls);
    }

    [TestMethod]
    public void ModuleHooks()
    {
        var linear = new Linear(3, 2, weightInit: Init.Ones(), biasInit: Init.Zeros());
        var calls = new List<string>();
        using var pre = linear.RegisterForwardPreHook((m, x) => { calls.Add("pre"); return x * 2f; });
        using var post = linear.RegisterForwardHook((m, x, y) => { calls.Add("post"); return y + 1f; });
        Tensor? gradIn = null, gradOut = null;
        using var back = linear.RegisterBackwardHook((m, gi, go) => { calls.Add("backward"); gradIn = gi?.Clone(); gradOut = go.Clone(); return null; });

        var input = new Variable(Tensor.FromArray([1f, 2f, 3f], 1, 3), requiresGrad: true);
        var output = linear.Call(input);
        CollectionAssert.AreEqual(new[] { 13f, 13f }, output.Value.ToArray(), "2 * (1 + 2 + 3) + 1");
        F.Sum(output * new Variable(Tensor.FromArray([1f, 2f], 1, 2))).Backward();
        CollectionAssert.AreEqual(new[] { "pre", "post", "backward" }, calls);
        CollectionAssert.AreEqual(new[] { 1f, 2f }, gradOut!.ToArray());
        CollectionAssert.AreEqual(new[] { 3f, 3f, 3f }, gradIn!.ToArray(), "gradient at the module's (pre-hooked) input");
        CollectionAssert.AreEqual(new[] { 6f, 6f, 6f }, input.Grad!.ToArray());

        pre.Dispose();
        post.Dispose();
        back.Dispose();
        calls.Clear();
        F.Sum(linear.Call(new Variable(Tensor.Ones(1, 3), requiresGrad: true))).Backward();
        Assert.AreEqual(0, calls.Count);
    }

    [TestMethod]
    public void BackwardHookCanReplaceTheInputGradient()
    {
        var relu = new ReLU();
        relu.RegisterBackwardHook((m, gi, go) => Tensor.Full([2], 7f));
        var x = new Variable(Tensor.FromArray([1f, -1f]), requiresGrad: true);
        F.Sum(relu.Call(x)).Backward();
        CollectionAssert.AreEqual(new[] { 7f, 7f }, x.Grad!.ToArray());
    }

    [TestMethod]
    public void ToDotDescribesOpsShapesAndGradients()
    {
        var w = new Variable(Tensor.Ones(3, 4), requiresGrad: true, name: "w");
        var x = new Variable(Tensor.Ones(4, 1, 5, 5), name: "x");
        var conv = F.Conv2d(x, new Variable(Tensor.Ones(2, 1, 3, 3), requiresGrad: true, name: "kernel"), stride: 2);
        var loss = F.Sum(F.MatMul(F.Flatten(conv, 2), F.Transpose(w, 0, 1)));
        loss.Backward(retainGraph: true);
        string dot = loss.ToDot();
        StringAssert.StartsWith(dot, "digraph autograd {");
        StringAssert.Contains(dot, "Conv2d\\nwindow=kernel 3x3, stride 2x2");
        StringAssert.Contains(dot, "w\\n[3, 4]\\n|grad| = ");
        StringAssert.Contains(dot, "x\\n[4, 1, 5, 5]");
        StringAssert.Contains(dot, "MatMul");
        Assert.IsTrue(dot.TrimEnd().EndsWith('}'));
        Assert.AreEqual(dot.Count(c => c == '{'), dot.Count(c => c == '}'));
    }
}
