using System.Globalization;
using AutoGrad.Kernels;

namespace AutoGrad.Graph;

/// <summary>
/// The settings of one graph node (stride, padding, slope, the fused activation, ...) as a typed record, made once
/// when the node is recorded and readable after the graph is released. The exporter reads them by type; the graph
/// dump prints them.
/// </summary>
internal abstract record OpSettings
{
    /// <summary>The settings of an op that has none.</summary>
    public static readonly OpSettings None = new NoSettings();

    /// <summary>"name=value, ..." over the record's properties, as the graph dump's label: names and enum values in lower camel case, arrays as [a, b], tensors by shape.</summary>
    public sealed override string ToString() => string.Join(", ", GetType().GetProperties()
        .Where(p => p.DeclaringType != typeof(OpSettings) && p.GetIndexParameters().Length == 0)
        .Select(p => $"{Camel(p.Name)}={Format(p.GetValue(this))}"));

    private static string Camel(string name) => char.ToLowerInvariant(name[0]) + name[1..];

    private static string Format(object? value) => value switch
    {
        null => "none",
        int[] ints => "[" + string.Join(", ", ints) + "]",
        float f => f.ToString("G6", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        Enum e => Camel(e.ToString()),
        Tensor t => Shapes.Format(t.Shape),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

    private sealed record NoSettings : OpSettings;
}

/// <summary>x op s with a scalar s (AddScalar, RSubScalar, MulScalar, DivScalar, RDivScalar).</summary>
internal sealed record ScalarSettings(float Scalar) : OpSettings;

/// <summary>x ** exponent.</summary>
internal sealed record PowSettings(float Exponent) : OpSettings;

/// <summary>clamp(x, min, max); an open side is ±infinity.</summary>
internal sealed record ClampSettings(float Min, float Max) : OpSettings;

/// <summary>LeakyReLU's negative slope or ELU's alpha.</summary>
internal sealed record AlphaSettings(float Alpha) : OpSettings;

/// <summary>GELU, exact or with the tanh approximation.</summary>
internal sealed record GeluSettings(GeluApproximation Approximate) : OpSettings;

/// <summary>Softplus: log(1 + exp(beta x)) / beta, linear above threshold.</summary>
internal sealed record SoftplusSettings(float Beta, float Threshold) : OpSettings;

/// <summary>A Linear node, with the activation it fused into itself (a Sequential's or the caller's choice).</summary>
internal sealed record LinearSettings(Activation Activation) : OpSettings;

/// <summary>A convolution or pooling window over NCHW; pads are the same on both sides of each spatial dim.</summary>
internal readonly record struct Window(int KernelH, int KernelW, int StrideH, int StrideW, int PadH, int PadW, int DilationH, int DilationW)
{
    public static Window Of(in ConvGeometry g) => new(g.KernelH, g.KernelW, g.StrideH, g.StrideW, g.PadH, g.PadW, g.DilationH, g.DilationW);

    public override string ToString()
        => $"kernel {KernelH}x{KernelW}, stride {StrideH}x{StrideW}, padding {PadH}x{PadW}, dilation {DilationH}x{DilationW}";
}

/// <summary>A Conv2d node: its window, fused activation, and whether it also max-pools 2x2 after that (a Sequential's fusion).</summary>
internal sealed record ConvSettings(Window Window, Activation Activation, bool MaxPool2x2After) : OpSettings;

/// <summary>A ConvTranspose2d node (the window of the convolution it transposes) and its extra output rows/columns.</summary>
internal sealed record ConvTransposeSettings(Window Window, int OutputPaddingH, int OutputPaddingW) : OpSettings;

/// <summary>A pooling node; max pooling may have fused a ReLU before it.</summary>
internal sealed record PoolSettings(Window Window, Activation Activation) : OpSettings;

/// <summary>Batch normalization: affine parts present, mode, and in evaluation mode the running statistics it used.</summary>
internal sealed record BatchNormSettings(float Epsilon, bool HasWeight, bool HasBias, bool Training, Tensor? RunningMean, Tensor? RunningVar) : OpSettings;

/// <summary>Layer normalization over the dims from <paramref name="Axis"/> on.</summary>
internal sealed record LayerNormSettings(float Epsilon, bool HasWeight, bool HasBias, int Axis) : OpSettings;

/// <summary>Group normalization over <paramref name="Groups"/> groups of channels.</summary>
internal sealed record GroupNormSettings(float Epsilon, bool HasWeight, bool HasBias, int Groups) : OpSettings;

/// <summary>Dropout with drop probability P (recorded in training only).</summary>
internal sealed record DropoutSettings(float P) : OpSettings;

/// <summary>An op along one dim: Softmax, LogSoftmax, Concat, Cumsum, Gather, ScatterAdd.</summary>
internal sealed record AxisSettings(int Axis) : OpSettings;

/// <summary>Gather or ScatterAdd along Axis with an index of the given shape (whole numbers; row-major).</summary>
internal sealed record IndexSettings(int Axis, int[] Index, int[] IndexShape) : OpSettings;

/// <summary>Fused scaled dot-product attention, causal (a query attends to keys up to its own position) or not.</summary>
internal sealed record AttentionSettings(bool Causal) : OpSettings;

/// <summary>A classification loss per row against class indices (CrossEntropy with its label smoothing, NllLoss).</summary>
internal sealed record ClassLossSettings(int[] Targets, int IgnoreIndex, float LabelSmoothing) : OpSettings;

/// <summary>A reshape from one shape to another.</summary>
internal sealed record ReshapeSettings(int[] InputShape, int[] Shape) : OpSettings;

/// <summary>A permutation of dims (output dim i is input dim Perm[i]).</summary>
internal sealed record PermuteSettings(int[] Perm) : OpSettings;

/// <summary>A reduction (Sum, Max, Min) over the given dims, keeping them as size 1 or not.</summary>
internal sealed record ReduceSettings(int[] Axes, bool KeepDims) : OpSettings;

/// <summary>
/// Entries picked along one dim by index: IndexSelect, Slice (an arithmetic sequence) and Embedding (rows of the
/// weight; its index may come from a graph input, then the node's second input; the padding row gets no gradient).
/// </summary>
internal sealed record SelectSettings(int Axis, int[] Indices, int? PaddingIndex = null) : OpSettings;

/// <summary>where(condition, x, y): the node's own copy of the condition, in the shape it was given (it broadcasts).</summary>
internal sealed record WhereSettings(Tensor Condition) : OpSettings;

/// <summary>A broadcast to, or a sum back down to, a shape.</summary>
internal sealed record ShapeSettings(int[] Shape) : OpSettings;
