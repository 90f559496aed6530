namespace AutoGrad;

/// <summary>
/// An activation a layer applies to its output inside its own graph node (an epilogue): <c>F.Linear(x, w, b,
/// Activation.Relu)</c> equals <c>F.Relu(F.Linear(x, w, b))</c> bit for bit, but the pre-activation tensor never exists
/// and the backward masks the gradient as it reads it. The fast path for a Module of your own; <see cref="Nn.Sequential"/>
/// and the fused modules (<see cref="Nn.LinearReLU"/>, <see cref="Nn.ConvReLU2d"/>) use it too.
/// </summary>
public enum Activation
{
    /// <summary>No activation: the layer's output as it is.</summary>
    None,

    /// <summary>max(0, x).</summary>
    Relu,
}
