using AutoGrad.Graph;

namespace AutoGrad.Ops;

// torch.gather and torch.scatter_add along one dim, with an index tensor of the same rank (whole numbers stored as
// floats, as AutoGrad's tensors are float32). They are each other's adjoint: the gradient of a gather scatter-adds,
// the gradient of a scatter-add (with respect to its source) gathers.

/// <summary>out[p] = x[p with its coordinate along dim replaced by index[p]]; out has the index's shape.</summary>
internal sealed class GatherFunction : Function
{
    internal override OpKind Kind => OpKind.Gather;

    internal override OpSettings Settings => new IndexSettings(_dim, _index, _indexShape);

    private int[] _inputShape = [];
    private int _dim;
    private int[] _index = [];
    private int[] _indexShape = [];

    public static Variable Apply(Variable x, int dim, int[] index, int[] indexShape)
    {
        var result = Tensor.EmptyOwned((int[])indexShape.Clone());
        var values = x.Value.AsReadOnlySpan().ToArray();
        var gathered = new float[index.Length];
        Walk(x.Value.Shape, dim, index, indexShape, (target, source) => gathered[source] = values[target]);
        gathered.CopyTo(result.AsSpan());
        return new GatherFunction { _inputShape = x.Value.ShapeArray, _dim = dim, _index = index, _indexShape = indexShape }.Record(result, x);
    }

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
        => inputGrads[0] = ScatterAddFunction.Add(Tensor.ZerosOwned((int[])_inputShape.Clone()), grad, _dim, _index, _indexShape);

    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads)
        => inputGrads[0] = ScatterAddFunction.Apply(Constant(Tensor.Zeros(_inputShape)), _dim, _index, _indexShape, grad);

    /// <summary>
    /// Calls <paramref name="visit"/>(flat offset in a tensor of <paramref name="shape"/>, flat offset in the index)
    /// for every element of the index, the first offset's coordinate along <paramref name="dim"/> being the index value.
    /// </summary>
    internal static void Walk(ReadOnlySpan<int> shape, int dim, int[] index, int[] indexShape, Action<int, int> visit)
    {
        int rank = indexShape.Length;
        var strides = new int[rank];
        for (int d = rank - 1, s = 1; d >= 0; d--)
        {
            strides[d] = s;
            s *= shape[d];
        }
        var position = new int[rank];
        for (int flat = 0; flat < index.Length; flat++)
        {
            int target = 0;
            for (int d = 0; d < rank; d++)
            {
                target += (d == dim ? index[flat] : position[d]) * strides[d];
            }
            visit(target, flat);
            for (int d = rank - 1; d >= 0 && ++position[d] == indexShape[d]; d--)
            {
                position[d] = 0;
            }
        }
    }
}

/// <summary>x with source[p] added at x[p with its coordinate along dim replaced by index[p]] (torch.scatter_add).</summary>
internal sealed class ScatterAddFunction : Function
{
    internal override OpKind Kind => OpKind.ScatterAdd;

    internal override OpSettings Settings => new IndexSettings(_dim, _index, _indexShape);

    private int _dim;
    private int[] _index = [];
    private int[] _indexShape = [];
    private int[] _sourceShape = [];

    public static Variable Apply(Variable x, int dim, int[] index, int[] indexShape, Variable source)
    {
        var result = Add(x.Value.Clone(), source.Value, dim, index, indexShape);
        return new ScatterAddFunction { _dim = dim, _index = index, _indexShape = indexShape, _sourceShape = source.Value.ShapeArray }.Record(result, x, source);
    }

    /// <summary>Adds <paramref name="source"/> (of the index's shape or larger, read at the index's positions) into <paramref name="target"/> in place.</summary>
    internal static Tensor Add(Tensor target, Tensor source, int dim, int[] index, int[] indexShape)
    {
        var t = target.AsSpan().ToArray();
        var s = source.AsReadOnlySpan().ToArray();
        var sourceStrides = Strides(source.Shape);
        var indexStrides = Strides(indexShape);
        GatherFunction.Walk(target.Shape, dim, index, indexShape, (at, flat) => t[at] += s[Offset(flat, indexStrides, sourceStrides)]);
        t.CopyTo(target.AsSpan());
        return target;
    }

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // x: grad; source: grad.gather(dim, index)
        inputGrads[0] = NeedsInputGrad[0] ? grad : null;
        if (NeedsInputGrad[1])
        {
            using var noGrad = GradMode.NoGrad();
            inputGrads[1] = SourceGradient(new Variable(grad)).Value;
        }
    }

    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads)
    {
        inputGrads[0] = NeedsInputGrad[0] ? grad : null;
        inputGrads[1] = NeedsInputGrad[1] ? SourceGradient(grad) : null;
    }

    /// <summary>grad gathered at the index, padded with zeros to the source's shape where the source is larger than the index (its extra entries are never read).</summary>
    private Variable SourceGradient(Variable grad)
    {
        var g = GatherFunction.Apply(grad, _dim, _index, _indexShape);
        for (int d = 0; d < _sourceShape.Length; d++)
        {
            if (_indexShape[d] < _sourceShape[d])
            {
                var shape = (int[])g.Value.ShapeArray.Clone();
                shape[d] = _sourceShape[d];
                g = IndexAddFunction.Apply(g, shape, d, [.. Enumerable.Range(0, _indexShape[d])]);
            }
        }
        return g;
    }

    private static int[] Strides(ReadOnlySpan<int> shape)
    {
        var strides = new int[shape.Length];
        for (int d = shape.Length - 1, s = 1; d >= 0; d--)
        {
            strides[d] = s;
            s *= shape[d];
        }
        return strides;
    }

    /// <summary>The offset in the source of the index element at flat offset <paramref name="flat"/> (same coordinates).</summary>
    private static int Offset(int flat, int[] indexStrides, int[] sourceStrides)
    {
        int offset = 0;
        for (int d = 0; d < indexStrides.Length; d++)
        {
            offset += flat / indexStrides[d] * sourceStrides[d];
            flat %= indexStrides[d];
        }
        return offset;
    }
}
