using AutoGrad.Autograd;
using AutoGrad.Kernels;
using AutoGrad.Memory;

namespace AutoGrad.Ops;

/// <summary>
/// 2-D cross-correlation (PyTorch's conv2d) of x [N, C, H, W] with weight [O, C, kh, kw] and an optional bias [O],
/// as im2col + one GEMM for the whole batch: out[O, N*L] = W[O, C*kh*kw] @ cols[C*kh*kw, N*L], then [N, O, OH, OW].
/// </summary>
internal sealed class Conv2d : Function
{
    private ConvGeometry _geometry;
    private int _outChannels;
    private Tensor? _columns, _weight;

    internal override IReadOnlyDictionary<string, object> Attributes => _geometry.Attributes();

    /// <summary>Arguments are validated by the caller; <paramref name="bias"/> may be null.</summary>
    public static Variable Apply(Variable x, Variable weight, Variable? bias, ConvGeometry g)
    {
        int o = weight.Value.Shape[0];
        int l = g.OutPlane;
        var columns = BufferPool.Rent([g.PatchSize, g.Batch * l]);
        Convolution.Im2Col(x.Value.AsReadOnlySpan(), g, columns.AsSpan());
        var product = BufferPool.Rent([o, g.Batch, l]);
        Gemm.Multiply(weight.Value.AsReadOnlySpan(), columns.AsReadOnlySpan(), product.AsSpan(), o, g.Batch * l, g.PatchSize);
        var output = TensorMath.Permute(product, [1, 0, 2]).WithShape([g.Batch, o, g.OutHeight, g.OutWidth]);
        BufferPool.Return(product);
        if (bias is not null)
        {
            // in place on the fresh output: one pass per (sample, channel) plane
            var y = output.AsSpan();
            var b = bias.Value.AsReadOnlySpan();
            for (int plane = 0; plane < g.Batch * o; plane++)
            {
                var part = y.Slice(plane * l, l);
                System.Numerics.Tensors.TensorPrimitives.Add(part, b[plane % o], part);
            }
        }
        var node = new Conv2d { _geometry = g, _outChannels = o, _columns = columns, _weight = weight.Value };
        return bias is null ? node.Record(output, x, weight) : node.Record(output, [x, weight, bias]);
    }

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // grad as [O, N*L]: the layout of the forward product
        var g = _geometry;
        int o = _outChannels, nl = g.Batch * g.OutPlane;
        var gradT = BufferPool.Rent([o, g.Batch, g.OutPlane]);
        Layout.Permute(grad.AsReadOnlySpan(), [g.Batch, o, g.OutPlane], [1, 0, 2], gradT.AsSpan());

        // input: col2im(W^T @ grad)
        if (NeedsInputGrad[0])
        {
            var columnGrad = BufferPool.Rent([g.PatchSize, nl]);
            Gemm.Multiply(_weight!.AsReadOnlySpan(), gradT.AsReadOnlySpan(), columnGrad.AsSpan(), g.PatchSize, nl, o, transA: true);
            var inputGrad = Tensor.EmptyOwned([g.Batch, g.Channels, g.Height, g.Width]);
            Convolution.Col2Im(columnGrad.AsReadOnlySpan(), g, inputGrad.AsSpan());
            BufferPool.Return(columnGrad);
            inputGrads[0] = inputGrad;
        }

        // weight: grad @ cols^T
        if (NeedsInputGrad[1])
        {
            var weightGrad = Tensor.EmptyOwned((int[])_weight!.ShapeArray.Clone());
            Gemm.Multiply(gradT.AsReadOnlySpan(), _columns!.AsReadOnlySpan(), weightGrad.AsSpan(), o, g.PatchSize, nl, transB: true);
            inputGrads[1] = weightGrad;
        }

        // bias: grad summed over batch and pixels
        if (NeedsInputGrad.Length > 2 && NeedsInputGrad[2])
        {
            inputGrads[2] = TensorMath.Sum(gradT.WithShape([o, nl]), [1], keepDim: false);
        }
        BufferPool.Return(gradT);
    }

    protected override void ReleaseSaved()
    {
        BufferPool.Return(_columns);
        (_columns, _weight) = (null, null);
    }
}
