using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Ops;

/// <summary>
/// The tensor ops (arg-extrema, top-k, comparisons, where, masked_fill, gather, scatter_add, stack/split/chunk,
/// expand/repeat, tril/triu, cumsum) against PyTorch: fixture tests/reference/generate_tensor_ops.py, values and
/// gradients within 1e-5 + 1e-4 |x|. Index and mask inputs are float tensors that require no gradient.
/// </summary>
[TestClass]
[TestCategory("Parity")]
public sealed class TensorOpsParityTests
{
    private const string File = "tensor_ops.json";

    public static IEnumerable<object[]> CaseNames => ParityFixture.Load(File).Select(c => new object[] { c.Name });

    [TestMethod]
    [DynamicData(nameof(CaseNames))]
    public void ValuesAndGradientsMatchPyTorch(string name) => ParityRunner.Check(ParityFixture.Load(File).Single(x => x.Name == name), Apply);

    [TestMethod]
    public void TensorMethodsGiveTheVariablesValues()
    {
        var x = Tensor.FromArray([3f, 1f, 2f, 0f, 5f, 4f], 2, 3);
        CollectionAssert.AreEqual(new[] { 0f, 1f }, x.ArgMax(1).ToArray());
        CollectionAssert.AreEqual(new[] { 1f, 0f, 0f, 0f, 1f, 1f }, x.Gt(2f).ToArray());
        CollectionAssert.AreEqual(new[] { 3f, 4f, 6f, 0f, 5f, 9f }, x.Cumsum(1).ToArray());
        CollectionAssert.AreEqual(new[] { 3f, 0f, 0f, 0f, 5f, 0f }, x.Tril().ToArray());
        var (values, indices) = x.TopK(2);
        CollectionAssert.AreEqual(new[] { 3f, 2f, 5f, 4f }, values.ToArray());
        CollectionAssert.AreEqual(new[] { 0f, 2f, 1f, 2f }, indices.ToArray());
    }

    [TestMethod]
    public void AComparisonIsALeafWithoutGradient_AndWhereOfItGradsLikeWhereOfItsTensor()
    {
        var x = new Variable(Tensor.FromArray([-1f, 2f, -3f, 4f], 2, 2), requiresGrad: true);
        var mask = F.Gt(x, new Variable(Tensor.Scalar(0f)));
        Assert.IsTrue(mask.IsLeaf);
        Assert.IsFalse(mask.RequiresGrad);
        F.Sum(F.Where(mask, x * 2f, x * 3f) + F.MaskedFill(x, mask, 0f)).Backward();
        var viaVariable = x.Grad!.ToArray();
        x.ZeroGrad();
        F.Sum(F.Where(mask.Value, x * 2f, x * 3f) + F.MaskedFill(x, mask.Value, 0f)).Backward();
        CollectionAssert.AreEqual(x.Grad!.ToArray(), viaVariable);
        CollectionAssert.AreEqual(new[] { 4f, 2f, 4f, 2f }, viaVariable);
    }

    [TestMethod]
    public void BadIndicesAreRefusedWithTheOpAndShapes()
    {
        var x = new Variable(Tensor.Zeros(2, 3), requiresGrad: true);
        var outOfRange = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => F.Gather(x, 1, Tensor.FromArray([0f, 3f], 1, 2)));
        StringAssert.Contains(outOfRange.Message, "Gather: index entry 1 is 3");
        var fraction = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => F.Gather(x, 1, Tensor.FromArray([0.5f], 1, 1)));
        StringAssert.Contains(fraction.Message, "whole numbers");
        var rank = Assert.ThrowsExactly<ArgumentException>(() => F.Gather(x, 0, Tensor.FromArray([0f], 1)));
        StringAssert.Contains(rank.Message, "rank 1");
        Assert.ThrowsExactly<ArgumentException>(() => F.Split(x, [1, 1], 1));
        Assert.ThrowsExactly<ArgumentException>(() => F.Expand(x, 4, 3));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => F.TopK(x, 4));
        Assert.ThrowsExactly<ArgumentException>(() => F.Stack([x, new Variable(Tensor.Zeros(3, 2))]));
    }

    private static Variable Apply(ParityCase c, Variable[] x) => c.Op switch
    {
        "argmax" => new(c.Attrs.TryGetProperty("dim", out _) ? F.ArgMax(x[0], c.IntAttr("dim"), KeepDim(c)) : F.ArgMax(x[0])),
        "argmin" => new(c.Attrs.TryGetProperty("dim", out _) ? F.ArgMin(x[0], c.IntAttr("dim"), KeepDim(c)) : F.ArgMin(x[0])),
        "topk_values" => F.TopK(x[0], c.IntAttr("k"), c.IntAttr("dim"), c.BoolAttr("largest")).Values,
        "topk_indices" => new(F.TopK(x[0], c.IntAttr("k"), c.IntAttr("dim"), c.BoolAttr("largest")).Indices),
        "eq" => F.Eq(x[0], x[1]),
        "ne" => F.Ne(x[0], x[1]),
        "lt" => F.Lt(x[0], x[1]),
        "le" => F.Le(x[0], x[1]),
        "gt" => F.Gt(x[0], x[1]),
        "ge" => F.Ge(x[0], x[1]),
        "where" => F.Where(x[0].Value, x[1], x[2]),
        "masked_fill" => F.MaskedFill(x[0], x[1].Value, c.Attrs.GetProperty("value").ValueKind == System.Text.Json.JsonValueKind.String
            ? float.Parse(c.StringAttr("value"), System.Globalization.CultureInfo.InvariantCulture) : c.FloatAttr("value")),
        "gather" => F.Gather(x[0], c.IntAttr("dim"), x[1].Value),
        "scatter_add" => F.ScatterAdd(x[0], c.IntAttr("dim"), x[1].Value, x[2]),
        "stack" => F.Stack(x, c.IntAttr("dim")),
        "split_cat" => F.Concat(F.Split(x[0], c.IntAttr("size"), c.IntAttr("dim")).Select((t, j) => t * (j + 1f)).ToArray(), c.IntAttr("dim")),
        "chunk_cat" => F.Concat(F.Chunk(x[0], c.IntAttr("chunks"), c.IntAttr("dim")).Select((t, j) => t * (j + 1f)).ToArray(), c.IntAttr("dim")),
        "expand" => F.Expand(x[0], c.IntsAttr("shape")!),
        "repeat" => F.Repeat(x[0], c.IntsAttr("repeats")!),
        "tril" => F.Tril(x[0], c.IntAttr("diagonal")),
        "triu" => F.Triu(x[0], c.IntAttr("diagonal")),
        "cumsum" => F.Cumsum(x[0], c.IntAttr("dim")),
        _ => throw new NotSupportedException(c.Op),
    };

    private static bool KeepDim(ParityCase c) => c.Attrs.TryGetProperty("keepdim", out var k) && k.GetBoolean();
}
