using AutoGrad.Tests.Ops;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using static AutoGrad.Tests.TestUtil;
using Grads = AutoGrad.Autograd;

namespace AutoGrad.Tests.Autograd;

/// <summary>
/// Autograd.Grad and Backward(createGraph: true) against torch.autograd.grad's semantics (PyTorch 1.13): first-order
/// results for every op of the higher-order fixture, nothing accumulated, retainGraph defaulting to createGraph,
/// unused inputs, inputs that do not require grad, output gradients, intermediate variables, several outputs, a
/// gradient that is differentiated again, hooks. The expected numbers in comments are what torch printed.
/// </summary>
[TestClass]
public sealed class AutogradGradTests
{
    public static IEnumerable<object[]> FirstOrderCases
        => ParityFixture.Load("higher_order.json").Where(c => c.StringAttr("post") == "none").Select(c => new object[] { c.Name });

    [TestMethod]
    [TestCategory("Parity")]
    [DynamicData(nameof(FirstOrderCases))]
    public void FirstOrderGradientsMatchPyTorchAndAccumulateNothing(string name)
    {
        var c = ParityFixture.Load("higher_order.json").Single(x => x.Name == name);
        var inputs = c.Inputs.Select((t, i) => new Variable(t.Clone(), c.RequiresGrad[i])).ToArray();
        var output = HigherOrderParityTests.Apply(c, inputs);
        var wrt = inputs.Where(x => x.RequiresGrad).ToArray();
        var expected = c.Grads.Where(g => g is not null).ToArray();

        var grads = Grads.Grad([output], wrt, [new Variable(c.GradOutput)]);
        for (int i = 0; i < wrt.Length; i++)
        {
            AssertClose(expected[i]!, grads[i]!.Value, ParityRunner.Atol, ParityRunner.Rtol, $"{name} gradient of input {i}");
            Assert.IsFalse(grads[i]!.RequiresGrad, $"{name}: without createGraph a gradient is a plain value");
            Assert.IsNull(wrt[i].Grad, $"{name}: Autograd.Grad must not accumulate into .Grad");
        }
    }

    [TestMethod]
    public void GradLeavesExistingGradsUntouched()
    {
        var x = Leaf([1f, 2f, 3f]);
        x.Grad = Tensor.FromArray([5f, 5f, 5f]);
        var g = Grads.Grad(F.Sum(x * x * x), x);
        CollectionAssert.AreEqual(new[] { 3f, 12f, 27f }, g.Value.ToArray()); // torch: tensor([ 3., 12., 27.])
        CollectionAssert.AreEqual(new[] { 5f, 5f, 5f }, x.Grad!.ToArray());
    }

    [TestMethod]
    public void WithoutCreateGraphTheGraphIsReleasedAndASecondCallThrows()
    {
        var x = Leaf([1f, 2f, 3f]);
        var y = F.Sum(x * x * x);
        Grads.Grad(y, x);
        // torch: "Trying to backward through the graph a second time ..."
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => Grads.Grad(y, x));
        StringAssert.Contains(error.Message, "already released");
        StringAssert.Contains(error.Message, "retainGraph: true");
    }

    [TestMethod]
    public void RetainGraphDefaultsToCreateGraph()
    {
        var x = Leaf([1f, 2f, 3f]);
        var y = F.Sum(x * x * x);
        var first = Grads.Grad(y, x, createGraph: true);
        var second = Grads.Grad(y, x); // the graph was kept by createGraph; this call releases it
        CollectionAssert.AreEqual(first.Value.ToArray(), second.Value.ToArray());
        Assert.ThrowsExactly<InvalidOperationException>(() => Grads.Grad(y, x));

        var z = F.Sum(x * x);
        Grads.Grad(z, x, retainGraph: true);
        CollectionAssert.AreEqual(new[] { 2f, 4f, 6f }, Grads.Grad(z, x).Value.ToArray());
    }

    [TestMethod]
    public void AnUnusedInputIsNullWhenAllowedAndAClearErrorOtherwise()
    {
        var x = Leaf([1f, 2f]);
        var unused = new Variable(Tensor.FromArray([3f]), requiresGrad: true, name: "bias");
        var grads = Grads.Grad([F.Sum(x * x)], [x, unused], retainGraph: true, allowUnused: true);
        CollectionAssert.AreEqual(new[] { 2f, 4f }, grads[0]!.Value.ToArray());
        Assert.IsNull(grads[1]); // torch with allow_unused=True: (tensor([2., 4.]), None)

        var error = Assert.ThrowsExactly<InvalidOperationException>(() => Grads.Grad([F.Sum(x * x)], [x, unused]));
        StringAssert.Contains(error.Message, "input 1");
        StringAssert.Contains(error.Message, "'bias'");
        StringAssert.Contains(error.Message, "allowUnused: true");
    }

    [TestMethod]
    public void InputsAndOutputsThatDoNotRequireGradAreRefused()
    {
        var x = Leaf([1f, 2f]);
        var constant = new Variable(Tensor.FromArray([1f, 1f]));
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => Grads.Grad([F.Sum(x * constant)], [x, constant]));
        StringAssert.Contains(error.Message, "input 1");
        StringAssert.Contains(error.Message, "does not require grad");

        var detached = F.Sum(constant * constant);
        error = Assert.ThrowsExactly<InvalidOperationException>(() => Grads.Grad(detached, x));
        StringAssert.Contains(error.Message, "output 0");
        Assert.ThrowsExactly<ArgumentException>(() => Grads.Grad([F.Sum(x)], []));
    }

    [TestMethod]
    public void ANonScalarOutputNeedsItsGradOutput()
    {
        var x = Leaf([1f, 2f, 3f]);
        var y = x * x;
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => Grads.Grad([y], [x], retainGraph: true));
        StringAssert.Contains(error.Message, "Pass the output gradient");
        var g = Grads.Grad(y, x, new Variable(Tensor.FromArray([1f, 0.5f, 2f])));
        CollectionAssert.AreEqual(new[] { 2f, 2f, 12f }, g.Value.ToArray()); // torch: tensor([ 2.,  2., 12.])
        Assert.ThrowsExactly<ArgumentException>(() => Grads.Grad([x * x], [x], [new Variable(Tensor.FromArray([1f, 2f]))]));
    }

    [TestMethod]
    public void GradOutputsThatRequireGradMakeTheResultDifferentiableInThem()
    {
        // the double-vjp trick: J^T w is linear in w, so its gradient with respect to w (weighted by z) is J z
        var x = Leaf([1f, 2f, 3f]);
        var w = Leaf([1f, 1f, 1f]);
        var jtw = Grads.Grad(x * x, x, w, createGraph: true);
        var jz = Grads.Grad(jtw, w, new Variable(Tensor.FromArray([1f, 0f, 2f])));
        CollectionAssert.AreEqual(new[] { 2f, 0f, 12f }, jz.Value.ToArray());
    }

    [TestMethod]
    public void GradientWithRespectToAnIntermediateVariable()
    {
        var x = Leaf([1f, 2f, 3f]);
        var h = x * 2f;
        var g = Grads.Grad(F.Sum(h * h), h);
        CollectionAssert.AreEqual(new[] { 4f, 8f, 12f }, g.Value.ToArray()); // torch: tensor([ 4.,  8., 12.])
        Assert.IsNull(x.Grad);
    }

    [TestMethod]
    public void SeveralOutputsAreSummed()
    {
        var x = Leaf([1f, 2f]);
        var g = Grads.Grad([F.Sum(x * x), F.Sum(x * 3f)], [x])[0]!;
        CollectionAssert.AreEqual(new[] { 5f, 7f }, g.Value.ToArray()); // torch.autograd.grad([y1, y2], x): tensor([5., 7.])
    }

    [TestMethod]
    public void BackwardWithCreateGraphFillsAGradVariableThatDifferentiatesAgain()
    {
        var x = Leaf([1f, 2f, 3f]);
        F.Sum(x * x * x).Backward(createGraph: true);
        Assert.IsNotNull(x.GradVariable);
        Assert.IsTrue(x.GradVariable!.RequiresGrad);
        CollectionAssert.AreEqual(new[] { 3f, 12f, 27f }, x.Grad!.ToArray());
        CollectionAssert.AreEqual(new[] { 6f, 12f, 18f }, Grads.Grad(F.Sum(x.GradVariable), x, retainGraph: true).Value.ToArray());

        // as torch: x.grad.sum().backward() adds 6x to x.grad = 3x^2, out of place
        F.Sum(x.GradVariable).Backward();
        CollectionAssert.AreEqual(new[] { 9f, 24f, 45f }, x.Grad!.ToArray()); // torch: tensor([ 9., 24., 45.])
        Assert.IsNull(x.GradVariable, "a first-order Backward leaves a plain gradient");
    }

    [TestMethod]
    public void AnInteriorHookChangesTheGradientThatFlowsOn()
    {
        var x = Leaf([1f, 2f, 3f]);
        var h = x * 2f;
        h.RegisterHook(g => TensorMath.Multiply(g, 100f));
        var g = Grads.Grad(F.Sum(h * h), x, createGraph: true);
        CollectionAssert.AreEqual(new[] { 800f, 1600f, 2400f }, g.Value.ToArray()); // torch: tensor([ 800., 1600., 2400.])
        // hooks here work on tensors, so the replacement enters the gradient's graph as a constant (PyTorch records the
        // hook's own ops under create_graph, and its result stays differentiable)
        Assert.IsFalse(g.RequiresGrad);
    }

    [TestMethod]
    public void AHookSeesTheGradientOfARequestedVariableButDoesNotChangeWhatIsReturned()
    {
        // as PyTorch 1.13: the hook runs and sees tensor([3., 12., 27.]); autograd.grad returns that gradient
        // unchanged, although the hook multiplies by 10
        var x = Leaf([1f, 2f, 3f]);
        var seen = new List<float[]>();
        x.RegisterHook(g => { seen.Add(g.ToArray()); return TensorMath.Multiply(g, 10f); });
        var grad = Grads.Grad(F.Sum(x * x * x), x);
        Assert.AreEqual(1, seen.Count);
        CollectionAssert.AreEqual(new[] { 3f, 12f, 27f }, seen[0]);
        CollectionAssert.AreEqual(new[] { 3f, 12f, 27f }, grad.Value.ToArray());

        var h = x * 1f;
        h.RegisterHook(g => TensorMath.Multiply(g, 10f));
        var interior = Grads.Grad(F.Sum(h * h), h);
        CollectionAssert.AreEqual(new[] { 2f, 4f, 6f }, interior.Value.ToArray());
    }

    [TestMethod]
    public void AThirdDerivativeThatIsNotImplementedSaysSo()
    {
        var x = Leaf([0.5f, -1f]);
        var g = Grads.Grad(F.Sum(F.Gelu(x)), x, createGraph: true);
        // the second derivative itself is there (GeluBackward's tensor backward) ...
        var second = Grads.Grad(F.Sum(g), x, retainGraph: true);
        Assert.IsTrue(second.Value.ToArray().All(float.IsFinite));
        // ... but recording it, for a third, asks GeluBackward for a differentiable backward it does not have
        var error = Assert.ThrowsExactly<NotSupportedException>(() => Grads.Grad(F.Sum(g), x, createGraph: true));
        StringAssert.Contains(error.Message, "GeluBackward");
        StringAssert.Contains(error.Message, "third derivative");
        StringAssert.Contains(error.Message, "createGraph: true");
    }

    private static Variable Leaf(float[] values) => new(Tensor.FromArray(values), requiresGrad: true);
}
