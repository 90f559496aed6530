using AutoGrad.Graph;

namespace AutoGrad.Ops;

/// <summary>Which tensors a pointwise op's derivative reads: its input, its output, or both.</summary>
[Flags]
internal enum PointwiseSaves
{
    None = 0,
    Input = 1,
    Output = 2,
}

/// <summary>
/// One pointwise op of one input, written once: its forward, its derivative (the tensor backward, from the saved
/// input and/or output) and the same derivative in differentiable ops (for createGraph), side by side. Every such op
/// (exp, log, relu, tanh, GELU, x + s, ...) is a struct implementing this and runs in <see cref="Pointwise{TOp}"/>.
/// </summary>
internal interface IPointwiseOp
{
    /// <summary>What the op computes (its name in messages and graph dumps).</summary>
    OpKind Kind { get; }

    /// <summary>What the derivative reads; the node keeps exactly that (and the version counters guard it).</summary>
    PointwiseSaves Saves { get; }

    /// <summary>The op's settings for exporters and graph dumps.</summary>
    OpSettings Settings { get; }

    /// <summary>y = f(x), elementwise.</summary>
    void Forward(ReadOnlySpan<float> x, Span<float> y);

    /// <summary>grad * f'(x); may return <paramref name="grad"/> itself when f' is 1.</summary>
    Tensor Backward(Tensor grad, Tensor? x, Tensor? y);

    /// <summary>The same product in differentiable ops; <paramref name="y"/> is the output as a node of the graph (null unless saved).</summary>
    Variable BackwardGraph(Variable grad, Variable x, Variable? y);
}

/// <summary>The graph node of a pointwise op (see <see cref="IPointwiseOp"/>); specialized per op, so no delegate call per element.</summary>
internal sealed class Pointwise<TOp> : Function where TOp : struct, IPointwiseOp
{
    private TOp _op;
    private Tensor? _x, _y;

    internal override OpKind Kind => _op.Kind;

    internal override OpSettings Settings => _op.Settings;

    private protected override SavedTensors Saves
        => ((_op.Saves & PointwiseSaves.Input) != 0 ? SavedTensors.Input0 : SavedTensors.None)
           | ((_op.Saves & PointwiseSaves.Output) != 0 ? SavedTensors.Output : SavedTensors.None);

    public static Variable Apply(Variable x, TOp op)
    {
        var result = Tensor.EmptyOwned((int[])x.Value.ShapeArray.Clone());
        op.Forward(x.Value.AsReadOnlySpan(), result.AsSpan());
        var saves = op.Saves;
        return new Pointwise<TOp>
        {
            _op = op,
            _x = (saves & PointwiseSaves.Input) != 0 ? x.Value : null,
            _y = (saves & PointwiseSaves.Output) != 0 ? result : null,
        }.Record(result, x);
    }

    internal override void Backward(Tensor grad, Tensor?[] inputGrads) => inputGrads[0] = _op.Backward(grad, _x, _y);

    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads)
        => inputGrads[0] = _op.BackwardGraph(grad, Inputs[0], _y is null ? null : OutputVariable(_y));

    protected override void ReleaseSaved() => (_x, _y) = (null, null);
}

/// <summary>Formulas shared by pointwise ops' differentiable backwards.</summary>
internal static class Pointwise
{
    /// <summary>
    /// grad * derivative(1, at), with the derivative a constant of the graph: for ops whose derivative is piecewise
    /// constant (ReLU's mask, abs's sign, clamp's window), so their second derivative is zero almost everywhere.
    /// </summary>
    public static Variable TimesConstantDerivative<TMap>(Variable grad, Tensor at, TMap derivative, string name) where TMap : struct, Kernels.IBinaryMap
        => MulFunction.Apply(grad, new Variable(TensorMath.Map(derivative, Tensor.Ones(at.ShapeArray), at, name)));
}
