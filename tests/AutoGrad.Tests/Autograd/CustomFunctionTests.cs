using System.Numerics.Tensors;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Autograd;

// this namespace is also called Autograd: the alias makes Autograd.X the public API, as in user code
using Autograd = global::AutoGrad.Autograd;

/// <summary>
/// User-defined differentiable functions (CustomFunction, PyTorch's torch.autograd.Function): first and second
/// derivatives by GradCheck and GradGradCheck, saved tensors read back as variables and guarded by version counters,
/// NeedsInputGrad, non-differentiable outputs, once-differentiable backwards and the errors for a wrong backward.
/// </summary>
[TestClass]
public sealed class CustomFunctionTests
{
    /// <summary>exp, saving its output: d/dx = grad * result, so the second derivative flows through the output.</summary>
    private sealed class MyExp : CustomFunction
    {
        public List<bool> GradModeInBackward { get; } = [];

        protected override Tensor Forward(FunctionContext ctx, Tensor[] inputs)
        {
            var result = Tensor.Zeros(inputs[0].Shape.ToArray());
            ctx.SaveForBackward(result); // filled after saving: versions are taken when the forward returns
            TensorPrimitives.Exp(inputs[0].AsReadOnlySpan(), result.AsSpan());
            return result;
        }

        protected override Variable?[] Backward(FunctionContext ctx, Variable gradOutput)
        {
            GradModeInBackward.Add(GradMode.IsEnabled);
            return [gradOutput * ctx.SavedTensors[0]];
        }
    }

    /// <summary>limit * tanh(x / limit), saving its input: the README's example, verbatim.</summary>
    private sealed class SoftClamp(float limit) : CustomFunction
    {
        protected override Tensor Forward(FunctionContext ctx, Tensor[] inputs)
        {
            ctx.SaveForBackward(inputs[0]);
            var y = Tensor.Zeros(inputs[0].Shape.ToArray());
            TensorPrimitives.Multiply(inputs[0].AsReadOnlySpan(), 1f / limit, y.AsSpan());
            TensorPrimitives.Tanh(y.AsReadOnlySpan(), y.AsSpan());
            TensorPrimitives.Multiply(y.AsReadOnlySpan(), limit, y.AsSpan());
            return y;
        }

        protected override Variable?[] Backward(FunctionContext ctx, Variable gradOutput)
        {
            // x: grad * (1 - tanh(x / limit)^2)
            var t = F.Tanh(ctx.SavedTensors[0] / limit);
            return [gradOutput * (1f - t * t)];
        }
    }

    /// <summary>(a + scale) * b, with a constant saved beside the inputs (the forward reuses F ops); records which inputs needed a gradient.</summary>
    private sealed class ScaledProduct : CustomFunction
    {
        public List<(bool A, bool B)> Needs { get; } = [];

        protected override Tensor Forward(FunctionContext ctx, Tensor[] inputs)
        {
            var scale = Tensor.Full(inputs[1].Shape.ToArray(), 0.5f);
            ctx.SaveForBackward(inputs[0], inputs[1], scale);
            return ((new Variable(inputs[0]) + new Variable(scale)) * new Variable(inputs[1])).Value;
        }

        protected override Variable?[] Backward(FunctionContext ctx, Variable gradOutput)
        {
            Needs.Add((ctx.NeedsInputGrad(0), ctx.NeedsInputGrad(1)));
            var (a, b, scale) = (ctx.SavedTensors[0], ctx.SavedTensors[1], ctx.SavedTensors[2]);
            return [ctx.NeedsInputGrad(0) ? gradOutput * b : null, ctx.NeedsInputGrad(1) ? gradOutput * (a + scale) : null];
        }
    }

    /// <summary>A backward on raw spans, declared once-differentiable (PyTorch's @once_differentiable).</summary>
    private sealed class SpanSquare : CustomFunction
    {
        protected override bool OnceDifferentiable => true;

        protected override Tensor Forward(FunctionContext ctx, Tensor[] inputs)
        {
            ctx.SaveForBackward(inputs[0]);
            var result = Tensor.Zeros(inputs[0].Shape.ToArray());
            TensorPrimitives.Multiply(inputs[0].AsReadOnlySpan(), inputs[0].AsReadOnlySpan(), result.AsSpan());
            return result;
        }

        protected override Variable?[] Backward(FunctionContext ctx, Variable gradOutput)
        {
            var grad = Tensor.Zeros(gradOutput.Shape.ToArray());
            TensorPrimitives.Multiply(gradOutput.Value.AsReadOnlySpan(), ctx.SavedTensors[0].Value.AsReadOnlySpan(), grad.AsSpan());
            TensorPrimitives.Multiply(grad.AsReadOnlySpan(), 2f, grad.AsSpan());
            return [new Variable(grad)];
        }
    }

    /// <summary>Rounds (an integer-valued output): marked non-differentiable, so its backward is never called.</summary>
    private sealed class Round : CustomFunction
    {
        protected override Tensor Forward(FunctionContext ctx, Tensor[] inputs)
        {
            ctx.MarkNonDifferentiable();
            var result = Tensor.Zeros(inputs[0].Shape.ToArray());
            TensorPrimitives.Round(inputs[0].AsReadOnlySpan(), result.AsSpan());
            return result;
        }

        protected override Variable?[] Backward(FunctionContext ctx, Variable gradOutput) => throw new AssertFailedException("never called");
    }

    /// <summary>A backward that returns what <paramref name="backward"/> makes of the gradient.</summary>
    private sealed class Faulty(Func<Variable, Variable?[]> backward) : CustomFunction
    {
        protected override Tensor Forward(FunctionContext ctx, Tensor[] inputs) => inputs[0].Clone();

        protected override Variable?[] Backward(FunctionContext ctx, Variable gradOutput) => backward(gradOutput);
    }

    private static Variable Input(long seed, params int[] shape) => new(Tensor.Randn(new Generator(seed), shape), requiresGrad: true);

    [TestMethod]
    public void FirstAndSecondDerivativesPassTheChecks()
    {
        var exp = new MyExp();
        var clamp = new SoftClamp(1.5f);
        var product = new ScaledProduct();
        GradCheck.Assert(x => exp.Apply(x[0]), Input(1, 2, 3));
        GradGradCheck.Assert(x => exp.Apply(x[0]), Input(1, 2, 3));
        GradCheck.Assert(x => clamp.Apply(x[0] * 2f), Input(2, 4));
        GradGradCheck.Assert(x => clamp.Apply(x[0] * 2f), Input(2, 4));
        GradCheck.Assert(x => product.Apply(x[0], x[1]), Input(3, 2, 3), Input(4, 3));
        GradGradCheck.Assert(x => product.Apply(x[0], x[1]), Input(3, 2, 3), Input(4, 3));
        // first-order backwards ran under NoGrad, recorded ones (createGraph) with grad mode on
        CollectionAssert.Contains(exp.GradModeInBackward, false);
        CollectionAssert.Contains(exp.GradModeInBackward, true);
    }

    [TestMethod]
    public void SecondDerivativeMatchesTheBuiltInOp()
    {
        // d^2/dx^2 sum(exp(x)) = exp(x), through the saved output's own node
        var x = Input(5, 3);
        var hessianDiagonal = Autograd.Hvp(v => F.Sum(new MyExp().Apply(v)), x, new Variable(Tensor.Ones(3))).Hvp;
        TestUtil.AssertClose(F.Exp(x).Value, hessianDiagonal.Value);
        var (_, builtIn) = Autograd.Vjp(v => F.Exp(v), x, new Variable(Tensor.Ones(3)));
        TestUtil.AssertClose(builtIn.Value, Autograd.Vjp(v => new MyExp().Apply(v), x, new Variable(Tensor.Ones(3))).Vjp.Value);
    }

    [TestMethod]
    public void NeedsInputGradSaysWhichInputsWantAGradient()
    {
        var product = new ScaledProduct();
        var a = Input(6, 2, 3);
        var b = new Variable(Tensor.Ones(3));
        F.Sum(product.Apply(a, b)).Backward();
        CollectionAssert.AreEqual(new[] { (true, false) }, product.Needs);
        TestUtil.AssertClose(Tensor.Ones(2, 3), a.Grad!);

        using (GradMode.NoGrad())
        {
            Assert.IsFalse(product.Apply(a, b).RequiresGrad, "under NoGrad nothing is recorded");
        }
    }

    [TestMethod]
    public void NonDifferentiableOutputIsAConstant()
    {
        var x = Input(7, 4);
        var rounded = new Round().Apply(x);
        Assert.IsFalse(rounded.RequiresGrad);
        Assert.IsNull(rounded.GradFnName);
        // used beside differentiable ops, it contributes no gradient
        F.Sum(x * rounded + x).Backward();
        TestUtil.AssertClose((rounded + 1f).Value, x.Grad!);
    }

    [TestMethod]
    public void SavedTensorModifiedInPlaceThrowsAtBackward()
    {
        var x = Input(8, 3);
        var y = new MyExp().Apply(x);
        y.Value.AsSpan()[0] = 5f; // the saved output
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => F.Sum(y).Backward());
        StringAssert.Contains(e.Message, "MyExp (its output");
        StringAssert.Contains(e.Message, "modified in place");

        var z = Input(9, 3);
        var clamped = new SoftClamp(1f).Apply(z);
        z.Value.AsSpan()[1] += 1f; // the saved input
        e = Assert.ThrowsExactly<InvalidOperationException>(() => Autograd.Grad(F.Sum(clamped), z, createGraph: true));
        StringAssert.Contains(e.Message, "SoftClamp (its input 0");
    }

    [TestMethod]
    public void OnceDifferentiableBackwardRefusesCreateGraph()
    {
        var square = new SpanSquare();
        GradCheck.Assert(x => square.Apply(x[0]), Input(10, 2, 2));
        var x = Input(11, 2, 2);
        var e = Assert.ThrowsExactly<NotSupportedException>(() => Autograd.Grad(F.Sum(square.Apply(x)), x, createGraph: true));
        StringAssert.Contains(e.Message, "SpanSquare declares its backward once-differentiable");
    }

    [TestMethod]
    public void WrongGradientsAreReportedWithShapesAndCounts()
    {
        var x = Input(12, 2, 3);
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => F.Sum(new Faulty(_ => []).Apply(x)).Backward());
        StringAssert.Contains(e.Message, "Faulty.Backward returned 0 gradients for 1 input");
        e = Assert.ThrowsExactly<InvalidOperationException>(() => F.Sum(new Faulty(_ => [new Variable(Tensor.Ones(5))]).Apply(x)).Backward());
        StringAssert.Contains(e.Message, "gradient of shape [5] for input 0 of shape [2, 3]");
        e = Assert.ThrowsExactly<InvalidOperationException>(() => F.Sum(new Faulty(_ => null!).Apply(x)).Backward());
        StringAssert.Contains(e.Message, "returned null for 1 input");

        // a gradient of a shape the input broadcasts to is summed back, as for built-in ops
        var row = Input(13, 3);
        F.Sum(new Faulty(g => [F.Concat([g.Unsqueeze(0), g.Unsqueeze(0)])]).Apply(row)).Backward();
        TestUtil.AssertClose(Tensor.Full([3], 2f), row.Grad!);
    }

    [TestMethod]
    public void SavedTensorsAreReadableOnlyInBackward()
    {
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => new ReadInForward().Apply(Input(14, 2)));
        StringAssert.Contains(e.Message, "only in Backward");
    }

    private sealed class ReadInForward : CustomFunction
    {
        protected override Tensor Forward(FunctionContext ctx, Tensor[] inputs) => ctx.SavedTensors[0].Value;

        protected override Variable?[] Backward(FunctionContext ctx, Variable gradOutput) => [gradOutput];
    }
}
