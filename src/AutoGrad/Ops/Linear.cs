using AutoGrad.Graph;
using AutoGrad.Kernels;

namespace AutoGrad.Ops;

/// <summary>
/// The affine map of a fully connected layer, y = x W^T + b, with x [rows, in], W [out, in] and b [out], as one
/// GEMM with W transposed in packing (no materialized transpose) and the bias added in the same node. With
/// <c>relu</c> the node also applies max(0, .) (a Sequential fuses Linear + ReLU this way) and masks the gradient.
/// </summary>
internal sealed class LinearFunction : Function
{
    private protected override SavedTensors Saves => _relu ? SavedTensors.Inputs01 | SavedTensors.Output : SavedTensors.Inputs01;

    private Tensor? _x, _weight, _activated;

    internal override OpKind Kind => OpKind.Linear;

    internal override OpSettings Settings => new LinearSettings(_relu ? Activation.Relu : Activation.None);

    private bool _relu;

    /// <summary>Arguments are validated by the caller; x is already folded to rank 2; <paramref name="bias"/> may be null.</summary>
    public static Variable Apply(Variable x, Variable weight, Variable? bias, bool relu = false)
    {
        int rows = x.Value.Shape[0], inFeatures = x.Value.Shape[1], outFeatures = weight.Value.Shape[0];
        var output = Tensor.EmptyOwned([rows, outFeatures]);
        var y = output.AsSpan();
        if (bias is not null)
        {
            // GEMM accumulates onto the broadcast bias rows.
            var b = bias.Value.AsReadOnlySpan();
            for (int r = 0; r < rows; r++)
            {
                b.CopyTo(y.Slice(r * outFeatures, outFeatures));
            }
        }
        Gemm.Multiply(x.Value.AsReadOnlySpan(), weight.Value.AsReadOnlySpan(), y, rows, outFeatures, inFeatures,
            transB: true, accumulate: bias is not null);
        if (relu)
        {
            System.Numerics.Tensors.TensorPrimitives.Max(y, 0f, y);
        }
        var node = new LinearFunction { _x = x.Value, _weight = weight.Value, _relu = relu, _activated = relu ? output : null };
        return bias is null ? node.Record(output, x, weight) : node.Record(output, [x, weight, bias]);
    }

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // a fused ReLU first: grad * (output > 0), in a scratch tensor given back at the end
        if (_activated is null)
        {
            BackwardAffine(grad, inputGrads);
            return;
        }
        var masked = Buffers.BufferPool.Rent(grad.ShapeArray); // shares the shape array: neither tensor changes it
        Map.Apply(default(ReluBackwardMap), grad.AsReadOnlySpan(), _activated.AsReadOnlySpan(), masked.AsSpan());
        BackwardAffine(masked, inputGrads);
        Buffers.BufferPool.Return(masked);
    }

    private void BackwardAffine(Tensor grad, Tensor?[] inputGrads)
    {
        int rows = _x!.Shape[0], inFeatures = _x.Shape[1], outFeatures = _weight!.Shape[0];
        // x: grad @ W   ([rows, out] @ [out, in])
        if (NeedsInputGrad[0])
        {
            var dx = Tensor.EmptyOwned([rows, inFeatures]);
            Gemm.Multiply(grad.AsReadOnlySpan(), _weight.AsReadOnlySpan(), dx.AsSpan(), rows, inFeatures, outFeatures);
            inputGrads[0] = dx;
        }
        // W: grad^T @ x   ([out, rows] @ [rows, in])
        if (NeedsInputGrad[1])
        {
            var dw = Tensor.EmptyOwned([outFeatures, inFeatures]);
            Gemm.Multiply(grad.AsReadOnlySpan(), _x.AsReadOnlySpan(), dw.AsSpan(), outFeatures, inFeatures, rows, transA: true);
            inputGrads[1] = dw;
        }
        // b: column sums of grad
        if (inputGrads.Length > 2 && NeedsInputGrad[2])
        {
            inputGrads[2] = TensorMath.Sum(grad, [0], keepDim: false);
        }
    }

    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads)
    {
        // the fused ReLU's mask is a constant (its second derivative is zero)
        var g = _activated is null ? grad : ReluOp.Masked(grad, _activated, Name);
        inputGrads[0] = NeedsInputGrad[0] ? MatMulFunction.Apply(g, Inputs[1]) : null;
        inputGrads[1] = NeedsInputGrad[1] ? MatMulFunction.Apply(MatMulFunction.Transposed(g), Inputs[0]) : null;
        if (inputGrads.Length > 2)
        {
            inputGrads[2] = NeedsInputGrad[2] ? SumFunction.Apply(g, [0], keepDim: false) : null;
        }
    }

    protected override void ReleaseSaved() => (_x, _weight, _activated) = (null, null, null);
}
