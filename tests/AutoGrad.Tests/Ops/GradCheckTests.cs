using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Ops;

/// <summary>
/// One row per op and option: the analytic gradient from Backward must match central differences. Inputs are kept
/// away from kinks (0 for relu/abs, the clamp bounds) and from ties (max/min), where a derivative does not exist.
/// </summary>
[TestClass]
[TestCategory("GradCheck")]
public sealed class GradCheckTests
{
    private sealed record Row(Func<Variable[], Variable> Function, Func<Generator, Variable[]> Inputs, GradCheckOptions? Options = null);

    private static readonly Dictionary<string, Row> Rows = new()
    {
        // arithmetic with broadcasting
        ["add/same"] = new(a => a[0] + a[1], g => [N(g, 2, 3), N(g, 2, 3)]),
        ["add/row"] = new(a => a[0] + a[1], g => [N(g, 2, 3), N(g, 3)]),
        ["add/column_by_row"] = new(a => a[0] + a[1], g => [N(g, 4, 1), N(g, 1, 5)]),
        ["add/scalar_tensor"] = new(a => a[0] + a[1], g => [N(g), N(g, 2, 3)]),
        ["add/rank3_with_rank2"] = new(a => a[0] + a[1], g => [N(g, 2, 1, 3), N(g, 4, 1)]),
        ["sub/broadcast"] = new(a => a[0] - a[1], g => [N(g, 3, 1), N(g, 1, 4)]),
        ["mul/broadcast"] = new(a => a[0] * a[1], g => [N(g, 2, 1, 3), N(g, 4, 3)]),
        ["mul/size1_both_sides"] = new(a => a[0] * a[1], g => [N(g, 1, 3, 1), N(g, 2, 1, 4)]),
        ["mul/self"] = new(a => a[0] * a[0], g => [N(g, 2, 3)]),
        ["mul/one_input_constant"] = new(a => a[0] * a[1], g => [N(g, 2, 3), Constant(N(g, 3))]),
        ["div/broadcast"] = new(a => a[0] / a[1], g => [N(g, 2, 3), Away(g, 0.5f, 3)]),
        ["div/self_shared"] = new(a => (a[0] + 3f) / (a[0] * a[0] + 1f), g => [N(g, 5)]),
        ["diamond"] = new(a => (a[0] * 2f) * (a[0] + 3f) - a[0].Exp(), g => [N(g, 4)]),
        ["add_scalar"] = new(a => a[0] + 2.5f, g => [N(g, 3)]),
        ["sub_scalar"] = new(a => a[0] - 2.5f, g => [N(g, 3)]),
        ["rsub_scalar"] = new(a => 2.5f - a[0], g => [N(g, 3)]),
        ["mul_scalar"] = new(a => a[0] * -1.5f, g => [N(g, 3)]),
        ["div_scalar"] = new(a => a[0] / 4f, g => [N(g, 3)]),
        ["rdiv_scalar"] = new(a => 2f / a[0], g => [Away(g, 0.5f, 4)]),
        ["neg"] = new(a => -a[0], g => [N(g, 2, 2)]),

        // elementwise functions
        ["exp"] = new(a => a[0].Exp(), g => [N(g, 3, 2)]),
        ["log"] = new(a => a[0].Log(), g => [Positive(g, 0.2f, 3, 2)]),
        ["pow/2"] = new(a => a[0].Pow(2f), g => [N(g, 5)]),
        ["pow/3"] = new(a => a[0].Pow(3f), g => [N(g, 5)]),
        ["pow/0.5"] = new(a => a[0].Pow(0.5f), g => [Positive(g, 0.3f, 5)]),
        ["pow/-1.5"] = new(a => a[0].Pow(-1.5f), g => [Positive(g, 0.5f, 5)]),
        ["pow/0"] = new(a => a[0].Pow(0f), g => [N(g, 5)]),
        ["sqrt"] = new(a => a[0].Sqrt(), g => [Positive(g, 0.3f, 2, 3)]),
        ["abs"] = new(a => a[0].Abs(), g => [Away(g, 0.1f, 2, 3)]),
        ["clamp/both"] = new(a => a[0].Clamp(-0.5f, 0.5f), g => [AwayFrom(g, [-0.5f, 0.5f], 3, 4)]),
        ["clamp/min"] = new(a => a[0].Clamp(min: 0.2f), g => [AwayFrom(g, [0.2f], 3, 4)]),
        ["clamp/max"] = new(a => a[0].Clamp(max: -0.1f), g => [AwayFrom(g, [-0.1f], 3, 4)]),
        ["relu"] = new(a => a[0].Relu(), g => [Away(g, 0.1f, 3, 4)]),
        ["tanh"] = new(a => a[0].Tanh(), g => [N(g, 3, 4)]),
        ["sigmoid"] = new(a => a[0].Sigmoid(), g => [N(g, 3, 4)]),
        ["sigmoid/large"] = new(a => a[0].Sigmoid(), g => [Var([-30f, -8f, 8f, 30f], 4)]),

        // matrix products
        ["matmul/2d"] = new(a => a[0].MatMul(a[1]), g => [N(g, 3, 4), N(g, 4, 5)]),
        ["matmul/batched"] = new(a => a[0].MatMul(a[1]), g => [N(g, 2, 3, 4), N(g, 2, 4, 5)]),
        ["matmul/broadcast_batch"] = new(a => a[0].MatMul(a[1]), g => [N(g, 2, 3, 4), N(g, 1, 4, 2)]),
        ["matmul/batch_times_matrix"] = new(a => a[0].MatMul(a[1]), g => [N(g, 2, 3, 4), N(g, 4, 2)]),
        ["matmul/matrix_times_batch"] = new(a => a[0].MatMul(a[1]), g => [N(g, 3, 4), N(g, 2, 4, 2)]),
        ["matmul/rank4_broadcast"] = new(a => a[0].MatMul(a[1]), g => [N(g, 2, 1, 2, 3), N(g, 3, 3, 2)]),
        ["matmul/matrix_vector"] = new(a => a[0].MatMul(a[1]), g => [N(g, 3, 4), N(g, 4)]),
        ["matmul/vector_matrix"] = new(a => a[0].MatMul(a[1]), g => [N(g, 4), N(g, 4, 3)]),
        ["matmul/dot"] = new(a => a[0].MatMul(a[1]), g => [N(g, 6), N(g, 6)]),
        ["matmul/shared_input"] = new(a => a[0].MatMul(a[0].Transpose(0, 1)), g => [N(g, 3, 4)]),

        // reductions
        ["sum/all"] = new(a => a[0].Sum(), g => [N(g, 2, 3, 4)]),
        ["sum/dim"] = new(a => a[0].Sum(1), g => [N(g, 2, 3, 4)]),
        ["sum/dim_keep"] = new(a => a[0].Sum(-1, keepDim: true), g => [N(g, 2, 3, 4)]),
        ["sum/two_dims"] = new(a => a[0].Sum([0, 2]), g => [N(g, 2, 3, 4)]),
        ["sum/size1_dim"] = new(a => a[0].Sum(1), g => [N(g, 3, 1, 2)]),
        ["sum/rank0"] = new(a => a[0].Sum(), g => [N(g)]),
        ["mean/all"] = new(a => a[0].Mean(), g => [N(g, 3, 4)]),
        ["mean/dims_keep"] = new(a => a[0].Mean([0, 2], keepDim: true), g => [N(g, 2, 3, 4)]),
        ["max/all"] = new(a => a[0].Max(), g => [Distinct(g, 3, 4)]),
        ["max/dim"] = new(a => a[0].Max(1), g => [Distinct(g, 3, 4)]),
        ["max/dims_keep"] = new(a => a[0].Max([0, 2], keepDim: true), g => [Distinct(g, 2, 3, 4)]),
        ["min/all"] = new(a => a[0].Min(), g => [Distinct(g, 3, 4)]),
        ["min/dim"] = new(a => a[0].Min(0), g => [Distinct(g, 3, 4)]),

        // shapes and indexing
        ["reshape"] = new(a => a[0].Reshape(4, -1) * a[1], g => [N(g, 2, 3, 2), N(g, 4, 3)]),
        ["transpose"] = new(a => a[0].Transpose(0, 2) * a[1], g => [N(g, 2, 3, 4), N(g, 4, 3, 2)]),
        ["permute"] = new(a => a[0].Permute(2, 0, 3, 1) * a[1], g => [N(g, 2, 3, 4, 5), N(g, 4, 2, 5, 3)]),
        ["squeeze"] = new(a => a[0].Squeeze() * a[1], g => [N(g, 1, 3, 1), N(g, 3)]),
        ["unsqueeze"] = new(a => a[0].Unsqueeze(1) * a[1], g => [N(g, 3), N(g, 3, 2)]),
        ["concat/dim1"] = new(a => F.Concat([a[0], a[1], a[2]], 1), g => [N(g, 2, 1), N(g, 2, 3), N(g, 2, 2)]),
        ["concat/dim0_shared"] = new(a => F.Concat([a[0], a[1], a[0]], 0), g => [N(g, 2, 3), N(g, 1, 3)]),
        ["slice/step2"] = new(a => a[0].Slice(1, 1, null, 2), g => [N(g, 3, 7)]),
        ["slice/negative_start"] = new(a => a[0].Slice(0, -3, -1), g => [N(g, 5, 2)]),
        ["index_select/repeats"] = new(a => a[0].IndexSelect(1, [2, 0, 2, -1]), g => [N(g, 2, 4, 2)]),

        // tensor ops (FTensorOps.cs); index and mask tensors are fixed
        ["where"] = new(a => F.Where(Tensor.FromArray([1f, 0f, 0f, 1f, 1f, 0f], 2, 3), a[0], a[1]), g => [N(g, 2, 3), N(g, 1, 3)]),
        ["masked_fill"] = new(a => F.MaskedFill(a[0] * a[0], Tensor.FromArray([1f, 0f, 1f], 3), 2f), g => [N(g, 2, 3)]),
        ["gather/dim1_repeats"] = new(a => F.Gather(a[0] * a[0], 1, Tensor.FromArray([2f, 2f, 0f, 1f, 3f, 3f], 2, 3)), g => [N(g, 2, 4)]),
        ["scatter_add/dim0"] = new(a => F.ScatterAdd(a[0], 0, Tensor.FromArray([1f, 0f, 1f, 1f, 1f, 0f], 2, 3), a[1] * a[1]), g => [N(g, 2, 3), N(g, 2, 4)]),
        ["stack"] = new(a => F.Stack([a[0], a[1] * a[0]], 1), g => [N(g, 2, 3), N(g, 2, 3)]),
        ["split"] = new(a => F.Split(a[0], 2, 1)[1] * F.Chunk(a[0], 3, 1)[0], g => [N(g, 3, 6)]),
        ["expand"] = new(a => F.Expand(a[0], 2, 3, 4) * a[1], g => [N(g, 3, 1), N(g, 2, 3, 4)]),
        ["repeat"] = new(a => F.Repeat(a[0] * a[0], 2, 1, 3), g => [N(g, 2, 2)]),
        ["tril"] = new(a => F.Tril(a[0] * a[0], -1), g => [N(g, 2, 3, 4)]),
        ["triu"] = new(a => F.Triu(a[0], 1) * a[0], g => [N(g, 4, 3)]),
        ["cumsum"] = new(a => F.Cumsum(a[0] * a[0], 1), g => [N(g, 2, 4, 3)]),
        ["topk"] = new(a => F.TopK(a[0].Exp(), 2, 1).Values, g => [Distinct(g, 3, 5)]),

        // layers composed of the ops above (FLayers.cs)
        ["embedding"] = new(a => F.Embedding(Tensor.FromArray([1f, 3f, 0f, 3f], 2, 2), a[0] * a[0]), g => [N(g, 4, 3)]),
        ["adaptive_avg_pool2d/uneven"] = new(a => F.AdaptiveAvgPool2d(a[0] * a[0], (3, 2)), g => [N(g, 2, 2, 7, 5)]),
        ["upsample_nearest"] = new(a => F.UpsampleNearest(a[0] * a[0], (5, 7)), g => [N(g, 1, 2, 3, 4)]),
        ["dropout2d"] = new(a => F.Dropout2d(a[0] * a[0], 0.5f, true, new Generator(7)), g => [N(g, 2, 4, 2, 2)]),

        // a small network: every piece together
        ["mlp"] = new(a => (a[0].MatMul(a[1]) + a[2]).Tanh().MatMul(a[3]).Sigmoid().Mean(), g => [N(g, 4, 3), N(g, 3, 5), N(g, 5), N(g, 5, 2)]),
    };

    public static IEnumerable<object[]> RowNames => Rows.Keys.Select(k => new object[] { k });

    [TestMethod]
    [DynamicData(nameof(RowNames))]
    public void AnalyticGradientMatchesCentralDifferences(string row)
    {
        var (function, inputs, options) = Rows[row];
        var generator = new Generator(TestUtil.StableSeed(row));
        var report = GradCheck.Run(function, inputs(generator), options);
        Assert.IsTrue(report.Passed, $"{row}: {report}");
        Assert.IsNotEmpty(report.Inputs);
    }

    /// <summary>
    /// The same rows, one order higher: the backward recorded with createGraph must itself have the right gradients
    /// (PyTorch's gradgradcheck), with respect to the inputs and to the output gradient.
    /// </summary>
    [TestMethod]
    [DynamicData(nameof(RowNames))]
    public void SecondDerivativesMatchCentralDifferences(string row)
    {
        var (function, inputs, options) = Rows[row];
        var generator = new Generator(TestUtil.StableSeed(row));
        var report = GradGradCheck.Run(function, inputs(generator), options);
        Assert.IsTrue(report.Passed, $"{row}: {report}");
    }

    [TestMethod]
    public void GradGradCheckDetectsAWrongSecondDerivative()
    {
        // x * x * detach(x): the recorded gradient 2 x detach(x) has derivative 2x, its values change as 4x
        var x = new Variable(Tensor.FromArray([0.5f, 1f, 1.5f]), requiresGrad: true);
        var report = GradGradCheck.Run(a => a[0] * a[0] * a[0].Detach(), [x]);
        Assert.IsFalse(report.Passed, report.ToString());
    }

    [TestMethod]
    public void GradCheckDetectsAWrongGradient()
    {
        // A deliberately wrong "gradient": detaching half of x*x makes backward return x instead of 2x.
        var x = new Variable(Tensor.FromArray([1f, 2f, 3f]), requiresGrad: true);
        var report = GradCheck.Run(a => a[0] * a[0].Detach(), [x]);
        Assert.IsFalse(report.Passed);
        Assert.AreEqual(0, report.Inputs[0].InputIndex);
        Assert.ThrowsExactly<GradCheckException>(() => GradCheck.Assert(a => a[0] * a[0].Detach(), x));
        Assert.IsNull(x.Grad, "GradCheck restores the inputs' gradients");
    }

    private static Variable N(Generator g, params int[] shape) => new(Tensor.Randn(g, shape), requiresGrad: true);

    private static Variable Var(float[] data, params int[] shape) => new(Tensor.FromArray(data, shape), requiresGrad: true);

    private static Variable Constant(Variable v) => v.Detach();

    /// <summary>Normal values pushed at least <paramref name="margin"/> away from 0.</summary>
    private static Variable Away(Generator g, float margin, params int[] shape)
    {
        var t = Tensor.Randn(g, shape);
        var s = t.AsSpan();
        for (int i = 0; i < s.Length; i++)
        {
            s[i] = s[i] >= 0 ? s[i] + margin : s[i] - margin;
        }
        return new(t, requiresGrad: true);
    }

    private static Variable Positive(Generator g, float low, params int[] shape) => new(Tensor.Uniform(shape, low, low + 2.5f, g), requiresGrad: true);

    /// <summary>Uniform values in [-1.5, 1.5] at least 0.05 from each of <paramref name="points"/>.</summary>
    private static Variable AwayFrom(Generator g, float[] points, params int[] shape)
    {
        var t = Tensor.Zeros(shape);
        var s = t.AsSpan();
        for (int i = 0; i < s.Length; i++)
        {
            float v;
            do
            {
                v = -1.5f + 3f * g.NextFloat();
            }
            while (points.Any(p => MathF.Abs(v - p) < 0.05f));
            s[i] = v;
        }
        return new(t, requiresGrad: true);
    }

    /// <summary>A shuffled grid with spacing 0.1, so a ±eps step never changes which element is the max or min.</summary>
    private static Variable Distinct(Generator g, params int[] shape)
    {
        int n = Shapes.Numel(shape);
        var values = Enumerable.Range(0, n).Select(i => (i - n / 2) * 0.1f).ToArray();
        g.Shuffle(values.AsSpan());
        return new(Tensor.FromArray(values, shape), requiresGrad: true);
    }
}
