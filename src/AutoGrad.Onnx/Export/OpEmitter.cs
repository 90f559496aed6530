using AutoGrad.Graph;
using static AutoGrad.Onnx.OnnxMessages;

namespace AutoGrad.Onnx.Export;

/// <summary>
/// The ONNX nodes of each AutoGrad op, chosen by the node's <see cref="OpKind"/> and read from its typed
/// <see cref="OpSettings"/>. Fused nodes (Linear or Conv2d with ReLU, Conv2d + ReLU + 2x2 max pooling) become the
/// plain ONNX ops in sequence.
/// </summary>
internal static class OpEmitter
{
    /// <summary>What <see cref="Emit"/> maps (by AutoGrad's op names), with the limits of the mapping.</summary>
    public static readonly IReadOnlyList<string> Supported =
    [
        "Linear", "MatMul", "Add", "Sub", "Mul", "Div", "Neg", "AddScalar", "RSubScalar", "MulScalar", "DivScalar", "RDivScalar",
        "Exp", "Log", "Pow", "Sqrt", "Abs", "Clamp", "Relu", "LeakyRelu", "Tanh", "Sigmoid", "Gelu", "Elu", "Softplus",
        "Conv2d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d", "BatchNorm (evaluation mode)", "LayerNorm", "GroupNorm",
        "Dropout (evaluation mode: not recorded)", "Softmax", "LogSoftmax", "ScaledDotProductAttention", "Reshape", "Permute", "Sum", "Max", "Min",
        "Slice", "IndexSelect", "Embedding", "Concat", "Gather", "ScatterAdd", "Where", "Eq", "Ne", "Lt", "Le", "Gt", "Ge", "Cumsum", "ReverseCumsum", "ExpandTo", "CrossEntropy", "NllLoss", "BinaryCrossEntropy", "BinaryCrossEntropyWithLogits", "BackwardHook (identity)",
    ];

    public static void Emit(GraphBuilder b, Function fn, Variable output)
    {
        string[] x = fn.Inputs.Select(b.NameOf).ToArray();
        string y = b.NameOf(output);
        RequireBatchFree(b, fn, y);
        switch (fn.Kind, fn.Settings)
        {
            case (OpKind.Linear, LinearSettings s):
                Activated(b, s.Activation, y, target => b.Node("Gemm", target, x, Int("transB", 1)));
                break;
            case (OpKind.MatMul or OpKind.Add or OpKind.Sub or OpKind.Mul or OpKind.Div or OpKind.Neg or OpKind.Exp or OpKind.Log
                or OpKind.Sqrt or OpKind.Abs or OpKind.Relu or OpKind.Tanh or OpKind.Sigmoid, _):
                b.Node(fn.Kind.ToString(), y, x);
                break;
            case (OpKind.AddScalar, ScalarSettings s):
                b.Node("Add", y, [x[0], b.Constant(Tensor.Scalar(s.Scalar))]);
                break;
            case (OpKind.RSubScalar, ScalarSettings s):
                b.Node("Sub", y, [b.Constant(Tensor.Scalar(s.Scalar)), x[0]]);
                break;
            case (OpKind.MulScalar, ScalarSettings s):
                b.Node("Mul", y, [x[0], b.Constant(Tensor.Scalar(s.Scalar))]);
                break;
            case (OpKind.DivScalar, ScalarSettings s):
                b.Node("Div", y, [x[0], b.Constant(Tensor.Scalar(s.Scalar))]);
                break;
            case (OpKind.RDivScalar, ScalarSettings s):
                b.Node("Div", y, [b.Constant(Tensor.Scalar(s.Scalar)), x[0]]);
                break;
            case (OpKind.Pow, PowSettings s):
                b.Node("Pow", y, [x[0], b.Constant(Tensor.Scalar(s.Exponent))]);
                break;
            case (OpKind.Clamp, ClampSettings s):
                // Clip's bounds are optional inputs; an open side is left out ("")
                b.Node("Clip", y, [x[0], float.IsNegativeInfinity(s.Min) ? "" : b.Constant(Tensor.Scalar(s.Min)),
                    float.IsPositiveInfinity(s.Max) ? "" : b.Constant(Tensor.Scalar(s.Max))]);
                break;
            case (OpKind.LeakyRelu or OpKind.Elu, AlphaSettings s):
                b.Node(fn.Kind.ToString(), y, x, Float("alpha", s.Alpha));
                break;
            case (OpKind.Gelu, GeluSettings s):
                EmitGelu(b, s, x[0], y);
                break;
            case (OpKind.Softplus, SoftplusSettings s):
                EmitSoftplus(b, s, x[0], y);
                break;
            case (OpKind.Conv2d, ConvSettings s):
                EmitConv(b, s, x, y);
                break;
            case (OpKind.ConvTranspose2d, ConvTransposeSettings s):
                // ONNX's output size is PyTorch's: stride (in - 1) + output_padding + dilation (kernel - 1) + 1 - both pads
                b.Node("ConvTranspose", y, x, [.. WindowAttributes(s.Window, dilations: true), Ints("output_padding", s.OutputPaddingH, s.OutputPaddingW)]);
                break;
            case (OpKind.MaxPool2d, PoolSettings s):
                // a fused ReLU before the pooling is exported after it: max(0, .) commutes with the window maximum
                Activated(b, s.Activation, y, target => b.Node("MaxPool", target, x, [.. WindowAttributes(s.Window, dilations: true)]));
                break;
            case (OpKind.AvgPool2d, PoolSettings s):
                b.Node("AveragePool", y, x, [.. WindowAttributes(s.Window, dilations: false), Int("count_include_pad", 1)]);
                break;
            case (OpKind.BatchNorm, BatchNormSettings s):
                NormalizationExport.BatchNorm(b, s, x, output);
                break;
            case (OpKind.LayerNorm, LayerNormSettings s):
                NormalizationExport.LayerNorm(b, s, x, output);
                break;
            case (OpKind.GroupNorm, GroupNormSettings s):
                NormalizationExport.GroupNorm(b, s, x, output);
                break;
            case (OpKind.Softmax or OpKind.LogSoftmax, AxisSettings s):
                b.Node(fn.Kind.ToString(), y, x, Int("axis", s.Axis));
                break;
            case (OpKind.ScaledDotProductAttention, AttentionSettings s):
                EmitAttention(b, s, fn, x, y);
                break;
            case (OpKind.Reshape, ReshapeSettings s):
                EmitReshape(b, s, (ReshapeSettings?)b.Twin(fn)?.Settings, x[0], y, fn);
                break;
            case (OpKind.ExpandTo, _):
                b.Node("Expand", y, [x[0], b.Int64Constant(ExpandShape(fn.Inputs[0].Shape, output.Shape))]);
                break;
            case (OpKind.Permute, PermuteSettings s):
                b.Node("Transpose", y, x, Ints("perm", s.Perm));
                break;
            case (OpKind.Sum or OpKind.Max or OpKind.Min, ReduceSettings s):
                EmitReduce(b, fn.Kind, s, x[0], y);
                break;
            case (OpKind.Slice or OpKind.IndexSelect or OpKind.Embedding, SelectSettings s):
                EmitSelect(b, fn.Kind, s, x, y, output);
                break;
            case (OpKind.Concat, AxisSettings s):
                b.Node("Concat", y, x, Int("axis", s.Axis));
                break;
            case (OpKind.Gather, IndexSettings s):
                b.Node("GatherElements", y, [x[0], IndexConstant(b, s)], Int("axis", s.Axis));
                break;
            case (OpKind.ScatterAdd, IndexSettings s):
                // PyTorch reads the source only where the index reaches; ONNX wants the updates in the index's shape
                b.Node("ScatterElements", y, [x[0], IndexConstant(b, s), Leading(b, x[1], fn.Inputs[1].Shape, s.IndexShape)], Int("axis", s.Axis), String("reduction", "add"));
                break;
            case (OpKind.Where, WhereSettings s):
                b.Node("Where", y, [x.Length == 3 ? Cast(b, x[2], Protos.TensorProto.Types.DataType.Bool) : b.BoolConstant(s.Condition), x[0], x[1]]);
                break;
            case (OpKind.Eq or OpKind.Lt or OpKind.Le or OpKind.Gt or OpKind.Ge, _):
            {
                // ONNX compares into bools; AutoGrad's masks are floats of 1 and 0
                string mask = b.Fresh("mask");
                b.Node(fn.Kind switch { OpKind.Eq => "Equal", OpKind.Lt => "Less", OpKind.Le => "LessOrEqual", OpKind.Gt => "Greater", _ => "GreaterOrEqual" }, mask, x);
                b.Node("Cast", y, [mask], Int("to", (long)Protos.TensorProto.Types.DataType.Float));
                break;
            }
            case (OpKind.Ne, _):
            {
                string equal = b.Fresh("mask"), different = b.Fresh("mask");
                b.Node("Equal", equal, x);
                b.Node("Not", different, [equal]);
                b.Node("Cast", y, [different], Int("to", (long)Protos.TensorProto.Types.DataType.Float));
                break;
            }
            case (OpKind.Cumsum or OpKind.ReverseCumsum, AxisSettings s):
                b.Node("CumSum", y, [x[0], b.Int64Constant([s.Axis], [])], Int("reverse", fn.Kind == OpKind.ReverseCumsum ? 1 : 0));
                break;
            case (OpKind.CrossEntropy or OpKind.NllLoss, ClassLossSettings s):
                LossExport.ClassLoss(b, fn.Kind, s, x[0], y);
                break;
            case (OpKind.BinaryCrossEntropy, _):
                LossExport.BinaryCrossEntropy(b, x[0], x[1], y);
                break;
            case (OpKind.BinaryCrossEntropyWithLogits, _):
                LossExport.BinaryCrossEntropyWithLogits(b, x[0], x[1], y);
                break;
            case (OpKind.BackwardHook, _):
                b.Node("Identity", y, x);
                break;
            default:
                throw new NotSupportedException(
                    $"ONNX export: op {fn.Name} (node {y}, output shape {Shapes.Format(output.Shape)}) has no ONNX mapping"
                    + (fn.Kind == OpKind.Custom ? " (a custom function: write it as built-in ops to export it)" : "")
                    + $". Supported ops: {string.Join(", ", Supported)}.");
        }
    }

    /// <summary>
    /// Runs <paramref name="emit"/> into <paramref name="output"/>, or, when the node fused a ReLU into itself, into a
    /// fresh name followed by a Relu to <paramref name="output"/>.
    /// </summary>
    private static void Activated(GraphBuilder b, Activation activation, string output, Action<string> emit)
    {
        if (activation == Activation.None)
        {
            emit(output);
            return;
        }
        string preactivation = b.Fresh("preact");
        emit(preactivation);
        b.Node("Relu", output, [preactivation]);
    }

    private static List<Protos.AttributeProto> WindowAttributes(Window w, bool dilations)
    {
        var attributes = new List<Protos.AttributeProto>
        {
            Ints("kernel_shape", w.KernelH, w.KernelW), Ints("strides", w.StrideH, w.StrideW), Ints("pads", w.PadH, w.PadW, w.PadH, w.PadW),
        };
        if (dilations)
        {
            attributes.Add(Ints("dilations", w.DilationH, w.DilationW));
        }
        return attributes;
    }

    // Conv [+ Relu] [+ 2x2 MaxPool]: a Sequential's Conv2d, ReLU, MaxPool2d run as one node.
    private static void EmitConv(GraphBuilder b, ConvSettings s, string[] x, string y)
    {
        string convolved = s.MaxPool2x2After ? b.Fresh("prepool") : y;
        Activated(b, s.Activation, convolved, target => b.Node("Conv", target, x, [.. WindowAttributes(s.Window, dilations: true)]));
        if (s.MaxPool2x2After)
        {
            b.Node("MaxPool", y, [convolved], Ints("kernel_shape", 2, 2), Ints("strides", 2, 2), Ints("pads", 0, 0, 0, 0));
        }
    }

    // ONNX's Softplus is log(1 + e^x); PyTorch's beta scales inside and out, and its threshold only avoids overflow
    // (above it log(1 + e^(beta x)) / beta and x agree in float32).
    private static void EmitSoftplus(GraphBuilder b, SoftplusSettings s, string x, string y)
    {
        if (s.Beta == 1f)
        {
            b.Node("Softplus", y, [x]);
            return;
        }
        string scaled = b.Fresh("scaled"), softened = b.Fresh("softplus");
        b.Node("Mul", scaled, [x, b.Constant(Tensor.Scalar(s.Beta))]);
        b.Node("Softplus", softened, [scaled]);
        b.Node("Div", y, [softened, b.Constant(Tensor.Scalar(s.Beta))]);
    }

    /// <summary>
    /// With a dynamic batch, refuses a node whose settings differ between the two traces (a constant mask or index
    /// of the batch's size), naming it; reshapes, broadcasts and an embedding that reads its indices from the graph
    /// handle the batch themselves.
    /// </summary>
    private static void RequireBatchFree(GraphBuilder b, Function fn, string y)
    {
        // an embedding or a where that reads its indices or condition from the graph has no constant of the batch's size
        bool readsFromGraph = fn.Kind == OpKind.Embedding && fn.Inputs.Length == 2 || fn.Kind == OpKind.Where && fn.Inputs.Length == 3;
        if (b.Twin(fn) is not { } twin || fn.Kind is OpKind.Reshape or OpKind.ExpandTo || readsFromGraph)
        {
            return;
        }
        string settings = fn.Settings.ToString(), twinSettings = twin.Settings.ToString();
        if (settings != twinSettings)
        {
            throw new NotSupportedException(
                $"ONNX export: op {fn.Name} (node {y}) has settings that depend on the batch size ({settings} at batch {b.Batch}; {twinSettings} at one more sample), "
                + "so a graph with a symbolic batch cannot hold them. Export with dynamicBatch: false, or give the op a tensor that does not grow with the batch.");
        }
    }

    // A reshape to [N, rest] that keeps the batch is ONNX's Flatten. Otherwise the target dim that moved with the
    // batch becomes 0 ("copy") when it is the input's batch dim in place, else -1 ("infer"); ONNX allows one.
    private static void EmitReshape(GraphBuilder b, ReshapeSettings s, ReshapeSettings? twin, string x, string y, Function fn)
    {
        int[] from = s.InputShape, to = s.Shape;
        var shape = to.Select(d => (long)d).ToArray();
        if (twin is not null)
        {
            var moved = Enumerable.Range(0, to.Length).Where(d => twin.Shape[d] != to[d]).ToArray();
            bool batchInPlace = moved is [0] && twin.InputShape[0] != from[0] && from[0] == to[0];
            if (batchInPlace && to.Length == 2)
            {
                b.Node("Flatten", y, [x], Int("axis", 1));
                return;
            }
            switch (moved)
            {
                case []:
                    break;
                case [int d]:
                    shape[d] = batchInPlace ? 0 : -1;
                    break;
                default:
                    throw new NotSupportedException(
                        $"ONNX export: {fn.Name} (node {y}) from {Shapes.Format(from)} to {Shapes.Format(to)} changes {moved.Length} dims with the batch size; "
                        + "an ONNX Reshape can infer one. Export with dynamicBatch: false.");
            }
        }
        b.Node("Reshape", y, [x, b.Int64Constant(shape)]);
    }

    // Expand's target: a 1 keeps the input's dim (the batch, among others), so only the stretched dims are fixed.
    private static long[] ExpandShape(ReadOnlySpan<int> input, ReadOnlySpan<int> output)
    {
        var shape = new long[output.Length];
        int lead = output.Length - input.Length;
        for (int d = 0; d < output.Length; d++)
        {
            shape[d] = d >= lead && input[d - lead] == output[d] ? 1 : output[d];
        }
        return shape;
    }

    // The leading part of x (shape [a, b, ...]) of the given smaller shape, as one Slice.
    private static string Leading(GraphBuilder b, string x, ReadOnlySpan<int> shape, int[] target)
    {
        if (shape.SequenceEqual(target))
        {
            return x;
        }
        string sliced = b.Fresh("leading");
        b.Node("Slice", sliced, [x, b.Int64Constant(new long[target.Length]), b.Int64Constant(target.Select(t => (long)t).ToArray()),
            b.Int64Constant(Enumerable.Range(0, target.Length).Select(d => (long)d).ToArray())]);
        return sliced;
    }

    // softmax(q k^T / sqrt(E) [masked above the diagonal]) v, as MatMul, Mul, Where, Softmax, MatMul (the fused node's
    // composite; the mask is [L, S] and broadcasts over the batch dims).
    private static void EmitAttention(GraphBuilder b, AttentionSettings s, Function fn, string[] x, string y)
    {
        int rank = fn.Inputs[0].Rank, l = fn.Inputs[0].Shape[^2], e = fn.Inputs[0].Shape[^1], keys = fn.Inputs[1].Shape[^2];
        string keysT = b.Fresh("keysT"), scores = b.Fresh("scores"), scaled = b.Fresh("scaled"), weights = b.Fresh("weights");
        b.Node("Transpose", keysT, [x[1]], Ints("perm", [.. Enumerable.Range(0, rank - 2), rank - 1, rank - 2]));
        b.Node("MatMul", scores, [x[0], keysT]);
        b.Node("Mul", scaled, [scores, b.Constant(Tensor.Scalar(1f / MathF.Sqrt(e)))]);
        if (s.Causal)
        {
            var allowed = Tensor.Zeros(l, keys);
            for (int i = 0; i < l; i++)
            {
                allowed.AsSpan().Slice(i * keys, Math.Min(i + 1, keys)).Fill(1f);
            }
            string masked = b.Fresh("masked");
            b.Node("Where", masked, [b.BoolConstant(allowed), scaled, b.Constant(Tensor.Scalar(float.NegativeInfinity))]);
            scaled = masked;
        }
        b.Node("Softmax", weights, [scaled], Int("axis", -1));
        b.Node("MatMul", y, [weights, x[2]]);
    }

    // GELU as its formula (opset 17 has no Gelu op): x/2 (1 + erf(x / sqrt 2)), or x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
    private static void EmitGelu(GraphBuilder b, GeluSettings s, string x, string y)
    {
        string inner = b.Fresh("gelu"), squashed = b.Fresh("gelu"), shifted = b.Fresh("gelu"), half = b.Fresh("gelu");
        if (s.Approximate == GeluApproximation.Tanh)
        {
            string cube = b.Fresh("gelu"), cubic = b.Fresh("gelu"), sum = b.Fresh("gelu");
            b.Node("Pow", cube, [x, b.Constant(Tensor.Scalar(3f))]);
            b.Node("Mul", cubic, [cube, b.Constant(Tensor.Scalar(0.044715f))]);
            b.Node("Add", sum, [x, cubic]);
            b.Node("Mul", inner, [sum, b.Constant(Tensor.Scalar(MathF.Sqrt(2f / MathF.PI)))]);
            b.Node("Tanh", squashed, [inner]);
        }
        else
        {
            b.Node("Mul", inner, [x, b.Constant(Tensor.Scalar(1f / MathF.Sqrt(2f)))]);
            b.Node("Erf", squashed, [inner]);
        }
        b.Node("Add", shifted, [squashed, b.Constant(Tensor.Scalar(1f))]);
        b.Node("Mul", half, [x, b.Constant(Tensor.Scalar(0.5f))]);
        b.Node("Mul", y, [half, shifted]);
    }

    // ReduceSum takes its axes as an input (opset 13), ReduceMax/ReduceMin as an attribute (until opset 18); no axes is no reduction.
    private static void EmitReduce(GraphBuilder b, OpKind kind, ReduceSettings s, string x, string y)
    {
        if (s.Axes.Length == 0)
        {
            b.Node("Identity", y, [x]);
            return;
        }
        if (kind == OpKind.Sum)
        {
            b.Node("ReduceSum", y, [x, b.Int64Constant(s.Axes.Select(a => (long)a).ToArray())], Int("keepdims", s.KeepDims ? 1 : 0));
            return;
        }
        b.Node(kind == OpKind.Max ? "ReduceMax" : "ReduceMin", y, [x], Ints("axes", s.Axes), Int("keepdims", s.KeepDims ? 1 : 0));
    }

    // Slice as ONNX Slice (start, end, step); IndexSelect as Gather of constant indices; Embedding as Gather of the
    // weight's rows at the indices it read, from the graph when they came from it (cast to int64).
    private static void EmitSelect(GraphBuilder b, OpKind kind, SelectSettings s, string[] x, string y, Variable output)
    {
        if (kind == OpKind.Slice && s.Indices.Length > 0)
        {
            long start = s.Indices[0], step = s.Indices.Length > 1 ? s.Indices[1] - s.Indices[0] : 1;
            long end = start + step * s.Indices.Length;
            b.Node("Slice", y, [x[0], b.Int64Constant([start]), b.Int64Constant([end]), b.Int64Constant([s.Axis]), b.Int64Constant([step])]);
            return;
        }
        if (kind == OpKind.Embedding && x.Length == 2)
        {
            b.Node("Gather", y, [x[0], Cast(b, x[1], Protos.TensorProto.Types.DataType.Int64)], Int("axis", 0));
            return;
        }
        int[] shape = kind == OpKind.Embedding ? output.Shape[..^1].ToArray() : [s.Indices.Length];
        b.Node("Gather", y, [x[0], b.Int64Constant(s.Indices.Select(i => (long)i).ToArray(), shape)], Int("axis", s.Axis));
    }

    private static string Cast(GraphBuilder b, string x, Protos.TensorProto.Types.DataType type)
    {
        string cast = b.Fresh("cast");
        b.Node("Cast", cast, [x], Int("to", (long)type));
        return cast;
    }

    private static string IndexConstant(GraphBuilder b, IndexSettings s) => b.Int64Constant(s.Index.Select(i => (long)i).ToArray(), s.IndexShape);
}
