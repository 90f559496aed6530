using AutoGrad.Graph;
using AutoGrad.Kernels;

namespace AutoGrad.Ops;

// Loss nodes produce one loss per row (or element); the public API applies the reduction on top.

/// <summary>
/// Cross-entropy of logits [N, C] against class indices, fused: log-softmax forward, and backward
/// (softmax - smoothed one-hot) per row, never materializing the softmax's Jacobian.
/// </summary>
internal sealed class CrossEntropyFunction : Function
{
    internal override OpKind Kind => OpKind.CrossEntropy;

    internal override OpSettings Settings => new ClassLossSettings(_targets, _ignoreIndex, _smoothing);

    private Tensor? _logProbs;
    private int[] _targets = [];
    private int _ignoreIndex;
    private float _smoothing;

    public static Variable Apply(Variable logits, int[] targets, int ignoreIndex, float smoothing)
    {
        int n = logits.Value.Shape[0], c = logits.Value.Shape[1];
        var logProbs = Tensor.EmptyOwned([n, c]);
        SoftmaxKernel.Forward(logits.Value.AsReadOnlySpan(), n, c, 1, logProbs.AsSpan(), log: true);
        var losses = Tensor.EmptyOwned([n]);
        Losses.ClassNll(logProbs.AsReadOnlySpan(), c, targets, ignoreIndex, smoothing, losses.AsSpan());
        var node = new CrossEntropyFunction { _logProbs = logProbs, _targets = targets, _ignoreIndex = ignoreIndex, _smoothing = smoothing };
        return node.Record(losses, logits);
    }

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // self: grad_i * (softmax(self)_i - (1 - s) onehot(target_i) - s / C)
        var logProbs = _logProbs!;
        var inputGrad = Tensor.EmptyOwned((int[])logProbs.ShapeArray.Clone());
        Losses.ClassNllLogitsBackward(logProbs.AsReadOnlySpan(), logProbs.Shape[1], _targets, _ignoreIndex, _smoothing, grad.AsReadOnlySpan(), inputGrad.AsSpan());
        inputGrads[0] = inputGrad;
    }

    // The same formula with the softmax recomputed as a node of its own (the saved log-probabilities are no variable
    // of the graph), so its derivative, the loss's second derivative, flows to the logits; ignored rows are masked.
    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads)
    {
        var logits = Inputs[0];
        int n = logits.Shape[0], c = logits.Shape[1];
        var rowGrad = MulFunction.Apply(ReshapeFunction.Apply(grad, [n, 1]), Constant(ClassTargets.RowMask(_targets, _ignoreIndex)));
        var smoothed = Constant(ClassTargets.Matrix(_targets, c, _ignoreIndex, 1f - _smoothing + _smoothing / c, _smoothing / c));
        inputGrads[0] = MulFunction.Apply(rowGrad, SubFunction.Apply(SoftmaxFunction.Apply(logits, 1, log: false), smoothed));
    }

    protected override void ReleaseSaved()
    {
        Buffers.BufferPool.Return(_logProbs); // only this node ever sees the log-probabilities
        _logProbs = null;
    }
}

/// <summary>Negative log-likelihood of log-probabilities [N, C] at class indices: loss_i = -logp[i, t_i].</summary>
internal sealed class NllLossFunction : Function
{
    internal override OpKind Kind => OpKind.NllLoss;

    internal override OpSettings Settings => new ClassLossSettings(_targets, _ignoreIndex, 0f);

    private int[] _targets = [];
    private int _ignoreIndex;
    private int _classes;

    public static Variable Apply(Variable logProbs, int[] targets, int ignoreIndex)
    {
        int c = logProbs.Value.Shape[1];
        var losses = Tensor.EmptyOwned([targets.Length]);
        Losses.ClassNll(logProbs.Value.AsReadOnlySpan(), c, targets, ignoreIndex, 0f, losses.AsSpan());
        return new NllLossFunction { _targets = targets, _ignoreIndex = ignoreIndex, _classes = c }.Record(losses, logProbs);
    }

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // self: -grad_i at (i, target_i), 0 elsewhere
        var inputGrad = Tensor.EmptyOwned([_targets.Length, _classes]);
        Losses.ClassNllBackward(_classes, _targets, _ignoreIndex, grad.AsReadOnlySpan(), inputGrad.AsSpan());
        inputGrads[0] = inputGrad;
    }

    // self: grad_i * -onehot(target_i), linear in grad; the one-hot matrix is a constant
    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads)
        => inputGrads[0] = MulFunction.Apply(ReshapeFunction.Apply(grad, [_targets.Length, 1]), Constant(ClassTargets.Matrix(_targets, _classes, _ignoreIndex, -1f, 0f)));
}

/// <summary>Binary cross-entropy of probabilities p against targets y, elementwise, logs clamped at -100.</summary>
internal sealed class BinaryCrossEntropyFunction : Function
{
    internal override OpKind Kind => OpKind.BinaryCrossEntropy;

    private protected override SavedTensors Saves => SavedTensors.Inputs01;

    private Tensor? _p, _y;

    public static Variable Apply(Variable p, Variable y)
    {
        var losses = Tensor.EmptyOwned((int[])p.Value.ShapeArray.Clone());
        Losses.BinaryCrossEntropy(p.Value.AsReadOnlySpan(), y.Value.AsReadOnlySpan(), losses.AsSpan());
        return new BinaryCrossEntropyFunction { _p = p.Value, _y = y.Value }.Record(losses, p, y);
    }

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // self: grad * (self - target) / max(self * (1 - self), 1e-12); target: grad * (log(1 - self) - log(self))
        if (NeedsInputGrad[0])
        {
            var g = Tensor.EmptyOwned((int[])_p!.ShapeArray.Clone());
            Losses.BinaryCrossEntropyBackward(grad.AsReadOnlySpan(), _p.AsReadOnlySpan(), _y!.AsReadOnlySpan(), g.AsSpan());
            inputGrads[0] = g;
        }
        if (NeedsInputGrad[1])
        {
            var g = Tensor.EmptyOwned((int[])_p!.ShapeArray.Clone());
            Losses.BinaryCrossEntropyTargetBackward(grad.AsReadOnlySpan(), _p.AsReadOnlySpan(), g.AsSpan());
            inputGrads[1] = g;
        }
    }

    // The same formulas in differentiable ops (a clamp's mask is constant); their derivative with respect to self is
    // PyTorch's binary_cross_entropy_double_backward, (self^2 - 2 self target + target) / (self (1 - self))^2 * grad.
    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads)
    {
        var (p, y) = (Inputs[0], Inputs[1]);
        var oneMinusP = RSubScalarOp.Apply(p, 1f);
        inputGrads[0] = NeedsInputGrad[0]
            ? DivFunction.Apply(MulFunction.Apply(grad, SubFunction.Apply(p, y)), ClampOp.Apply(MulFunction.Apply(p, oneMinusP), 1e-12f, float.PositiveInfinity))
            : null;
        inputGrads[1] = NeedsInputGrad[1] ? MulFunction.Apply(grad, SubFunction.Apply(ClampedLog(oneMinusP), ClampedLog(p))) : null;
    }

    private static Variable ClampedLog(Variable x) => ClampOp.Apply(LogOp.Apply(x), -100f, float.PositiveInfinity);

    protected override void ReleaseSaved() => (_p, _y) = (null, null);
}

/// <summary>Binary cross-entropy on logits, elementwise, in the form that is stable for any |x|.</summary>
internal sealed class BinaryCrossEntropyWithLogitsFunction : Function
{
    internal override OpKind Kind => OpKind.BinaryCrossEntropyWithLogits;

    private protected override SavedTensors Saves => SavedTensors.Inputs01;

    private Tensor? _x, _y;

    public static Variable Apply(Variable x, Variable y)
    {
        var losses = Tensor.EmptyOwned((int[])x.Value.ShapeArray.Clone());
        Losses.BinaryCrossEntropyWithLogits(x.Value.AsReadOnlySpan(), y.Value.AsReadOnlySpan(), losses.AsSpan());
        return new BinaryCrossEntropyWithLogitsFunction { _x = x.Value, _y = y.Value }.Record(losses, x, y);
    }

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // self: grad * (sigmoid(self) - target); target: -grad * self
        if (NeedsInputGrad[0])
        {
            var g = Tensor.EmptyOwned((int[])_x!.ShapeArray.Clone());
            Losses.BinaryCrossEntropyWithLogitsBackward(grad.AsReadOnlySpan(), _x.AsReadOnlySpan(), _y!.AsReadOnlySpan(), g.AsSpan());
            inputGrads[0] = g;
        }
        if (NeedsInputGrad[1])
        {
            var g = TensorMath.Multiply(grad, _x!);
            System.Numerics.Tensors.TensorPrimitives.Negate(g.AsReadOnlySpan(), g.AsSpan());
            inputGrads[1] = g;
        }
    }

    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads)
    {
        var (x, y) = (Inputs[0], Inputs[1]);
        inputGrads[0] = NeedsInputGrad[0] ? MulFunction.Apply(grad, SubFunction.Apply(SigmoidOp.Apply(x), y)) : null;
        inputGrads[1] = NeedsInputGrad[1] ? NegOp.Apply(MulFunction.Apply(grad, x)) : null;
    }

    protected override void ReleaseSaved() => (_x, _y) = (null, null);
}

/// <summary>Class-index targets as the constant tensors of the class losses' differentiable backwards.</summary>
internal static class ClassTargets
{
    /// <summary>[N, C]: <paramref name="hit"/> at each row's target, <paramref name="rest"/> elsewhere, zero rows where ignored.</summary>
    public static Tensor Matrix(int[] targets, int classes, int ignoreIndex, float hit, float rest)
    {
        var matrix = Tensor.Zeros(targets.Length, classes);
        Losses.ClassTargetMatrix(targets, classes, ignoreIndex, hit, rest, matrix.AsSpan());
        return matrix;
    }

    /// <summary>[N, 1]: 1 for a counted row, 0 for an ignored one.</summary>
    public static Tensor RowMask(int[] targets, int ignoreIndex)
    {
        var mask = Tensor.Zeros(targets.Length, 1);
        Losses.KeptRows(targets, ignoreIndex, mask.AsSpan());
        return mask;
    }
}
