using System.Text.Json;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Ops;

/// <summary>
/// ConvTranspose2d's values and gradients, and Hessian-vector products of the convolutions and poolings, against
/// PyTorch (fixture: tests/reference/generate_conv_higher_order.py): for L = sum(f(inputs) * u), the gradient of
/// sum_i &lt;dL/d input_i, v_i&gt; from a backward through the recorded backward (createGraph), within 1e-5 abs + 1e-4 rel.
/// </summary>
[TestClass]
[TestCategory("Parity")]
public sealed class ConvolutionHigherOrderParityTests
{
    private const string File = "conv_higher_order.json";

    private sealed record HvpCase(string Name, string Op, JsonElement Attrs, Tensor[] Inputs, Tensor Output, Tensor U, Tensor[] V, Tensor[] Hvp);

    private static readonly Lazy<HvpCase[]> HvpCases = new(LoadHvpCases);

    public static IEnumerable<object[]> CaseNames => ParityFixture.Load(File).Select(c => new object[] { c.Name });

    public static IEnumerable<object[]> HvpCaseNames => HvpCases.Value.Select(c => new object[] { c.Name });

    [TestMethod]
    [DynamicData(nameof(CaseNames))]
    public void ConvTransposeValuesAndGradientsMatchPyTorch(string name)
        => ParityRunner.Check(ParityFixture.Load(File).Single(c => c.Name == name), (c, x) => ConvTranspose(c.Attrs, x));

    [TestMethod]
    [DynamicData(nameof(HvpCaseNames))]
    public void HessianVectorProductsMatchPyTorch(string name)
    {
        var c = HvpCases.Value.Single(h => h.Name == name);
        var inputs = c.Inputs.Select(t => new Variable(t.Clone(), requiresGrad: true)).ToArray();
        var output = Apply(c.Op, c.Attrs, inputs);
        TestUtil.AssertClose(c.Output, output.Value, ParityRunner.Atol, ParityRunner.Rtol, $"{name} output");
        var grads = AutoGrad.Autograd.Grad([output], inputs, [new Variable(c.U)], createGraph: true);
        // a gradient that no longer depends on the inputs (a pooling's, a bias's) has a zero Hessian row
        var used = Enumerable.Range(0, inputs.Length).Where(i => grads[i] is { RequiresGrad: true }).ToArray();
        var hvp = used.Length == 0
            ? new Variable?[inputs.Length]
            : AutoGrad.Autograd.Grad(used.Select(i => grads[i]!).ToArray(), inputs, used.Select(i => (Variable?)new Variable(c.V[i])).ToArray(), allowUnused: true);
        for (int i = 0; i < inputs.Length; i++)
        {
            var actual = hvp[i]?.Value ?? Tensor.Zeros(c.Inputs[i].ShapeArray);
            TestUtil.AssertClose(c.Hvp[i], actual, ParityRunner.Atol, ParityRunner.Rtol, $"{name} Hessian-vector product of input {i}");
        }
    }

    [TestMethod]
    public void FixtureCoversEveryConvolutionAndPooling()
    {
        var ops = HvpCases.Value.Select(c => c.Op).ToHashSet();
        string[] expected = ["conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d", "conv2d_relu_max_pool2d_tanh", "max_pool2d_after_relu_squared"];
        CollectionAssert.IsSubsetOf(expected, ops.ToList(), $"missing: {string.Join(", ", expected.Except(ops))}");
    }

    private static Variable Apply(string op, JsonElement attrs, Variable[] x) => op switch
    {
        "conv2d" => F.Conv2d(x[0], x[1], x.Length > 2 ? x[2] : null, Pair(attrs, "stride"), Pair(attrs, "padding"), Pair(attrs, "dilation")),
        "conv_transpose2d" => ConvTranspose(attrs, x),
        // the fused Conv2d + ReLU + 2x2 max-pool node where it applies (as in a Sequential), else the three ops
        "conv2d_relu_max_pool2d_tanh" => F.Tanh(F.Conv2dReluMaxPool2(x[0], x[1], x[2], (1, 1), (1, 1), (1, 1))
            ?? F.MaxPool2d(F.Conv2d(x[0], x[1], x[2], 1, 1, activation: Activation.Relu), 2)),
        "max_pool2d" => MaxPool(attrs, x[0]),
        "max_pool2d_of_tanh" => MaxPool(attrs, F.Tanh(x[0])),
        "max_pool2d_after_relu_squared" => Squared(F.MaxPool2dAfterRelu(x[0] + 0.05f, 2, 2, 0)),
        "avg_pool2d" => AvgPool(attrs, x[0]),
        "avg_pool2d_squared" => Squared(AvgPool(attrs, x[0])),
        _ => throw new NotSupportedException($"Parity: no mapping for op '{op}'."),
    };

    private static Variable ConvTranspose(JsonElement attrs, Variable[] x)
        => F.ConvTranspose2d(x[0], x[1], x.Length > 2 ? x[2] : null, Pair(attrs, "stride"), Pair(attrs, "padding"), Pair(attrs, "output_padding"),
            attrs.GetProperty("groups").GetInt32(), Pair(attrs, "dilation"));

    private static Variable MaxPool(JsonElement attrs, Variable x) => F.MaxPool2d(x, Pair(attrs, "kernel"), Pair(attrs, "stride"), Pair(attrs, "padding"));

    private static Variable AvgPool(JsonElement attrs, Variable x) => F.AvgPool2d(x, Pair(attrs, "kernel"), Pair(attrs, "stride"), Pair(attrs, "padding"));

    private static Variable Squared(Variable x) => F.Mul(x, x);

    private static (int H, int W) Pair(JsonElement attrs, string name) => (attrs.GetProperty(name)[0].GetInt32(), attrs.GetProperty(name)[1].GetInt32());

    private static HvpCase[] LoadHvpCases()
    {
        using var stream = System.IO.File.OpenRead(Path.Combine(AppContext.BaseDirectory, "Fixtures", File));
        using var document = JsonDocument.Parse(stream);
        return document.RootElement.GetProperty("hvp_cases").EnumerateArray().Select(c => new HvpCase(
            c.GetProperty("name").GetString()!,
            c.GetProperty("op").GetString()!,
            c.GetProperty("attrs").Clone(),
            c.GetProperty("inputs").EnumerateArray().Select(ParityFixture.ReadTensor).ToArray(),
            ParityFixture.ReadTensor(c.GetProperty("output")),
            ParityFixture.ReadTensor(c.GetProperty("u")),
            c.GetProperty("v").EnumerateArray().Select(ParityFixture.ReadTensor).ToArray(),
            c.GetProperty("hvp").EnumerateArray().Select(ParityFixture.ReadTensor).ToArray())).ToArray();
    }
}
