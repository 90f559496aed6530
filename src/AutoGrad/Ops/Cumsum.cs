using AutoGrad.Graph;

namespace AutoGrad.Ops;

/// <summary>
/// Running sums along one dim (torch.cumsum), forwards or from the end: each direction's gradient is the other
/// direction's running sum of the gradient.
/// </summary>
internal sealed class CumsumFunction : Function
{
    private int _dim;
    private bool _reverse;

    internal override OpKind Kind => _reverse ? OpKind.ReverseCumsum : OpKind.Cumsum;

    internal override OpSettings Settings => new AxisSettings(_dim);

    public static Variable Apply(Variable x, int dim, bool reverse = false)
        => new CumsumFunction { _dim = dim, _reverse = reverse }.Record(Sum(x.Value, dim, reverse), x);

    // self: the running sum of grad in the other direction
    internal override void Backward(Tensor grad, Tensor?[] inputGrads) => inputGrads[0] = Sum(grad, _dim, !_reverse);

    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads) => inputGrads[0] = Apply(grad, _dim, !_reverse);

    private static Tensor Sum(Tensor x, int dim, bool reverse)
    {
        var (outer, size, inner) = SelectFunction.Split(x.Shape, dim);
        var result = Tensor.EmptyOwned((int[])x.ShapeArray.Clone());
        var source = x.AsReadOnlySpan();
        var target = result.AsSpan();
        for (int o = 0; o < outer; o++)
        {
            for (int i = 0; i < inner; i++)
            {
                float running = 0f;
                for (int k = 0; k < size; k++)
                {
                    int at = (o * size + (reverse ? size - 1 - k : k)) * inner + i;
                    running += source[at];
                    target[at] = running;
                }
            }
        }
        return result;
    }
}
