using AutoGrad.Tests.Ops;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Grads = AutoGrad.Autograd;

namespace AutoGrad.Tests.Autograd;

/// <summary>
/// Second derivatives of every op (convolution and pooling aside) against PyTorch: the fixture
/// (tests/reference/generate_higher_order.py) holds, for L = sum(f(x) * u), the gradients g = dL/dx taken with
/// create_graph and the Hessian-vector products d(sum_i &lt;g_i, v_i&gt;)/dx; here both come from Autograd.Grad, the
/// first with createGraph, and must agree within 1e-5 + 1e-4 |x|.
/// </summary>
[TestClass]
[TestCategory("Parity")]
public sealed class HigherOrderParityTests
{
    private const string File = "higher_order.json";

    // the ops whose mapping lives in NnOpsParityTests; every other op the fixture shares is a core op
    private static readonly HashSet<string> NnOps =
    [
        "flatten", "softmax", "log_softmax", "cross_entropy", "mse_loss", "binary_cross_entropy", "bce_with_logits", "leaky_relu", "gelu", "softplus", "elu",
    ];

    public static IEnumerable<object[]> CaseNames => ParityFixture.Load(File).Select(c => new object[] { c.Name });

    [TestMethod]
    [DynamicData(nameof(CaseNames))]
    public void HessianVectorProductsMatchPyTorch(string name)
    {
        var c = ParityFixture.Load(File).Single(x => x.Name == name);
        var inputs = c.Inputs.Select((t, i) => new Variable(t.Clone(), c.RequiresGrad[i])).ToArray();
        var output = Apply(c, inputs);
        TestUtil.AssertClose(c.Output, output.Value, ParityRunner.Atol, ParityRunner.Rtol, $"{name} output");

        var wrt = inputs.Where(x => x.RequiresGrad).ToArray();
        var expectedGrads = c.Grads.Where(g => g is not null).ToArray();
        var v = c.TensorsField("v").Where(t => t is not null).Select(t => new Variable(t!)).ToArray();
        var expectedHvps = c.TensorsField("hvp").Where(t => t is not null).ToArray();

        var loss = F.Sum(output * new Variable(c.GradOutput));
        var grads = Grads.Grad([loss], wrt, createGraph: true, allowUnused: true);
        Variable? pairing = null;
        for (int i = 0; i < wrt.Length; i++)
        {
            var g = grads[i] ?? new Variable(Tensor.Zeros(wrt[i].Value.ShapeArray));
            TestUtil.AssertClose(expectedGrads[i]!, g.Value, ParityRunner.Atol, ParityRunner.Rtol, $"{name} gradient of input {i}");
            var term = F.Sum(g * v[i]);
            pairing = pairing is null ? term : pairing + term;
        }

        // a gradient that does not depend on the inputs (a linear op) has no graph: its Hessian is zero
        var hvps = pairing!.RequiresGrad ? Grads.Grad([pairing], wrt, allowUnused: true) : new Variable?[wrt.Length];
        for (int i = 0; i < wrt.Length; i++)
        {
            var hvp = hvps[i]?.Value ?? Tensor.Zeros(wrt[i].Value.ShapeArray);
            TestUtil.AssertClose(expectedHvps[i]!, hvp, ParityRunner.Atol, ParityRunner.Rtol, $"{name} Hessian-vector product for input {i}");
        }
    }

    [TestMethod]
    public void FixtureCoversEveryOp()
    {
        var ops = ParityFixture.Load(File).Select(c => c.Op).ToHashSet();
        string[] expected =
        [
            "add", "sub", "mul", "div", "mul_self", "add_scalar", "sub_scalar", "mul_scalar", "div_scalar", "rsub_scalar", "rdiv_scalar",
            "neg", "exp", "log", "sqrt", "abs", "relu", "tanh", "sigmoid", "pow", "clamp", "leaky_relu", "elu", "softplus", "gelu",
            "matmul", "linear", "linear_relu", "sum", "mean", "amax", "amin", "reshape", "transpose", "permute", "squeeze", "unsqueeze",
            "flatten", "cat", "slice", "index_select", "softmax", "log_softmax", "cross_entropy", "cross_entropy_index", "nll_loss_index",
            "mse_loss", "binary_cross_entropy", "bce_with_logits", "dropout", "mlp_tanh_cross_entropy", "mlp_relu_mse",
        ];
        CollectionAssert.IsSubsetOf(expected, ops.ToList(), $"missing: {string.Join(", ", expected.Except(ops))}");
        Assert.IsTrue(ParityFixture.Load(File).Any(c => c.StringAttr("post") == "square"), "every op also comes squared");
    }

    internal static Variable Apply(ParityCase c, Variable[] x)
    {
        var y = ApplyOp(c, x);
        return c.StringAttr("post") == "square" ? y * y : y;
    }

    private static Variable ApplyOp(ParityCase c, Variable[] x) => c.Op switch
    {
        "linear" => F.Linear(x[0], x[1], x.Length > 2 ? x[2] : null),
        "linear_relu" => F.Linear(x[0], x[1], x[2], Activation.Relu),
        "cross_entropy_index" => F.CrossEntropy(x[0], c.IntsAttr("target")!, c.ReductionAttr(), c.FloatAttr("label_smoothing"), c.IntAttr("ignore_index")),
        "nll_loss_index" => F.NllLoss(x[0], c.IntsAttr("target")!, c.ReductionAttr(), c.IntAttr("ignore_index")),
        "nll_loss_of_log_softmax" => F.NllLoss(F.LogSoftmax(x[0], 1), c.IntsAttr("target")!, c.ReductionAttr(), c.IntAttr("ignore_index")),
        "binary_cross_entropy_of_sigmoid" => F.BinaryCrossEntropy(x[0].Sigmoid(), x[1], c.ReductionAttr()),
        "dropout" => AutoGrad.Ops.DropoutFunction.WithMask(x[0], x[1].Value.Clone(), c.FloatAttr("p")),
        "dropout_then_tanh" => AutoGrad.Ops.DropoutFunction.WithMask(x[0], x[1].Value.Clone(), c.FloatAttr("p")).Tanh(),
        "mlp_tanh_cross_entropy" => F.CrossEntropy(F.Linear(F.Linear(x[0], x[1], x[2]).Tanh(), x[3], x[4]), c.IntsAttr("target")!),
        "mlp_relu_mse" => F.MseLoss(F.Linear(F.Linear(x[0], x[1], x[2], Activation.Relu), x[3], x[4]), x[5]),
        "mlp_gelu_sigmoid_bce" => F.BinaryCrossEntropy(F.Linear(F.Gelu(F.Linear(x[0], x[1], x[2])), x[3]).Sigmoid(), x[4]),
        _ when NnOps.Contains(c.Op) => NnOpsParityTests.Apply(c, x),
        _ => CoreOpsParityTests.Apply(c, x),
    };
}
