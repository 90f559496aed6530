using AutoGrad.Graph;
using static AutoGrad.Onnx.OnnxMessages;

namespace AutoGrad.Onnx.Export;

/// <summary>
/// BatchNorm (evaluation mode) as BatchNormalization, LayerNorm as LayerNormalization (opset 17); GroupNorm as
/// InstanceNormalization over [N, G, rest] then the per-channel affine, because opset 18-20 GroupNormalization (absent from opset 17) takes
/// a scale per group, not per channel. A missing weight or bias becomes a constant of ones or zeros.
/// </summary>
internal static class NormalizationExport
{
    public static void BatchNorm(GraphBuilder b, BatchNormSettings s, string[] x, Variable output)
    {
        if (s.Training || s.RunningMean is null || s.RunningVar is null)
        {
            throw new NotSupportedException(
                $"ONNX export: BatchNorm in training mode (node {b.NameOf(output)}, output shape {Shapes.Format(output.Shape)}) has no inference graph; "
                + "the exporter runs modules in Eval(), so call F.BatchNorm with training: Training in your Forward.");
        }
        var (weight, bias) = Affine(b, s.HasWeight, s.HasBias, x, [output.Shape[1]]);
        b.Node("BatchNormalization", b.NameOf(output), [x[0], weight, bias, b.Buffer(s.RunningMean), b.Buffer(s.RunningVar)], Float("epsilon", s.Epsilon));
    }

    public static void LayerNorm(GraphBuilder b, LayerNormSettings s, string[] x, Variable output)
    {
        var (weight, bias) = Affine(b, s.HasWeight, s.HasBias, x, output.Shape[s.Axis..].ToArray());
        b.Node("LayerNormalization", b.NameOf(output), [x[0], weight, bias], Int("axis", s.Axis), Float("epsilon", s.Epsilon));
    }

    public static void GroupNorm(GraphBuilder b, GroupNormSettings s, string[] x, Variable output)
    {
        var shape = output.Shape;
        var (weight, bias) = Affine(b, s.HasWeight, s.HasBias, x, [shape[1]]);
        string grouped = b.Fresh("grouped"), normalized = b.Fresh("normalized"), inputShape = b.Fresh("shape"), restored = b.Fresh("restored");
        b.Node("Reshape", grouped, [x[0], b.Int64Constant([0, s.Groups, -1])]);
        b.Node("InstanceNormalization", normalized, [grouped, b.Constant(Tensor.Ones(s.Groups)), b.Constant(Tensor.Zeros(s.Groups))], Float("epsilon", s.Epsilon));
        b.Node("Shape", inputShape, [x[0]]);
        b.Node("Reshape", restored, [normalized, inputShape]);
        long[] perChannel = [shape[1], .. Enumerable.Repeat(1L, shape.Length - 2)];
        string weightColumn = b.Fresh("weightcol"), biasColumn = b.Fresh("biascol"), scaled = b.Fresh("scaled");
        b.Node("Reshape", weightColumn, [weight, b.Int64Constant(perChannel)]);
        b.Node("Reshape", biasColumn, [bias, b.Int64Constant(perChannel)]);
        b.Node("Mul", scaled, [restored, weightColumn]);
        b.Node("Add", b.NameOf(output), [scaled, biasColumn]);
    }

    private static (string Weight, string Bias) Affine(GraphBuilder b, bool hasWeight, bool hasBias, string[] x, int[] shape)
        => (hasWeight ? x[1] : b.Constant(Tensor.Ones(shape)), hasBias ? x[hasWeight ? 2 : 1] : b.Constant(Tensor.Zeros(shape)));
}
