using AutoGrad.Graph;

namespace AutoGrad.Ops;

/// <summary>A new shape over the same elements; the result shares the input's buffer.</summary>
internal sealed class ReshapeFunction : Function
{
    private int[] _inputShape = [], _outputShape = [];

    internal override OpKind Kind => OpKind.Reshape;

    internal override OpSettings Settings => new ReshapeSettings(_inputShape, _outputShape);

    public static Variable Apply(Variable x, int[] shape)
    {
        var target = Tensor.ResolveReshape(x.Value.Shape, x.Value.Length, shape, "Reshape");
        return new ReshapeFunction { _inputShape = x.Value.ShapeArray, _outputShape = target }.Record(x.Value.WithShape(target), x);
    }

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // self: grad.reshape(self.shape)
        inputGrads[0] = grad.WithShape(_inputShape);
    }

    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads) => inputGrads[0] = Apply(grad, _inputShape);
}

/// <summary>Reorders dims: output dim d is input dim permutation[d] (validated by the caller).</summary>
internal sealed class PermuteFunction : Function
{
    private int[] _permutation = [];

    internal override OpKind Kind => OpKind.Permute;

    internal override OpSettings Settings => new PermuteSettings(_permutation);

    public static Variable Apply(Variable x, int[] permutation)
        => new PermuteFunction { _permutation = permutation }.Record(TensorMath.Permute(x.Value, permutation), x);

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        // self: grad.permute(inverse(permutation))
        inputGrads[0] = TensorMath.Permute(grad, Inverse());
    }

    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads) => inputGrads[0] = Apply(grad, Inverse());

    private int[] Inverse()
    {
        var inverse = new int[_permutation.Length];
        for (int d = 0; d < inverse.Length; d++)
        {
            inverse[_permutation[d]] = d;
        }
        return inverse;
    }
}
