using System.Numerics.Tensors;
using AutoGrad.Graph;
using AutoGrad.Kernels;

namespace AutoGrad.Ops;

// Activations as pointwise ops (see Pointwise.cs). ReLU, tanh and sigmoid differentiate from their output; the
// others (LeakyReLU, ELU, Softplus, GELU) from their input, with fused maps from Kernels/ActivationMaps.cs.

internal readonly struct ReluOp : IPointwiseOp
{
    public static Variable Apply(Variable x) => Pointwise<ReluOp>.Apply(x, default);

    public OpKind Kind => OpKind.Relu;
    public PointwiseSaves Saves => PointwiseSaves.Output;
    public OpSettings Settings => OpSettings.None;

    public void Forward(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Max(x, 0f, y);

    // self: grad * (result > 0)
    public Tensor Backward(Tensor grad, Tensor? x, Tensor? y) => TensorMath.Map(default(ReluBackwardMap), grad, y!, Kind.ToString());

    // a constant mask: ReLU's second derivative is zero
    public Variable BackwardGraph(Variable grad, Variable x, Variable? y) => Masked(grad, y!.Value, Kind.ToString());

    /// <summary>grad * (result &gt; 0) as a graph op, the mask a constant: the differentiable backward of ReLU and of every node that fuses it.</summary>
    internal static Variable Masked(Variable grad, Tensor result, string op) => Pointwise.TimesConstantDerivative(grad, result, default(ReluBackwardMap), op);
}

internal readonly struct TanhOp : IPointwiseOp
{
    public static Variable Apply(Variable x) => Pointwise<TanhOp>.Apply(x, default);

    public OpKind Kind => OpKind.Tanh;
    public PointwiseSaves Saves => PointwiseSaves.Output;
    public OpSettings Settings => OpSettings.None;

    public void Forward(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Tanh(x, y);

    // self: grad * (1 - result^2)
    public Tensor Backward(Tensor grad, Tensor? x, Tensor? y) => TensorMath.Map(default(TanhBackwardMap), grad, y!, Kind.ToString());

    public Variable BackwardGraph(Variable grad, Variable x, Variable? y) => MulFunction.Apply(grad, RSubScalarOp.Apply(MulFunction.Apply(y!, y!), 1f));
}

/// <summary>1 / (1 + e^-x); exp overflows only to +Inf, giving exactly 0, so large |x| stays finite and NaN-free.</summary>
internal readonly struct SigmoidOp : IPointwiseOp
{
    public static Variable Apply(Variable x) => Pointwise<SigmoidOp>.Apply(x, default);

    public OpKind Kind => OpKind.Sigmoid;
    public PointwiseSaves Saves => PointwiseSaves.Output;
    public OpSettings Settings => OpSettings.None;

    public void Forward(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Sigmoid(x, y);

    // self: grad * result * (1 - result)
    public Tensor Backward(Tensor grad, Tensor? x, Tensor? y) => TensorMath.Map(default(SigmoidBackwardMap), grad, y!, Kind.ToString());

    public Variable BackwardGraph(Variable grad, Variable x, Variable? y) => MulFunction.Apply(grad, MulFunction.Apply(y!, RSubScalarOp.Apply(y!, 1f)));
}

/// <summary>
/// An activation whose forward and derivatives are fused kernels of x alone (LeakyReLU, ELU, Softplus, GELU): forward
/// f, backward grad * f'(x), and second(g, x) = g * f''(x). Its differentiable backward is an
/// <see cref="ActivationGradient{TBackward, TSecond}"/> node, whose own backward uses the second derivative.
/// </summary>
internal readonly struct MappedActivation<TForward, TBackward, TSecond>(TForward forward, TBackward backward, TSecond second, OpKind kind,
    OpSettings settings) : IPointwiseOp
    where TForward : struct, IUnaryMap
    where TBackward : struct, IBinaryMap
    where TSecond : struct, IBinaryMap
{
    public static Variable Apply(Variable x, TForward forward, TBackward backward, TSecond second, OpKind kind, OpSettings settings)
        => Pointwise<MappedActivation<TForward, TBackward, TSecond>>.Apply(x, new(forward, backward, second, kind, settings));

    public OpKind Kind => kind;
    public PointwiseSaves Saves => PointwiseSaves.Input;
    public OpSettings Settings => settings;

    public void Forward(ReadOnlySpan<float> x, Span<float> y) => Map.Apply(forward, x, y);

    // self: backward(grad, self)
    public Tensor Backward(Tensor grad, Tensor? x, Tensor? y) => TensorMath.Map(backward, grad, x!, kind.ToString());

    public Variable BackwardGraph(Variable grad, Variable x, Variable? y) => ActivationGradient<TBackward, TSecond>.Apply(grad, x, backward, second, kind);
}
