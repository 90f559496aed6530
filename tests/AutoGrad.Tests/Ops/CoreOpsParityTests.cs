using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Ops;

/// <summary>
/// Every core op against PyTorch: the fixture (tests/reference/generate_core_ops.py) holds inputs, outputs, an
/// upstream gradient and input gradients computed by torch; values and gradients must agree within 1e-5 + 1e-4 |x|.
/// </summary>
[TestClass]
[TestCategory("Parity")]
public sealed class CoreOpsParityTests
{
    private const string File = "core_ops.json";

    public static IEnumerable<object[]> CaseNames => ParityFixture.Load(File).Select(c => new object[] { c.Name });

    [TestMethod]
    [DynamicData(nameof(CaseNames))]
    public void ValuesAndGradientsMatchPyTorch(string name) => ParityRunner.Check(ParityFixture.Load(File).Single(x => x.Name == name), Apply);

    [TestMethod]
    public void FixtureCoversEveryCoreOp()
    {
        var ops = ParityFixture.Load(File).Select(c => c.Op).ToHashSet();
        string[] expected =
        [
            "add", "sub", "mul", "div", "mul_self", "add_scalar", "sub_scalar", "mul_scalar", "div_scalar", "rsub_scalar", "rdiv_scalar",
            "neg", "exp", "log", "sqrt", "abs", "relu", "tanh", "sigmoid", "pow", "clamp", "matmul", "sum", "mean", "amax", "amin",
            "reshape", "transpose", "permute", "squeeze", "unsqueeze", "cat", "slice", "index_select",
        ];
        CollectionAssert.IsSubsetOf(expected, ops.ToList(), $"missing: {string.Join(", ", expected.Except(ops))}");
    }

    /// <summary>The largest deviation from PyTorch over all cases, printed for the record.</summary>
    [TestMethod]
    public void ReportLargestDeviation() => ParityRunner.ReportLargestDeviation(ParityFixture.Load(File), Apply);

    internal static Variable Apply(ParityCase c, Variable[] x) => c.Op switch
    {
        "add" => x[0] + x[1],
        "sub" => x[0] - x[1],
        "mul" => x[0] * x[1],
        "div" => x[0] / x[1],
        "mul_self" => x[0] * x[0],
        "add_scalar" => x[0] + c.FloatAttr("scalar"),
        "sub_scalar" => x[0] - c.FloatAttr("scalar"),
        "mul_scalar" => x[0] * c.FloatAttr("scalar"),
        "div_scalar" => x[0] / c.FloatAttr("scalar"),
        "rsub_scalar" => c.FloatAttr("scalar") - x[0],
        "rdiv_scalar" => c.FloatAttr("scalar") / x[0],
        "neg" => -x[0],
        "exp" => x[0].Exp(),
        "log" => x[0].Log(),
        "sqrt" => x[0].Sqrt(),
        "abs" => x[0].Abs(),
        "relu" => x[0].Relu(),
        "tanh" => x[0].Tanh(),
        "sigmoid" => x[0].Sigmoid(),
        "pow" => x[0].Pow(c.FloatAttr("exponent")),
        "clamp" => x[0].Clamp(c.NullableFloatAttr("min"), c.NullableFloatAttr("max")),
        "matmul" => x[0].MatMul(x[1]),
        "sum" => F.Sum(x[0], c.IntsAttr("dims"), c.BoolAttr("keepdim")),
        "mean" => F.Mean(x[0], c.IntsAttr("dims"), c.BoolAttr("keepdim")),
        "amax" => F.Max(x[0], c.IntsAttr("dims"), c.BoolAttr("keepdim")),
        "amin" => F.Min(x[0], c.IntsAttr("dims"), c.BoolAttr("keepdim")),
        "reshape" => x[0].Reshape(c.IntsAttr("shape")!),
        "transpose" => x[0].Transpose(c.IntAttr("dim0"), c.IntAttr("dim1")),
        "permute" => x[0].Permute(c.IntsAttr("dims")!),
        "squeeze" => c.NullableIntAttr("dim") is int d ? x[0].Squeeze(d) : x[0].Squeeze(),
        "unsqueeze" => x[0].Unsqueeze(c.IntAttr("dim")),
        "cat" => F.Concat(x, c.IntAttr("dim")),
        "slice" => x[0].Slice(c.IntAttr("dim"), c.IntAttr("start"), c.NullableIntAttr("end"), c.IntAttr("step")),
        "index_select" => x[0].IndexSelect(c.IntAttr("dim"), c.IntsAttr("index")!),
        _ => throw new NotSupportedException($"Parity: no mapping for op '{c.Op}' (case {c.Name})."),
    };
}
