using AutoGrad.Graph;
using AutoGrad.Kernels;
using AutoGrad.Ops;

namespace AutoGrad;

// The neural-network half of the functional API (torch.nn.functional): convolution, pooling, softmax, losses and
// the remaining activations. Arguments are validated here with messages naming the op, the shapes and the value.
public static partial class F
{
    // ---- fully connected -------------------------------------------------------------------------------------------

    /// <summary>
    /// The affine map y = x W^T + b (PyTorch's linear) of input [..., in] with weight [out, in] and an optional bias
    /// [out]; the output is [..., out]. Leading dims are folded into one GEMM.
    /// </summary>
    /// <remarks>
    /// With <paramref name="activation"/> the activation is applied in the same node (an epilogue): the result equals
    /// <c>F.Relu(F.Linear(...))</c> bit for bit without the intermediate tensor. The fast path in a Module of your own.
    /// </remarks>
    public static Variable Linear(Variable input, Variable weight, Variable? bias = null, Activation activation = Activation.None)
    {
        NotNull(input);
        NotNull(weight);
        if (weight.Rank != 2)
        {
            throw new ArgumentException(CallSite.Tag($"Linear: weight must be [out_features, in_features]; got shape {Shapes.Format(weight.Shape)}."));
        }
        if (input.Rank == 0 || input.Shape[^1] != weight.Shape[1])
        {
            throw new ArgumentException(
                CallSite.Tag($"Linear: input {Shapes.Format(input.Shape)} must end in in_features = {weight.Shape[1]} to match weight {Shapes.Format(weight.Shape)}."));
        }
        if (bias is not null && (bias.Rank != 1 || bias.Shape[0] != weight.Shape[0]))
        {
            throw new ArgumentException(CallSite.Tag($"Linear: bias must be [{weight.Shape[0]}] to match weight {Shapes.Format(weight.Shape)}; got {Shapes.Format(bias.Shape)}."));
        }
        bool relu = IsRelu(activation, "Linear");
        if (input.Rank == 2)
        {
            return Ops.LinearFunction.Apply(input, weight, bias, relu);
        }
        var leading = input.Shape[..^1].ToArray();
        var folded = Reshape(input, -1, weight.Shape[1]);
        var output = Ops.LinearFunction.Apply(folded, weight, bias, relu);
        return Reshape(output, [.. leading, weight.Shape[0]]);
    }

    // ---- convolution and pooling -----------------------------------------------------------------------------------

    /// <summary>
    /// 2-D cross-correlation (PyTorch's conv2d) of input [N, C, H, W] (or unbatched [C, H, W]) with weight
    /// [O, C, kh, kw] and an optional bias [O]; the output is [N, O, OH, OW] with
    /// OH = (H + 2 padding - dilation (kh - 1) - 1) / stride + 1.
    /// </summary>
    /// <remarks>With <paramref name="activation"/> the activation is applied in the same node, as in <see cref="LinearFunction"/>.</remarks>
    public static Variable Conv2d(Variable input, Variable weight, Variable? bias = null, int stride = 1, int padding = 0, int dilation = 1,
        Activation activation = Activation.None)
        => Conv2d(input, weight, bias, (stride, stride), (padding, padding), (dilation, dilation), activation);

    /// <summary>2-D convolution with separate (height, width) stride, padding and dilation, and an optional activation in the same node.</summary>
    public static Variable Conv2d(Variable input, Variable weight, Variable? bias, (int H, int W) stride, (int H, int W) padding, (int H, int W) dilation,
        Activation activation = Activation.None)
    {
        bool relu = IsRelu(activation, "Conv2d");
        if (input?.Rank == 3)
        {
            return Squeeze(Conv2d(Unsqueeze(input, 0), weight, bias, stride, padding, dilation, activation), 0);
        }
        return Ops.Conv2dFunction.Apply(input!, weight, bias, ConvGeometryOf(input!, weight, bias, stride, padding, dilation), relu);
    }

    /// <summary>Whether <paramref name="activation"/> asks for ReLU (the only epilogue so far), after checking it is one.</summary>
    private static bool IsRelu(Activation activation, string op) => activation switch
    {
        Activation.None => false,
        Activation.Relu => true,
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, CallSite.Tag($"{op}: unknown activation {activation}.")),
    };

    /// <summary>
    /// Conv2d, ReLU and MaxPool2d(2) as one node (what a Sequential of the three runs), or null where that node does not
    /// apply (a batched input and the direct convolution's geometries only).
    /// </summary>
    internal static Variable? Conv2dReluMaxPool2(Variable input, Variable weight, Variable? bias, (int H, int W) stride, (int H, int W) padding, (int H, int W) dilation)
    {
        if (input?.Rank != 4)
        {
            return null;
        }
        var g = ConvGeometryOf(input, weight, bias, stride, padding, dilation);
        return Ops.Conv2dFunction.PoolFuses(g) ? Ops.Conv2dFunction.ApplyPooled(input, weight, bias, g) : null;
    }

    /// <summary>The geometry of a batched convolution, after checking its arguments.</summary>
    private static ConvGeometry ConvGeometryOf(Variable input, Variable weight, Variable? bias, (int H, int W) stride, (int H, int W) padding, (int H, int W) dilation)
    {
        NotNull(input);
        NotNull(weight);
        if (input.Rank != 4)
        {
            throw new ArgumentException(CallSite.Tag($"Conv2d: input must be [N, C, H, W] (or [C, H, W]); got shape {Shapes.Format(input.Shape)}."));
        }
        if (weight.Rank != 4)
        {
            throw new ArgumentException(CallSite.Tag($"Conv2d: weight must be [out_channels, in_channels, kh, kw]; got shape {Shapes.Format(weight.Shape)}."));
        }
        if (weight.Shape[1] != input.Shape[1])
        {
            throw new ArgumentException(
                CallSite.Tag($"Conv2d: input {Shapes.Format(input.Shape)} has {input.Shape[1]} channels but weight {Shapes.Format(weight.Shape)} expects {weight.Shape[1]} (weight dim 1)."));
        }
        if (bias is not null && (bias.Rank != 1 || bias.Shape[0] != weight.Shape[0]))
        {
            throw new ArgumentException(CallSite.Tag($"Conv2d: bias must be [{weight.Shape[0]}] to match weight {Shapes.Format(weight.Shape)}; got {Shapes.Format(bias.Shape)}."));
        }
        return Geometry("Conv2d", input.Shape, (weight.Shape[2], weight.Shape[3]), stride, padding, dilation);
    }

    /// <summary>Max pooling over [N, C, H, W] (or [C, H, W]); the stride defaults to the kernel size; padding is -infinity.</summary>
    public static Variable MaxPool2d(Variable input, int kernelSize, int? stride = null, int padding = 0)
        => MaxPool2d(input, (kernelSize, kernelSize), stride is int s ? (s, s) : null, (padding, padding));

    /// <summary>Max pooling with separate (height, width) kernel, stride and padding.</summary>
    public static Variable MaxPool2d(Variable input, (int H, int W) kernelSize, (int H, int W)? stride, (int H, int W) padding)
        => Pool(input, kernelSize, stride, padding, "MaxPool2d", max: true);

    /// <summary>ReLU then max pooling in one node (what a Sequential of ReLU and MaxPool2d runs): max(0, .) of the window maxima.</summary>
    internal static Variable MaxPool2dAfterRelu(Variable input, int kernelSize, int stride, int padding)
        => Pool(input, (kernelSize, kernelSize), (stride, stride), (padding, padding), "MaxPool2d", max: true, relu: true);

    /// <summary>Average pooling over [N, C, H, W] (or [C, H, W]); zero padding counts in the divisor (count_include_pad).</summary>
    public static Variable AvgPool2d(Variable input, int kernelSize, int? stride = null, int padding = 0)
        => AvgPool2d(input, (kernelSize, kernelSize), stride is int s ? (s, s) : null, (padding, padding));

    /// <summary>Average pooling with separate (height, width) kernel, stride and padding.</summary>
    public static Variable AvgPool2d(Variable input, (int H, int W) kernelSize, (int H, int W)? stride, (int H, int W) padding)
        => Pool(input, kernelSize, stride, padding, "AvgPool2d", max: false);

    private static Variable Pool(Variable input, (int H, int W) kernel, (int H, int W)? stride, (int H, int W) padding, string op, bool max,
        bool relu = false)
    {
        NotNull(input);
        if (input.Rank == 3)
        {
            return Squeeze(Pool(Unsqueeze(input, 0), kernel, stride, padding, op, max, relu), 0);
        }
        if (input.Rank != 4)
        {
            throw new ArgumentException(CallSite.Tag($"{op}: input must be [N, C, H, W] (or [C, H, W]); got shape {Shapes.Format(input.Shape)}."));
        }
        if (padding.H > kernel.H / 2 || padding.W > kernel.W / 2)
        {
            throw new ArgumentException(CallSite.Tag($"{op}: padding ({padding.H}, {padding.W}) must be at most half the kernel ({kernel.H}, {kernel.W})."));
        }
        var g = Geometry(op, input.Shape, kernel, stride ?? kernel, padding, (1, 1));
        return max ? Ops.MaxPool2dFunction.Apply(input, g, relu) : Ops.AvgPool2dFunction.Apply(input, g);
    }

    private static ConvGeometry Geometry(string op, ReadOnlySpan<int> shape, (int H, int W) kernel, (int H, int W) stride, (int H, int W) padding, (int H, int W) dilation)
    {
        if (kernel.H < 1 || kernel.W < 1 || stride.H < 1 || stride.W < 1 || padding.H < 0 || padding.W < 0 || dilation.H < 1 || dilation.W < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(kernel),
                CallSite.Tag($"{op}: need kernel >= 1, stride >= 1, padding >= 0, dilation >= 1; got kernel ({kernel.H}, {kernel.W}), stride ({stride.H}, {stride.W}), padding ({padding.H}, {padding.W}), dilation ({dilation.H}, {dilation.W})."));
        }
        var g = new ConvGeometry(shape[0], shape[1], shape[2], shape[3], kernel.H, kernel.W, stride.H, stride.W, padding.H, padding.W, dilation.H, dilation.W);
        int effectiveH = dilation.H * (kernel.H - 1) + 1, effectiveW = dilation.W * (kernel.W - 1) + 1;
        if (effectiveH > g.Height + 2 * padding.H || effectiveW > g.Width + 2 * padding.W)
        {
            throw new ArgumentException(
                CallSite.Tag($"{op}: kernel {effectiveH}x{effectiveW} (after dilation) is larger than the padded input {g.Height + 2 * padding.H}x{g.Width + 2 * padding.W} (input {Shapes.Format(shape)}, padding ({padding.H}, {padding.W}))."));
        }
        return g;
    }

    // ---- reshaping and regularization ------------------------------------------------------------------------------

    /// <summary>Merges dims startDim..endDim into one (by default everything after the batch dim).</summary>
    public static Variable Flatten(Variable x, int startDim = 1, int endDim = -1)
    {
        NotNull(x);
        if (x.Rank == 0)
        {
            return Reshape(x, 1);
        }
        int start = Shapes.NormalizeDim(startDim, x.Rank, "Flatten", x.Shape);
        int end = Shapes.NormalizeDim(endDim, x.Rank, "Flatten", x.Shape);
        if (start > end)
        {
            throw new ArgumentException(CallSite.Tag($"Flatten: startDim {startDim} comes after endDim {endDim} for shape {Shapes.Format(x.Shape)}."));
        }
        var shape = new List<int>();
        int merged = 1;
        for (int d = 0; d < x.Rank; d++)
        {
            if (d < start || d > end)
            {
                shape.Add(x.Shape[d]);
            }
            else
            {
                merged *= x.Shape[d];
                if (d == end)
                {
                    shape.Add(merged);
                }
            }
        }
        return Reshape(x, shape.ToArray());
    }

    /// <summary>
    /// Zeroes each element with probability p and scales the rest by 1/(1-p), in training mode only; in evaluation
    /// mode (training false) it is the identity. The mask comes from <paramref name="generator"/> (default: the thread's).
    /// </summary>
    public static Variable Dropout(Variable x, float p = 0.5f, bool training = true, Generator? generator = null)
    {
        NotNull(x);
        if (!(p >= 0 && p <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(p), CallSite.Tag($"Dropout: p must be in [0, 1]; got {p}."));
        }
        if (!training || p == 0)
        {
            return x;
        }
        return Ops.DropoutFunction.Apply(x, p, generator ?? Generator.Default);
    }

    // ---- softmax ---------------------------------------------------------------------------------------------------

    /// <summary>exp(x - max) / sum(exp(x - max)) along <paramref name="dim"/>: finite for any finite logits.</summary>
    public static Variable Softmax(Variable x, int dim) => SoftmaxAlong(x, dim, log: false);

    /// <summary>x - max - log(sum(exp(x - max))) along <paramref name="dim"/>.</summary>
    public static Variable LogSoftmax(Variable x, int dim) => SoftmaxAlong(x, dim, log: true);

    private static Variable SoftmaxAlong(Variable x, int dim, bool log)
    {
        int d = Shapes.NormalizeDim(dim, NotNull(x).Rank, log ? "LogSoftmax" : "Softmax", x.Shape);
        if (x.Rank == 0)
        {
            return Reshape(SoftmaxFunction.Apply(Reshape(x, 1), 0, log));
        }
        return SoftmaxFunction.Apply(x, d, log);
    }

    // ---- losses ----------------------------------------------------------------------------------------------------

    /// <summary>
    /// Cross-entropy from logits [N, C] and class indices (one per row): mean over the rows by default. Label
    /// smoothing mixes the one-hot target with the uniform distribution; rows whose target is
    /// <paramref name="ignoreIndex"/> contribute nothing (and are not counted by the mean).
    /// </summary>
    public static Variable CrossEntropy(Variable logits, int[] targets, Reduction reduction = Reduction.Mean, float labelSmoothing = 0f, int ignoreIndex = -100)
    {
        CheckClassTargets("CrossEntropy", NotNull(logits), targets, ignoreIndex);
        CheckSmoothing("CrossEntropy", labelSmoothing);
        var losses = Ops.CrossEntropyFunction.Apply(logits, (int[])targets.Clone(), ignoreIndex, labelSmoothing);
        return ReduceClassLoss(losses, targets, ignoreIndex, reduction);
    }

    /// <summary>
    /// Cross-entropy from logits [N, C] and a target tensor: class indices [N] (integral values), or class
    /// probabilities [N, C] with the same shape as the logits.
    /// </summary>
    public static Variable CrossEntropy(Variable logits, Tensor targets, Reduction reduction = Reduction.Mean, float labelSmoothing = 0f, int ignoreIndex = -100)
    {
        NotNull(logits);
        ArgumentNullException.ThrowIfNull(targets);
        if (targets.Rank == 2 && targets.Shape.SequenceEqual(logits.Shape))
        {
            return CrossEntropy(logits, new Variable(targets), reduction, labelSmoothing);
        }
        return CrossEntropy(logits, ClassIndices("CrossEntropy", targets), reduction, labelSmoothing, ignoreIndex);
    }

    /// <summary>Cross-entropy from logits [N, C] and class probabilities [N, C] (rows typically sum to 1); -sum(q log softmax(x)) per row.</summary>
    public static Variable CrossEntropy(Variable logits, Variable probabilities, Reduction reduction = Reduction.Mean, float labelSmoothing = 0f)
    {
        NotNull(logits);
        NotNull(probabilities);
        if (logits.Rank != 2 || !probabilities.Shape.SequenceEqual(logits.Shape))
        {
            throw new ArgumentException(
                CallSite.Tag($"CrossEntropy: probability targets must have the logits' shape [N, C]; got logits {Shapes.Format(logits.Shape)} and targets {Shapes.Format(probabilities.Shape)}."));
        }
        CheckSmoothing("CrossEntropy", labelSmoothing);
        var q = labelSmoothing == 0 ? probabilities : probabilities * (1f - labelSmoothing) + labelSmoothing / logits.Shape[1];
        var losses = -Sum(q * LogSoftmax(logits, 1), 1);
        return reduction switch
        {
            Reduction.Mean => Div(Sum(losses), logits.Shape[0]),
            Reduction.Sum => Sum(losses),
            _ => losses,
        };
    }

    /// <summary>Negative log-likelihood of log-probabilities [N, C] at class indices (pair it with <see cref="LogSoftmax"/>).</summary>
    public static Variable NllLoss(Variable logProbabilities, int[] targets, Reduction reduction = Reduction.Mean, int ignoreIndex = -100)
    {
        CheckClassTargets("NllLoss", NotNull(logProbabilities), targets, ignoreIndex);
        var losses = Ops.NllLossFunction.Apply(logProbabilities, (int[])targets.Clone(), ignoreIndex);
        return ReduceClassLoss(losses, targets, ignoreIndex, reduction);
    }

    /// <summary>Mean squared error (x - y)^2, reduced; x and y must have the same shape.</summary>
    public static Variable MseLoss(Variable input, Variable target, Reduction reduction = Reduction.Mean)
    {
        CheckSameShape("MseLoss", NotNull(input), NotNull(target));
        var difference = input - target;
        return ReduceElements(difference * difference, reduction);
    }

    /// <summary>Binary cross-entropy of probabilities in [0, 1] against targets in [0, 1]; each log is clamped at -100 as in PyTorch.</summary>
    public static Variable BinaryCrossEntropy(Variable probabilities, Variable target, Reduction reduction = Reduction.Mean)
    {
        CheckSameShape("BinaryCrossEntropy", NotNull(probabilities), NotNull(target));
        CheckUnitInterval("BinaryCrossEntropy", "input", probabilities.Value);
        CheckUnitInterval("BinaryCrossEntropy", "target", target.Value);
        return ReduceElements(Ops.BinaryCrossEntropyFunction.Apply(probabilities, target), reduction);
    }

    /// <summary>Binary cross-entropy on logits (sigmoid folded in), stable for any |logit|.</summary>
    public static Variable BinaryCrossEntropyWithLogits(Variable logits, Variable target, Reduction reduction = Reduction.Mean)
    {
        CheckSameShape("BinaryCrossEntropyWithLogits", NotNull(logits), NotNull(target));
        return ReduceElements(Ops.BinaryCrossEntropyWithLogitsFunction.Apply(logits, target), reduction);
    }

    // ---- activations -----------------------------------------------------------------------------------------------

    /// <summary>x for x &gt; 0, slope * x otherwise.</summary>
    public static Variable LeakyRelu(Variable x, float negativeSlope = 0.01f)
        => MappedActivation<LeakyReluMap, LeakyReluBackwardMap, ZeroSecondMap>.Apply(NotNull(x), new(negativeSlope), new(negativeSlope), default, OpKind.LeakyRelu,
            new AlphaSettings(negativeSlope));

    /// <summary>x * Phi(x), exactly (erf) or with the tanh approximation.</summary>
    public static Variable Gelu(Variable x, GeluApproximation approximate = GeluApproximation.None) => approximate == GeluApproximation.Tanh
        ? MappedActivation<GeluTanhMap, GeluTanhBackwardMap, GeluTanhSecondMap>.Apply(NotNull(x), default, default, default, OpKind.Gelu, new GeluSettings(approximate))
        : MappedActivation<GeluMap, GeluBackwardMap, GeluSecondMap>.Apply(NotNull(x), default, default, default, OpKind.Gelu, new GeluSettings(approximate));

    /// <summary>log(1 + e^(beta x)) / beta, linear (x) where beta x &gt; threshold.</summary>
    public static Variable Softplus(Variable x, float beta = 1f, float threshold = 20f)
    {
        if (!(beta > 0) || float.IsNaN(threshold))
        {
            throw new ArgumentOutOfRangeException(nameof(beta), CallSite.Tag($"Softplus: beta must be positive and threshold a number; got beta={beta}, threshold={threshold}."));
        }
        return MappedActivation<SoftplusMap, SoftplusBackwardMap, SoftplusSecondMap>.Apply(NotNull(x), new(beta, threshold), new(beta, threshold), new(beta, threshold), OpKind.Softplus,
            new SoftplusSettings(beta, threshold));
    }

    /// <summary>x for x &gt; 0, alpha (e^x - 1) otherwise.</summary>
    public static Variable Elu(Variable x, float alpha = 1f)
        => MappedActivation<EluMap, EluBackwardMap, EluSecondMap>.Apply(NotNull(x), new(alpha), new(alpha), new(alpha), OpKind.Elu, new AlphaSettings(alpha));

    /// <summary>Returns x unchanged.</summary>
    public static Variable Identity(Variable x) => NotNull(x);

    // ---- validation helpers ----------------------------------------------------------------------------------------

    private static void CheckClassTargets(string op, Variable input, int[] targets, int ignoreIndex)
    {
        ArgumentNullException.ThrowIfNull(targets);
        if (input.Rank != 2)
        {
            throw new ArgumentException(CallSite.Tag($"{op}: input must be [N, C]; got shape {Shapes.Format(input.Shape)}."));
        }
        int n = input.Shape[0], c = input.Shape[1];
        if (targets.Length != n)
        {
            throw new ArgumentException(CallSite.Tag($"{op}: {targets.Length} targets for input {Shapes.Format(input.Shape)}; expected one class index per row ({n})."));
        }
        for (int i = 0; i < targets.Length; i++)
        {
            if ((targets[i] < 0 || targets[i] >= c) && targets[i] != ignoreIndex)
            {
                throw new ArgumentOutOfRangeException(nameof(targets),
                    CallSite.Tag($"{op}: target {targets[i]} at position {i} is out of range for {c} classes (input {Shapes.Format(input.Shape)}); expected 0..{c - 1}."));
            }
        }
    }

    private static int[] ClassIndices(string op, Tensor targets)
    {
        if (targets.Rank != 1)
        {
            throw new ArgumentException(CallSite.Tag($"{op}: class-index targets must be 1-D [N]; got shape {Shapes.Format(targets.Shape)}."));
        }
        var values = targets.AsReadOnlySpan();
        var indices = new int[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            float v = values[i];
            if (v != MathF.Round(v) || MathF.Abs(v) > 1 << 24)
            {
                throw new ArgumentException(CallSite.Tag($"{op}: target {v} at position {i} is not a class index (an integer)."));
            }
            indices[i] = (int)v;
        }
        return indices;
    }

    private static void CheckSmoothing(string op, float labelSmoothing)
    {
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), CallSite.Tag($"{op}: labelSmoothing must be in [0, 1]; got {labelSmoothing}."));
        }
    }

    private static void CheckSameShape(string op, Variable input, Variable target)
    {
        if (!input.Shape.SequenceEqual(target.Shape))
        {
            throw new ArgumentException(CallSite.Tag($"{op}: input {Shapes.Format(input.Shape)} and target {Shapes.Format(target.Shape)} must have the same shape."));
        }
    }

    private static void CheckUnitInterval(string op, string what, Tensor values)
    {
        var span = values.AsReadOnlySpan();
        for (int i = 0; i < span.Length; i++)
        {
            if (!(span[i] >= 0 && span[i] <= 1))
            {
                throw new ArgumentOutOfRangeException(what, CallSite.Tag($"{op}: every {what} value must be in [0, 1]; element {i} is {span[i]} (shape {Shapes.Format(values.Shape)})."));
            }
        }
    }

    private static Variable ReduceElements(Variable losses, Reduction reduction) => reduction switch
    {
        Reduction.Mean => Mean(losses),
        Reduction.Sum => Sum(losses),
        Reduction.None => losses,
        _ => throw new ArgumentOutOfRangeException(nameof(reduction), CallSite.Tag($"Loss: unknown reduction {reduction}.")),
    };

    /// <summary>
    /// Returns <paramref name="reduced"/>. The per-row losses it was summed from were made here and only the graph can
    /// reach them (their sum's backward does not read them), so their buffer goes back to the pool when their node is
    /// released, or now when no graph was recorded.
    /// </summary>
    private static Variable RecyclingLosses(Variable losses, Variable reduced)
    {
        if (losses.GradFn is { } node)
        {
            node.RecycleOutputOnRelease(losses.Value);
        }
        else
        {
            Buffers.BufferPool.Return(losses.Value);
        }
        return reduced;
    }

    private static Variable ReduceClassLoss(Variable losses, int[] targets, int ignoreIndex, Reduction reduction)
    {
        switch (reduction)
        {
            case Reduction.Mean:
                int counted = 0;
                foreach (int t in targets)
                {
                    counted += t == ignoreIndex ? 0 : 1;
                }
                return Div(RecyclingLosses(losses, Sum(losses)), counted);
            case Reduction.Sum:
                return RecyclingLosses(losses, Sum(losses));
            case Reduction.None:
                return losses;
            default:
                throw new ArgumentOutOfRangeException(nameof(reduction), CallSite.Tag($"Loss: unknown reduction {reduction}."));
        }
    }
}
