using AutoGrad.Graph;
using static AutoGrad.Onnx.OnnxMessages;

namespace AutoGrad.Onnx.Export;

/// <summary>
/// The loss nodes, one loss per row or element (the reduction follows as ops of its own): the class losses as
/// LogSoftmax and NegativeLogLikelihoodLoss against the traced targets (a constant; with a symbolic batch they are
/// refused as settings of the batch's size), label smoothing as its mean term; the binary ones as their formulas.
/// </summary>
internal static class LossExport
{
    public static void ClassLoss(GraphBuilder b, OpKind kind, ClassLossSettings s, string x, string y)
    {
        string logProbabilities = x;
        if (kind == OpKind.CrossEntropy)
        {
            logProbabilities = b.Fresh("logp");
            b.Node("LogSoftmax", logProbabilities, [x], Int("axis", 1));
        }
        string targets = b.Int64Constant(s.Targets.Select(t => (long)t).ToArray());
        if (s.LabelSmoothing == 0f)
        {
            b.Node("NegativeLogLikelihoodLoss", y, [logProbabilities, targets], String("reduction", "none"), Int("ignore_index", s.IgnoreIndex));
            return;
        }
        // (1 - s) nll + s mean_c(-log p_c), zero on ignored rows (PyTorch's label smoothing)
        string nll = b.Fresh("nll"), mean = b.Fresh("mean"), kept = b.Fresh("kept"), sharp = b.Fresh("sharp");
        b.Node("NegativeLogLikelihoodLoss", nll, [logProbabilities, targets], String("reduction", "none"), Int("ignore_index", s.IgnoreIndex));
        b.Node("ReduceMean", mean, [logProbabilities], Ints("axes", 1), Int("keepdims", 0));
        var rowKept = Tensor.FromArray(s.Targets.Select(t => t == s.IgnoreIndex ? 0f : -s.LabelSmoothing).ToArray(), s.Targets.Length);
        b.Node("Mul", kept, [mean, b.Constant(rowKept)]);
        b.Node("Mul", sharp, [nll, b.Constant(Tensor.Scalar(1f - s.LabelSmoothing))]);
        b.Node("Add", y, [sharp, kept]);
    }

    // -(t log p + (1 - t) log(1 - p)), each log clamped at -100 as PyTorch does
    public static void BinaryCrossEntropy(GraphBuilder b, string p, string t, string y)
    {
        string one = b.Constant(Tensor.Scalar(1f)), floor = b.Constant(Tensor.Scalar(-100f));
        string logP = b.Fresh("logp"), clampedP = b.Fresh("logp"), complement = b.Fresh("q"), logQ = b.Fresh("logq"), clampedQ = b.Fresh("logq");
        string otherT = b.Fresh("u"), first = b.Fresh("bce"), second = b.Fresh("bce"), sum = b.Fresh("bce");
        b.Node("Log", logP, [p]);
        b.Node("Max", clampedP, [logP, floor]);
        b.Node("Sub", complement, [one, p]);
        b.Node("Log", logQ, [complement]);
        b.Node("Max", clampedQ, [logQ, floor]);
        b.Node("Sub", otherT, [one, t]);
        b.Node("Mul", first, [t, clampedP]);
        b.Node("Mul", second, [otherT, clampedQ]);
        b.Node("Add", sum, [first, second]);
        b.Node("Neg", y, [sum]);
    }

    // max(x, 0) - x t + log(1 + e^-|x|), the stable form
    public static void BinaryCrossEntropyWithLogits(GraphBuilder b, string x, string t, string y)
    {
        string positive = b.Fresh("bce"), product = b.Fresh("bce"), magnitude = b.Fresh("bce"), negative = b.Fresh("bce"), soft = b.Fresh("bce"), difference = b.Fresh("bce");
        b.Node("Relu", positive, [x]);
        b.Node("Mul", product, [x, t]);
        b.Node("Abs", magnitude, [x]);
        b.Node("Neg", negative, [magnitude]);
        b.Node("Softplus", soft, [negative]);
        b.Node("Sub", difference, [positive, product]);
        b.Node("Add", y, [difference, soft]);
    }
}
