namespace AutoGrad.Nn;

/// <summary>
/// Linear followed by ReLU as one node (PyTorch's <c>torch.ao.nn.intrinsic.LinearReLU</c>): the same values and
/// gradients as <c>Sequential(Linear, ReLU)</c> without the pre-activation tensor. Its children are named "0" (the
/// Linear) and "1" (the ReLU), as in PyTorch, so the parameters are <c>0.weight</c> and <c>0.bias</c>.
/// </summary>
public sealed class LinearReLU : Module
{
    /// <summary>Creates the Linear layer inside (same arguments as <see cref="Linear"/>).</summary>
    public LinearReLU(int inFeatures, int outFeatures, bool bias = true, Initializer? weightInit = null, Initializer? biasInit = null,
        Generator? generator = null)
        : this(new Linear(inFeatures, outFeatures, bias, weightInit, biasInit, generator))
    {
    }

    /// <summary>Fuses an existing layer (its parameters are shared, not copied).</summary>
    public LinearReLU(Linear linear)
    {
        ArgumentNullException.ThrowIfNull(linear);
        Linear = RegisterModule("0", linear);
        _relu = RegisterModule("1", new ReLU());
    }

    private readonly ReLU _relu;

    /// <summary>The Linear layer.</summary>
    public Linear Linear { get; }

    /// <inheritdoc/>
    public override Variable Forward(Variable input)
        => Linear.HasHooks || _relu.HasHooks ? _relu.Call(Linear.Call(input)) : Linear.Forward(input, Activation.Relu);
}

/// <summary>
/// Conv2d followed by ReLU as one node (PyTorch's <c>torch.ao.nn.intrinsic.ConvReLU2d</c>); children "0" (the Conv2d)
/// and "1" (the ReLU), so the parameters are <c>0.weight</c> and <c>0.bias</c>.
/// </summary>
public sealed class ConvReLU2d : Module
{
    /// <summary>Creates the Conv2d layer inside (same arguments as <see cref="Conv2d"/>).</summary>
    public ConvReLU2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, int dilation = 1, bool bias = true,
        Initializer? weightInit = null, Initializer? biasInit = null, Generator? generator = null)
        : this(new Conv2d(inChannels, outChannels, kernelSize, stride, padding, dilation, bias, weightInit, biasInit, generator))
    {
    }

    /// <summary>Fuses an existing layer (its parameters are shared, not copied).</summary>
    public ConvReLU2d(Conv2d conv)
    {
        ArgumentNullException.ThrowIfNull(conv);
        Conv = RegisterModule("0", conv);
        _relu = RegisterModule("1", new ReLU());
    }

    private readonly ReLU _relu;

    /// <summary>The Conv2d layer.</summary>
    public Conv2d Conv { get; }

    /// <inheritdoc/>
    public override Variable Forward(Variable input)
        => Conv.HasHooks || _relu.HasHooks ? _relu.Call(Conv.Call(input)) : Conv.Forward(input, Activation.Relu);
}
