using AutoGrad.Graph;
using AutoGrad.Kernels;

namespace AutoGrad.Ops;

/// <summary>
/// Selects entries along one dim by index (repeats allowed): IndexSelect, and Slice as the special case of an
/// arithmetic index sequence, and Embedding as rows of a weight. Backward scatter-adds the gradient to the
/// selected positions (none to an embedding's padding row).
/// </summary>
internal sealed class SelectFunction : Function
{
    private OpKind _kind = OpKind.IndexSelect;
    private int[] _inputShape = [];
    private int _dim;
    private int[] _indices = [];
    private int? _paddingIndex;

    internal override OpKind Kind => _kind;

    internal override OpSettings Settings => new SelectSettings(_dim, _indices, _paddingIndex);

    /// <summary>
    /// <paramref name="indices"/> must be in range for <paramref name="dim"/> (validated by the caller). An embedding
    /// lookup may name the variable its indices came from (<paramref name="indexSource"/>, no gradient): then an
    /// exported graph reads them from there instead of baking them in; its output has the indices' shape followed
    /// by the row (<paramref name="outputShape"/>, the same row-major entries as [count, dim]).
    /// </summary>
    public static Variable Apply(Variable x, int dim, int[] indices, OpKind kind, Variable? indexSource = null, int? paddingIndex = null,
        int[]? outputShape = null)
    {
        var shape = x.Value.ShapeArray;
        var (outer, size, inner) = Split(shape, dim);
        var outShape = outputShape ?? [.. shape[..dim], indices.Length, .. shape[(dim + 1)..]];
        var result = Tensor.EmptyOwned(outShape);
        Layout.Gather(x.Value.AsReadOnlySpan(), outer, size, inner, indices, result.AsSpan());
        var node = new SelectFunction { _kind = kind, _inputShape = shape, _dim = dim, _indices = indices, _paddingIndex = paddingIndex };
        return indexSource is null ? node.Record(result, x) : node.Record(result, x, indexSource);
    }

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // self: zeros(self.shape).index_add_(dim, index, grad)
        var (outer, size, inner) = Split(_inputShape, _dim);
        var g = Tensor.ZerosOwned((int[])_inputShape.Clone());
        Layout.ScatterAdd(grad.AsReadOnlySpan(), outer, size, inner, _indices, g.AsSpan());
        if (_paddingIndex is int padding)
        {
            // padding_idx: every lookup of that row stays out of its gradient (dim 0 of an embedding weight)
            g.AsSpan().Slice(padding * inner, inner).Clear();
        }
        inputGrads[0] = g;
    }

    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads)
    {
        // an embedding's gradient arrives in the indices' shape; IndexAdd takes the rows as [count, dim]
        int[] selectedShape = [.. _inputShape[.._dim], _indices.Length, .. _inputShape[(_dim + 1)..]];
        var g = IndexAddFunction.Apply(grad.Shape.SequenceEqual(selectedShape) ? grad : ReshapeFunction.Apply(grad, selectedShape), _inputShape, _dim, _indices);
        if (_paddingIndex is int padding)
        {
            var keep = Tensor.Ones(_inputShape[0], 1);
            keep.AsSpan()[padding] = 0f;
            g = MulFunction.Apply(g, Constant(keep));
        }
        inputGrads[0] = g;
    }

    internal static (int Outer, int Size, int Inner) Split(ReadOnlySpan<int> shape, int dim)
    {
        int outer = 1, inner = 1;
        for (int d = 0; d < dim; d++)
        {
            outer *= shape[d];
        }
        for (int d = dim + 1; d < shape.Length; d++)
        {
            inner *= shape[d];
        }
        return (outer, shape[dim], inner);
    }
}

/// <summary>Joins tensors along an existing dim (shapes validated by the caller).</summary>
internal sealed class ConcatFunction : Function
{
    internal override OpKind Kind => OpKind.Concat;

    internal override OpSettings Settings => new AxisSettings(_dim);

    private int _dim;
    private int[] _sizes = [];

    public static Variable Apply(Variable[] xs, int dim)
    {
        var shape = (int[])xs[0].Value.ShapeArray.Clone();
        var sizes = new int[xs.Length];
        int total = 0;
        for (int i = 0; i < xs.Length; i++)
        {
            sizes[i] = xs[i].Value.Shape[dim];
            total += sizes[i];
        }
        shape[dim] = total;
        var result = Tensor.ZerosOwned(shape);
        var (outer, _, inner) = SelectFunction.Split(shape, dim);
        int offset = 0;
        for (int i = 0; i < xs.Length; i++)
        {
            Layout.ScatterAdd(xs[i].Value.AsReadOnlySpan(), outer, total, inner, Range(offset, sizes[i]), result.AsSpan());
            offset += sizes[i];
        }
        return new ConcatFunction { _dim = dim, _sizes = sizes }.Record(result, xs);
    }

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // input i: grad.narrow(dim, offset_i, size_i)
        var (outer, total, inner) = SelectFunction.Split(grad.Shape, _dim);
        int offset = 0;
        for (int i = 0; i < _sizes.Length; i++)
        {
            if (NeedsInputGrad[i])
            {
                var shape = (int[])grad.ShapeArray.Clone();
                shape[_dim] = _sizes[i];
                var g = Tensor.EmptyOwned(shape);
                Layout.Gather(grad.AsReadOnlySpan(), outer, total, inner, Range(offset, _sizes[i]), g.AsSpan());
                inputGrads[i] = g;
            }
            offset += _sizes[i];
        }
    }

    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads)
    {
        int offset = 0;
        for (int i = 0; i < _sizes.Length; i++)
        {
            inputGrads[i] = NeedsInputGrad[i] ? SelectFunction.Apply(grad, _dim, Range(offset, _sizes[i]), OpKind.Slice) : null;
            offset += _sizes[i];
        }
    }

    private static int[] Range(int start, int count)
    {
        var r = new int[count];
        for (int i = 0; i < count; i++)
        {
            r[i] = start + i;
        }
        return r;
    }
}

/// <summary>
/// zeros(shape).index_add(dim, indices, source): the gradient of a <see cref="SelectFunction"/> as a node of its own (made by a
/// backward with createGraph); its own gradient selects the same entries again.
/// </summary>
internal sealed class IndexAddFunction : Function
{
    internal override OpKind Kind => OpKind.IndexAdd;

    internal override OpSettings Settings => new SelectSettings(_dim, _indices);

    private int _dim;
    private int[] _indices = [];

    public static Variable Apply(Variable source, int[] shape, int dim, int[] indices)
    {
        var (outer, size, inner) = SelectFunction.Split(shape, dim);
        var result = Tensor.ZerosOwned((int[])shape.Clone());
        Layout.ScatterAdd(source.Value.AsReadOnlySpan(), outer, size, inner, indices, result.AsSpan());
        return new IndexAddFunction { _dim = dim, _indices = indices }.Record(result, source);
    }

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // source: grad.index_select(dim, indices)
        var (outer, size, inner) = SelectFunction.Split(grad.Shape, _dim);
        var shape = (int[])grad.ShapeArray.Clone();
        shape[_dim] = _indices.Length;
        var g = Tensor.EmptyOwned(shape);
        Layout.Gather(grad.AsReadOnlySpan(), outer, size, inner, _indices, g.AsSpan());
        inputGrads[0] = g;
    }

    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads) => inputGrads[0] = SelectFunction.Apply(grad, _dim, _indices, OpKind.IndexSelect);
}
