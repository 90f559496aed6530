using System.Text.Json;
using AutoGrad.Tests.Ops;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Autograd;

// this namespace is also called Autograd: the alias makes Autograd.X the public API, as in user code
using Autograd = global::AutoGrad.Autograd;

/// <summary>
/// Autograd.Jacobian/Hessian/Vjp/Jvp/Hvp/Vhp against torch.autograd.functional on the functions of
/// tests/reference/generate_functional.py (same names), within 1e-5 + 1e-5 |x|; then the argument semantics
/// (v omitted, strict, createGraph, errors).
/// </summary>
[TestClass]
[TestCategory("Parity")]
public sealed class FunctionalTests
{
    private const double Tolerance = 1e-5;

    private static JsonElement Cases => FunctionalFixture.Root.GetProperty("cases");

    /// <summary>The C# twins of the fixture's functions: (inputs, constants) to outputs.</summary>
    private static readonly Dictionary<string, Func<Variable[], Variable[], Variable[]>> Vector = new()
    {
        ["elementwise"] = (x, c) => [x[0].Exp() * x[0] + x[0].Pow(3f)],
        ["matmul"] = (x, c) => [x[0].MatMul(x[1])],
        ["tanh_mlp"] = (x, c) => [F.Linear(F.Linear(x[0], c[0], c[1]).Tanh(), c[2], c[3])],
        ["two_outputs"] = (x, c) => [F.Sum(x[0], 0) * x[1], F.Sum(x[0] * x[0])],
    };

    private static readonly Dictionary<string, Func<Variable[], Variable[], Variable>> Scalar = new()
    {
        ["elementwise_sum"] = (x, c) => F.Sum(x[0].Exp() * x[0] + x[0].Pow(3f)),
        ["tanh_mlp_loss"] = (x, c) => F.Sum(F.Linear(F.Linear(x[0], x[1], c[0]).Tanh(), c[1]).Pow(2f)),
        ["softplus"] = (x, c) => F.Sum(F.Softplus(x[0].MatMul(x[1]))),
        ["unused_input"] = (x, c) => F.Sum(x[0].Exp() * x[0]),
    };

    public static IEnumerable<object[]> CaseNames => Cases.EnumerateArray().Select(c => new object[] { c.GetProperty("name").GetString()! });

    private static JsonElement Case(string name) => Cases.EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    private static Variable[] Read(JsonElement c, string key, bool requiresGrad = false)
        => c.GetProperty(key).EnumerateArray().Select(t => new Variable(ParityFixture.ReadTensor(t), requiresGrad)).ToArray();

    private static void AssertAll(JsonElement expected, Variable[] actual, string what)
    {
        var tensors = expected.EnumerateArray().Select(ParityFixture.ReadTensor).ToArray();
        Assert.AreEqual(tensors.Length, actual.Length, what);
        for (int i = 0; i < tensors.Length; i++)
        {
            TestUtil.AssertClose(tensors[i], actual[i].Value, Tolerance, Tolerance, $"{what}[{i}]");
            Assert.IsFalse(actual[i].RequiresGrad, $"{what}[{i}]: without createGraph a result is cut from the graph");
        }
    }

    private static void AssertBlocks(JsonElement expected, Variable[,] actual, string what)
    {
        var rows = expected.EnumerateArray().ToArray();
        Assert.AreEqual(rows.Length, actual.GetLength(0), what);
        for (int j = 0; j < rows.Length; j++)
        {
            var row = Enumerable.Range(0, actual.GetLength(1)).Select(i => actual[j, i]).ToArray();
            AssertAll(rows[j], row, $"{what}[{j}]");
        }
    }

    [TestMethod]
    [DynamicData(nameof(CaseNames))]
    public void MatchesTorchAutogradFunctional(string name)
    {
        var c = Case(name);
        var x = Read(c, "inputs");
        var constants = Read(c, "constants");
        var vOut = Read(c, "v_out");
        var vIn = Read(c, "v_in");
        Func<Variable[], Variable[]> f = c.GetProperty("kind").GetString() == "scalar"
            ? xs => [Scalar[name](xs, constants)]
            : xs => Vector[name](xs, constants);

        AssertBlocks(c.GetProperty("jacobian"), Autograd.Jacobian(f, x), "jacobian");
        var (outputs, vjp) = Autograd.Vjp(f, x, vOut);
        AssertAll(c.GetProperty("outputs"), outputs, "outputs");
        AssertAll(c.GetProperty("vjp"), vjp, "vjp");
        var (jvpOutputs, jvp) = Autograd.Jvp(f, x, vIn);
        AssertAll(c.GetProperty("outputs"), jvpOutputs, "jvp outputs");
        AssertAll(c.GetProperty("jvp"), jvp, "jvp");
        if (Scalar.TryGetValue(name, out var scalar))
        {
            Func<Variable[], Variable> s = xs => scalar(xs, constants);
            AssertBlocks(c.GetProperty("hessian"), Autograd.Hessian(s, x), "hessian");
            AssertAll(c.GetProperty("hvp"), Autograd.Hvp(s, x, vIn).Hvps, "hvp");
            var (output, vhp) = Autograd.Vhp(s, x, vIn);
            AssertAll(c.GetProperty("outputs"), [output], "vhp output");
            AssertAll(c.GetProperty("vhp"), vhp, "vhp");
        }
        Assert.IsTrue(x.All(v => v.Grad is null), "the functional API accumulates into no .Grad");
    }

    [TestMethod]
    public void FixtureCoversEveryFunction()
        => CollectionAssert.AreEquivalent(Vector.Keys.Concat(Scalar.Keys).ToList(), CaseNames.Select(n => (string)n[0]).ToList());

    [TestMethod]
    public void SingleVariableOverloadsHavePyTorchShapes()
    {
        var x = new Variable(Tensor.FromArray([0.5f, -1f, 2f], 3));
        var w = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f], 4, 2);
        // f: R^[3] -> R^[2, 2]: the Jacobian is [2, 2, 3]
        var jacobian = Autograd.Jacobian(v => F.Reshape(new Variable(w).MatMul(F.Reshape(v.Slice(0, 0, 2) * v.Slice(0, 2, 3), 2, 1)), 2, 2), x);
        CollectionAssert.AreEqual(new[] { 2, 2, 3 }, jacobian.Shape.ToArray());
        // f = sum(x^3): H = diag(6 x), a [3, 3] matrix
        var hessian = Autograd.Hessian(v => F.Sum(v.Pow(3f)), x);
        TestUtil.AssertClose(Tensor.FromArray([3f, 0, 0, 0, -6f, 0, 0, 0, 12f], 3, 3), hessian.Value);
        // a scalar input of a scalar function: v may be omitted, and the Jacobian and Hessian are scalars
        var s = new Variable(Tensor.Scalar(2f));
        Assert.AreEqual(12f, Autograd.Jacobian(v => v.Pow(3f), s).Item(), 1e-5f);
        Assert.AreEqual(12f, Autograd.Hessian(v => v.Pow(3f), s).Item(), 1e-5f);
        Assert.AreEqual(12f, Autograd.Jvp(v => v.Pow(3f), s).Jvp.Item(), 1e-5f);
        Assert.AreEqual(12f, Autograd.Hvp(v => v.Pow(3f), s).Hvp.Item(), 1e-5f);
    }

    [TestMethod]
    public void UnusedInputsGiveZerosOrThrowWhenStrict()
    {
        Variable[] xs = [new(Tensor.FromArray([1f, 2f], 2)), new(Tensor.FromArray([3f], 1))];
        Func<Variable[], Variable> f = v => F.Sum(v[0] * v[0]);
        var (_, vjp) = Autograd.Vjp(v => [f(v)], xs);
        TestUtil.AssertClose(Tensor.Zeros(1), vjp[1].Value);
        var hessian = Autograd.Hessian(f, xs);
        TestUtil.AssertClose(Tensor.Zeros(2, 1), hessian[0, 1].Value);
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => Autograd.Vjp(v => [f(v)], xs, strict: true));
        StringAssert.Contains(e.Message, "independent of input 1");
        // a linear function has a constant gradient: its Hessian is zero, and strict mode says why it refuses
        Func<Variable, Variable> linear = v => F.Sum(v * 3f);
        TestUtil.AssertClose(Tensor.Zeros(2, 2), Autograd.Hessian(linear, xs[0]).Value);
        e = Assert.ThrowsExactly<InvalidOperationException>(() => Autograd.Hessian(linear, xs[0], strict: true));
        StringAssert.Contains(e.Message, "linear");
        // an output computed from constants only
        e = Assert.ThrowsExactly<InvalidOperationException>(() => Autograd.Jacobian(_ => new Variable(Tensor.Ones(2)), xs[0], strict: true));
        StringAssert.Contains(e.Message, "does not require grad");
        TestUtil.AssertClose(Tensor.Zeros(2, 2), Autograd.Jacobian(_ => new Variable(Tensor.Ones(2)), xs[0]).Value);
    }

    [TestMethod]
    public void CreateGraphKeepsResultsDifferentiable()
    {
        // vjp of x^3 with v is 3 x^2 v; its gradient in x is 6 x v and in v is 3 x^2
        var x = new Variable(Tensor.FromArray([1f, -2f], 2), requiresGrad: true);
        var v = new Variable(Tensor.FromArray([0.5f, 2f], 2), requiresGrad: true);
        var (output, vjp) = Autograd.Vjp(t => t.Pow(3f), x, v, createGraph: true);
        Assert.IsTrue(output.RequiresGrad && vjp.RequiresGrad);
        F.Sum(vjp).Backward();
        TestUtil.AssertClose(Tensor.FromArray([3f, -24f], 2), x.Grad!);
        TestUtil.AssertClose(Tensor.FromArray([3f, 12f], 2), v.Grad!);

        // Hessian-vector products with createGraph: d/dx sum(H v) for f = sum(x^3), H v = 6 x v, so 6 v
        x.Grad = null;
        var (_, hvp) = Autograd.Hvp(t => F.Sum(t.Pow(3f)), x, new Variable(v.Value), createGraph: true);
        F.Sum(hvp).Backward();
        TestUtil.AssertClose(Tensor.FromArray([3f, 12f], 2), x.Grad!);

        // the Jacobian with createGraph: J = diag(3 x^2), and d/dx sum(J) = 6 x
        x.Grad = null;
        F.Sum(Autograd.Jacobian(t => t.Pow(3f), x, createGraph: true)).Backward();
        TestUtil.AssertClose(Tensor.FromArray([6f, -12f], 2), x.Grad!);
    }

    [TestMethod]
    public void ArgumentErrorsNameTheMistake()
    {
        var x = new Variable(Tensor.FromArray([1f, 2f], 2));
        var e = Assert.ThrowsExactly<ArgumentException>(() => Autograd.Vjp(t => t * 2f, x));
        StringAssert.Contains(e.Message, "v can be omitted only");
        e = Assert.ThrowsExactly<ArgumentException>(() => Autograd.Jvp(t => t * 2f, x, new Variable(Tensor.Ones(3))));
        StringAssert.Contains(e.Message, "v[0] has shape [3] but input 0 has shape [2]");
        e = Assert.ThrowsExactly<ArgumentException>(() => Autograd.Vjp(t => [t[0] * 2f], [x], [new Variable(Tensor.Ones(2)), new Variable(Tensor.Ones(2))]));
        StringAssert.Contains(e.Message, "2 vectors v for 1 outputs");
        var ie = Assert.ThrowsExactly<InvalidOperationException>(() => Autograd.Hessian(t => t * 2f, x));
        StringAssert.Contains(ie.Message, "single element");
        Assert.ThrowsExactly<ArgumentException>(() => Autograd.Jacobian(t => t, []));
    }
}
