using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Ops;

/// <summary>
/// Gradient checks for the neural-network ops, every option: strides 1 and 2, padding 0/1/2, non-square kernels,
/// batch and channels above 1. Max-pool inputs avoid ties (a tie has no derivative); ties are tested on their own.
/// </summary>
[TestClass]
[TestCategory("GradCheck")]
public sealed class NnGradCheckTests
{
    private sealed record Row(Func<Variable[], Variable> Function, Func<Generator, Variable[]> Inputs);

    private static readonly Dictionary<string, Row> Rows = new()
    {
        ["conv2d/basic"] = new(a => F.Conv2d(a[0], a[1], a[2]), g => [N(g, 2, 2, 5, 5), N(g, 3, 2, 3, 3), N(g, 3)]),
        ["conv2d/stride2_pad1"] = new(a => F.Conv2d(a[0], a[1], a[2], stride: 2, padding: 1), g => [N(g, 2, 3, 6, 5), N(g, 2, 3, 3, 3), N(g, 2)]),
        ["conv2d/pad2_no_bias"] = new(a => F.Conv2d(a[0], a[1], padding: 2), g => [N(g, 1, 1, 4, 4), N(g, 2, 1, 3, 3)]),
        ["conv2d/non_square"] = new(a => F.Conv2d(a[0], a[1], a[2], (1, 2), (1, 0), (1, 1)), g => [N(g, 2, 2, 5, 6), N(g, 3, 2, 3, 2), N(g, 3)]),
        ["conv2d/dilation2"] = new(a => F.Conv2d(a[0], a[1], null, (1, 1), (2, 1), (2, 2)), g => [N(g, 1, 2, 6, 6), N(g, 2, 2, 3, 2)]),
        ["conv2d/1x1"] = new(a => F.Conv2d(a[0], a[1], a[2]), g => [N(g, 3, 4, 3, 2), N(g, 2, 4, 1, 1), N(g, 2)]),
        // sixteen channels in and out: the forward and the input gradient both take the channel-lanes kernel (the input
        // gradient as the forward of the transposed layer), also with a kernel wider than high and no padding along the width
        ["conv2d/channel_lanes_both_ways"] = new(a => F.Conv2d(a[0], a[1], a[2], padding: 1), g => [N(g, 2, 16, 5, 4), N(g, 16, 16, 3, 3), N(g, 16)]),
        ["conv2d/channel_lanes_both_ways_non_square"] = new(a => F.Conv2d(a[0], a[1], null, (1, 1), (1, 0), (1, 1)),
            g => [N(g, 1, 16, 4, 6), N(g, 16, 16, 2, 3)]),
        ["conv2d/unbatched"] = new(a => F.Conv2d(a[0], a[1], a[2], padding: 1), g => [N(g, 2, 4, 4), N(g, 3, 2, 3, 3), N(g, 3)]),
        // transposed convolution: weight [in, out / groups, kh, kw]
        ["conv_transpose2d/basic"] = new(a => F.ConvTranspose2d(a[0], a[1], a[2]), g => [N(g, 2, 2, 4, 4), N(g, 2, 3, 3, 3), N(g, 3)]),
        ["conv_transpose2d/stride2_pad1_out_pad1"] = new(a => F.ConvTranspose2d(a[0], a[1], a[2], stride: 2, padding: 1, outputPadding: 1),
            g => [N(g, 2, 3, 3, 4), N(g, 3, 2, 3, 3), N(g, 2)]),
        ["conv_transpose2d/dilation2_no_bias"] = new(a => F.ConvTranspose2d(a[0], a[1], dilation: 2, padding: 1), g => [N(g, 1, 2, 4, 3), N(g, 2, 2, 3, 2)]),
        ["conv_transpose2d/groups2"] = new(a => F.ConvTranspose2d(a[0], a[1], a[2], stride: 2, groups: 2), g => [N(g, 2, 4, 3, 3), N(g, 4, 3, 2, 2), N(g, 6)]),
        ["conv_transpose2d/non_square"] = new(a => F.ConvTranspose2d(a[0], a[1], a[2], (2, 1), (1, 0), (1, 0), 1, (1, 2)),
            g => [N(g, 2, 2, 3, 4), N(g, 2, 3, 3, 2), N(g, 3)]),
        ["conv_transpose2d/unbatched"] = new(a => F.ConvTranspose2d(a[0], a[1], a[2], padding: 1), g => [N(g, 2, 4, 4), N(g, 2, 3, 3, 3), N(g, 3)]),
        // sixteen input channels: the adjoint convolution's output channels fill the vector lanes (ChannelLanesAlgorithm)
        ["conv_transpose2d/wide"] = new(a => F.ConvTranspose2d(a[0], a[1], a[2], padding: 1), g => [N(g, 1, 16, 3, 3), N(g, 16, 2, 3, 3), N(g, 2)]),
        ["max_pool2d/2x2"] = new(a => F.MaxPool2d(a[0], 2), g => [Distinct(g, 2, 3, 4, 6)]),
        ["max_pool2d/3x3_s2_p1"] = new(a => F.MaxPool2d(a[0], 3, 2, 1), g => [Distinct(g, 2, 2, 5, 5)]),
        ["max_pool2d/overlapping"] = new(a => F.MaxPool2d(a[0], 3, 1), g => [Distinct(g, 1, 2, 5, 4)]),
        // ReLU fused into max pooling (what a Sequential runs); the shift keeps every value 0.05 from ReLU's kink
        ["max_pool2d/after_relu_2x2"] = new(a => F.MaxPool2dAfterRelu(a[0] + 0.05f, 2, 2, 0), g => [Distinct(g, 2, 3, 4, 6)]),
        ["max_pool2d/after_relu_3x3_s2_p1"] = new(a => F.MaxPool2dAfterRelu(a[0] + 0.05f, 3, 2, 1), g => [Distinct(g, 2, 2, 5, 5)]),
        // Conv2d + ReLU + MaxPool2d(2) as one node (the composition where the fused node does not apply: no AVX-512)
        ["conv2d/relu_max_pool2d_fused"] = new(a => F.Conv2dReluMaxPool2(a[0], a[1], a[2], (1, 1), (1, 1), (1, 1))
            ?? F.MaxPool2d(F.Relu(F.Conv2d(a[0], a[1], a[2], 1, 1)), 2), g => [N(g, 2, 1, 4, 4), N(g, 2, 1, 3, 3), N(g, 2)]),
        ["max_pool2d/non_square"] = new(a => F.MaxPool2d(a[0], (2, 3), (1, 2), (1, 1)), g => [Distinct(g, 2, 1, 4, 7)]),
        ["avg_pool2d/2x2"] = new(a => F.AvgPool2d(a[0], 2), g => [N(g, 2, 3, 4, 6)]),
        ["avg_pool2d/3x3_s2_p1"] = new(a => F.AvgPool2d(a[0], 3, 2, 1), g => [N(g, 2, 2, 5, 5)]),
        ["avg_pool2d/non_square"] = new(a => F.AvgPool2d(a[0], (2, 3), (1, 2), (1, 1)), g => [N(g, 2, 1, 4, 7)]),
        ["flatten"] = new(a => F.Flatten(a[0]) * a[1], g => [N(g, 2, 3, 2, 2), N(g, 2, 12)]),
        // the fused attention node (no mask, no dropout): plain, causal with more keys than queries, and 4-D heads
        ["sdpa/fused"] = new(a => F.ScaledDotProductAttention(a[0], a[1], a[2]), g => [N(g, 2, 3, 4), N(g, 2, 5, 4), N(g, 2, 5, 3)]),
        ["sdpa/fused_causal"] = new(a => F.ScaledDotProductAttention(a[0], a[1], a[2], isCausal: true), g => [N(g, 2, 4, 3), N(g, 2, 5, 3), N(g, 2, 5, 2)]),
        ["sdpa/fused_heads"] = new(a => F.ScaledDotProductAttention(a[0], a[1], a[2], isCausal: true), g => [N(g, 2, 2, 3, 4), N(g, 2, 2, 3, 4), N(g, 2, 2, 3, 4)]),
        ["softmax/last"] = new(a => F.Softmax(a[0], -1), g => [N(g, 3, 5)]),
        ["softmax/middle"] = new(a => F.Softmax(a[0], 1), g => [N(g, 2, 4, 3)]),
        ["log_softmax/last"] = new(a => F.LogSoftmax(a[0], -1), g => [N(g, 3, 5)]),
        ["log_softmax/first"] = new(a => F.LogSoftmax(a[0], 0), g => [N(g, 4, 3)]),
        ["cross_entropy/mean"] = new(a => F.CrossEntropy(a[0], [2, 0, 4, 1]), g => [N(g, 4, 5)]),
        ["cross_entropy/sum_smoothing"] = new(a => F.CrossEntropy(a[0], [2, 0, 4], Reduction.Sum, 0.1f), g => [N(g, 3, 5)]),
        ["cross_entropy/none_ignore"] = new(a => F.CrossEntropy(a[0], [2, -100, 1], Reduction.None), g => [N(g, 3, 4)]),
        ["cross_entropy/probabilities"] = new(a => F.CrossEntropy(a[0], F.Softmax(a[1], 1), Reduction.Mean, 0.2f), g => [N(g, 3, 4), N(g, 3, 4)]),
        ["nll_loss"] = new(a => F.NllLoss(F.LogSoftmax(a[0], 1), [1, 0, 2]), g => [N(g, 3, 3)]),
        ["mse_loss/mean"] = new(a => F.MseLoss(a[0], a[1]), g => [N(g, 3, 4), N(g, 3, 4)]),
        ["mse_loss/sum"] = new(a => F.MseLoss(a[0], a[1], Reduction.Sum), g => [N(g, 5), N(g, 5)]),
        ["bce/mean"] = new(a => F.BinaryCrossEntropy(a[0].Sigmoid(), a[1]), g => [N(g, 3, 4), U(g, 3, 4).Detach()]),
        ["bce/none"] = new(a => F.BinaryCrossEntropy(a[0].Sigmoid(), a[1], Reduction.None), g => [N(g, 6), U(g, 6).Detach()]),
        ["bce/target_grad"] = new(a => F.BinaryCrossEntropy(a[0].Sigmoid(), a[1]), g => [N(g, 6).Detach(), U(g, 6)]),
        ["bce_with_logits/mean"] = new(a => F.BinaryCrossEntropyWithLogits(a[0], a[1]), g => [N(g, 3, 4), U(g, 3, 4)]),
        ["bce_with_logits/sum"] = new(a => F.BinaryCrossEntropyWithLogits(a[0], a[1], Reduction.Sum), g => [N(g, 5), U(g, 5)]),
        // a fresh generator per call: every evaluation draws the same mask
        ["dropout"] = new(a => F.Dropout(a[0], 0.3f, training: true, new Generator(3)) * a[0], g => [N(g, 4, 5)]),
        ["leaky_relu"] = new(a => F.LeakyRelu(a[0], 0.2f), g => [Away(g, 3, 4)]),
        ["gelu/exact"] = new(a => F.Gelu(a[0]), g => [N(g, 3, 4)]),
        ["gelu/tanh"] = new(a => F.Gelu(a[0], GeluApproximation.Tanh), g => [N(g, 3, 4)]),
        ["softplus"] = new(a => F.Softplus(a[0]), g => [N(g, 3, 4)]),
        ["softplus/beta2_threshold"] = new(a => F.Softplus(a[0], 2f, 1f), g => [Var([-2f, -0.3f, 0.2f, 0.45f, 0.55f, 2f])]),
        ["elu"] = new(a => F.Elu(a[0], 0.5f), g => [Away(g, 3, 4)]),
        // normalization: batch statistics (training), running statistics as constants (evaluation), with and without affine
        ["batch_norm/train_2d"] = new(a => F.BatchNorm(a[0], null, null, a[1], a[2], training: true), g => [N(g, 3, 2, 2, 3), N(g, 2), N(g, 2)]),
        ["batch_norm/train_1d_no_affine"] = new(a => F.BatchNorm(a[0], null, null, training: true), g => [N(g, 4, 3)]),
        ["batch_norm/train_weight_only"] = new(a => F.BatchNorm(a[0], null, null, a[1], training: true), g => [N(g, 3, 2, 4), N(g, 2)]),
        ["batch_norm/eval"] = new(a => F.BatchNorm(a[0], Tensor.FromArray([0.3f, -0.2f]), Tensor.FromArray([0.8f, 1.7f]), a[1], a[2]),
            g => [N(g, 2, 2, 2, 3), N(g, 2), N(g, 2)]),
        ["layer_norm/last"] = new(a => F.LayerNorm(a[0], [5], a[1], a[2]), g => [N(g, 3, 5), N(g, 5), N(g, 5)]),
        ["layer_norm/two_dims_no_affine"] = new(a => F.LayerNorm(a[0], [3, 2]), g => [N(g, 2, 2, 3, 2)]),
        ["group_norm/2_groups"] = new(a => F.GroupNorm(a[0], 2, a[1], a[2]), g => [N(g, 2, 4, 3), N(g, 4), N(g, 4)]),
        ["group_norm/bias_only"] = new(a => F.GroupNorm(a[0], 3, null, a[1]), g => [N(g, 2, 3, 4), N(g, 3)]),
        ["group_norm/1_group_no_affine"] = new(a => F.GroupNorm(a[0], 1), g => [N(g, 2, 3, 2, 2)]),
        ["lenet_like"] = new(a => F.CrossEntropy(F.Flatten(F.MaxPool2d(F.Conv2d(a[0], a[1], a[2], padding: 1).Relu(), 2)).MatMul(a[3]), [0, 2]),
            g => [N(g, 2, 1, 4, 4), N(g, 2, 1, 3, 3), N(g, 2), N(g, 8, 3)]),
    };

    public static IEnumerable<object[]> RowNames => Rows.Keys.Select(k => new object[] { k });

    [TestMethod]
    [DynamicData(nameof(RowNames))]
    public void AnalyticGradientMatchesCentralDifferences(string row)
    {
        var (function, inputs) = Rows[row];
        var generator = new Generator(TestUtil.StableSeed(row));
        var report = GradCheck.Run(function, inputs(generator));
        Assert.IsTrue(report.Passed, $"{row}: {report}");
    }

    /// <summary>The same rows one order higher (PyTorch's gradgradcheck); see GradCheckTests.</summary>
    [TestMethod]
    [DynamicData(nameof(RowNames))]
    public void SecondDerivativesMatchCentralDifferences(string row)
    {
        var (function, inputs) = Rows[row];
        var generator = new Generator(TestUtil.StableSeed(row));
        var report = GradGradCheck.Run(function, inputs(generator));
        Assert.IsTrue(report.Passed, $"{row}: {report}");
    }


    [TestMethod]
    public void MaxPoolGivesTiedGradientToTheFirstMaximum()
    {
        // Each 2x2 window holds a tie; PyTorch routes the gradient to the first maximum in row-major order.
        var x = new Variable(Tensor.FromArray([1f, 5f, 5f, 2f, 5f, 0f, 3f, 5f, 7f, 7f, 7f, 7f, 7f, 7f, 7f, 7f], 1, 1, 4, 4), requiresGrad: true);
        var y = F.MaxPool2d(x, 2);
        TestUtil.AssertClose(Tensor.FromArray([5f, 5f, 7f, 7f], 1, 1, 2, 2), y.Value);
        y.Backward(Tensor.FromArray([1f, 2f, 3f, 4f], 1, 1, 2, 2));
        TestUtil.AssertClose(Tensor.FromArray([0f, 1f, 2f, 0f, 0f, 0f, 0f, 0f, 3f, 0f, 4f, 0f, 0f, 0f, 0f, 0f], 1, 1, 4, 4), x.Grad!);
    }

    [TestMethod]
    public void SoftmaxOfHugeLogitsIsFinite()
    {
        var x = new Variable(Tensor.FromArray([1000f, -1000f, 0f, 999f], 1, 4), requiresGrad: true);
        var p = F.Softmax(x, 1);
        var logp = F.LogSoftmax(x, 1);
        Assert.IsTrue(p.Value.ToArray().All(float.IsFinite));
        Assert.IsTrue(logp.Value.ToArray().All(float.IsFinite));
        Assert.AreEqual(1f / (1f + MathF.Exp(-1f)), p.Value[0, 0], 1e-6f);
        Assert.AreEqual(-2000f - MathF.Log(1f + MathF.Exp(-1f)), logp.Value[0, 1], 1e-3f);
        F.CrossEntropy(x, [1]).Backward();
        Assert.IsTrue(x.Grad!.ToArray().All(float.IsFinite));
    }

    [TestMethod]
    public void CrossEntropyEqualsTheCompositeOfLogSoftmaxAndNll()
    {
        var generator = new Generator(5);
        var logits = new Variable(Tensor.Randn(generator, 6, 4), requiresGrad: true);
        int[] targets = [3, 0, 1, 1, 2, 0];
        var fused = F.CrossEntropy(logits, targets);
        fused.Backward();
        var fusedGrad = logits.Grad!.Clone();
        logits.Grad = null;
        var composite = F.NllLoss(F.LogSoftmax(logits, 1), targets);
        composite.Backward();
        Assert.AreEqual(composite.Item(), fused.Item(), 1e-6f);
        TestUtil.AssertClose(logits.Grad!, fusedGrad, 1e-6, 1e-5);
    }

    [TestMethod]
    public void DropoutIsSeededScaledAndOffInEvaluation()
    {
        var x = new Variable(Tensor.Ones(100, 100), requiresGrad: true);
        var a = F.Dropout(x, 0.3f, training: true, new Generator(9));
        var b = F.Dropout(x, 0.3f, training: true, new Generator(9));
        CollectionAssert.AreEqual(a.Value.ToArray(), b.Value.ToArray());
        var values = a.Value.ToArray();
        double dropped = values.Count(v => v == 0) / (double)values.Length;
        Assert.AreEqual(0.3, dropped, 0.02);
        Assert.IsTrue(values.Where(v => v != 0).All(v => MathF.Abs(v - 1f / 0.7f) < 1e-6f));
        Assert.AreSame(x, F.Dropout(x, 0.3f, training: false));
        a.Sum().Backward();
        CollectionAssert.AreEqual(values, x.Grad!.ToArray(), "the gradient passes exactly where the mask kept the value");
    }

    private static Variable N(Generator g, params int[] shape) => new(Tensor.Randn(g, shape), requiresGrad: true);

    private static Variable U(Generator g, params int[] shape) => new(Tensor.Rand(g, shape), requiresGrad: true);

    private static Variable Var(float[] data) => new(Tensor.FromArray(data), requiresGrad: true);

    private static Variable Away(Generator g, params int[] shape)
    {
        var t = Tensor.Randn(g, shape);
        var s = t.AsSpan();
        for (int i = 0; i < s.Length; i++)
        {
            s[i] += s[i] >= 0 ? 0.1f : -0.1f;
        }
        return new(t, requiresGrad: true);
    }

    private static Variable Distinct(Generator g, params int[] shape)
    {
        int n = Shapes.Numel(shape);
        var values = Enumerable.Range(0, n).Select(i => (i - n / 2) * 0.1f).ToArray();
        g.Shuffle(values.AsSpan());
        return new(Tensor.FromArray(values, shape), requiresGrad: true);
    }
}
