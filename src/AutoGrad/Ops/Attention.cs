using AutoGrad.Graph;

namespace AutoGrad.Ops;

/// <summary>
/// softmax(q k^T / sqrt(E)) v, optionally causal, for q [..., L, E], k [..., S, E], v [..., S, Ev] with equal batch
/// dims, as one node (<see cref="Kernels.Attention"/>): the attention weights live only as this node's saved scratch.
/// F.ScaledDotProductAttention takes it when there is no additive mask and no dropout.
/// </summary>
internal sealed class ScaledDotProductAttentionFunction : Function
{
    private protected override SavedTensors Saves => SavedTensors.Input0 | SavedTensors.Input1 | SavedTensors.Input2;

    private Tensor? _q, _k, _v, _weights;
    private bool _causal;

    internal override OpKind Kind => OpKind.ScaledDotProductAttention;

    internal override OpSettings Settings => new AttentionSettings(_causal);

    /// <summary>Shapes are validated by the caller (batch dims equal, last dims aligned).</summary>
    public static Variable Apply(Variable query, Variable key, Variable value, bool causal)
    {
        var (groups, l, s, e, ev) = Dims(query.Value, key.Value, value.Value);
        var outputShape = (int[])query.Value.ShapeArray.Clone();
        outputShape[^1] = ev;
        var output = Tensor.EmptyOwned(outputShape);
        var weights = Buffers.BufferPool.Rent([groups, l, s]);
        Kernels.Attention.Forward(query.Value.AsReadOnlySpan(), key.Value.AsReadOnlySpan(), value.Value.AsReadOnlySpan(), groups, l, s, e, ev, causal,
            weights.AsSpan(), output.AsSpan());
        var node = new ScaledDotProductAttentionFunction { _q = query.Value, _k = key.Value, _v = value.Value, _weights = weights, _causal = causal };
        return node.Record(output, [query, key, value]);
    }

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // query: (P * (grad v^T - rowsum(P * grad v^T)) / sqrt(E)) k; key: that^T q; value: P^T grad   (P = the weights)
        var (groups, l, s, e, ev) = Dims(_q!, _k!, _v!);
        var dq = NeedsInputGrad[0] ? Tensor.EmptyOwned((int[])_q!.ShapeArray.Clone()) : null;
        var dk = NeedsInputGrad[1] ? Tensor.EmptyOwned((int[])_k!.ShapeArray.Clone()) : null;
        var dv = NeedsInputGrad[2] ? Tensor.EmptyOwned((int[])_v!.ShapeArray.Clone()) : null;
        Kernels.Attention.Backward(_q!.AsReadOnlySpan(), _k!.AsReadOnlySpan(), _v!.AsReadOnlySpan(), _weights!.AsReadOnlySpan(), grad.AsReadOnlySpan(),
            groups, l, s, e, ev, dq is null ? default : dq.AsSpan(), dk is null ? default : dk.AsSpan(), dv is null ? default : dv.AsSpan());
        (inputGrads[0], inputGrads[1], inputGrads[2]) = (dq, dk, dv);
    }

    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads)
    {
        // the same formulas in differentiable ops, the weights recomputed from the inputs so their derivative reaches q and k
        Variable q = Inputs[0], k = Inputs[1], v = Inputs[2];
        var weights = F.AttentionWeights(q, k, _causal);
        var dWeights = F.MatMul(grad, F.Transpose(v, -2, -1));
        var dScores = F.Div(F.Mul(weights, F.Sub(dWeights, F.Sum(F.Mul(dWeights, weights), [-1], keepDim: true))), MathF.Sqrt(q.Shape[^1]));
        inputGrads[0] = NeedsInputGrad[0] ? F.MatMul(dScores, k) : null;
        inputGrads[1] = NeedsInputGrad[1] ? F.MatMul(F.Transpose(dScores, -2, -1), q) : null;
        inputGrads[2] = NeedsInputGrad[2] ? F.MatMul(F.Transpose(weights, -2, -1), grad) : null;
    }

    protected override void ReleaseSaved()
    {
        Buffers.BufferPool.Return(_weights);
        (_q, _k, _v, _weights) = (null, null, null, null);
    }

    private static (int Groups, int L, int S, int E, int Ev) Dims(Tensor q, Tensor k, Tensor v)
    {
        int l = q.Shape[^2], e = q.Shape[^1], s = k.Shape[^2], ev = v.Shape[^1];
        int groups = Shapes.Numel(q.Shape[..^2]);
        return (groups, l, s, e, ev);
    }
}
