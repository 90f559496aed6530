namespace AutoGrad.Nn;

/// <summary>
/// A 2-D convolution layer (PyTorch's nn.Conv2d): weight [out, in, kh, kw], bias [out]; defaults initialize both as
/// PyTorch does, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in * kh * kw.
/// </summary>
public sealed class Conv2d : Module
{
    /// <summary>A square kernel with equal stride, padding and dilation in both directions.</summary>
    public Conv2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, int dilation = 1, bool bias = true,
        Initializer? weightInit = null, Initializer? biasInit = null, Generator? generator = null)
        : this(inChannels, outChannels, (kernelSize, kernelSize), (stride, stride), (padding, padding), (dilation, dilation), bias,
            weightInit, biasInit, generator)
    {
    }

    /// <summary>Separate (height, width) kernel size, stride, padding and dilation.</summary>
    public Conv2d(int inChannels, int outChannels, (int H, int W) kernelSize, (int H, int W) stride, (int H, int W) padding,
        (int H, int W) dilation, bool bias = true, Initializer? weightInit = null, Initializer? biasInit = null, Generator? generator = null)
    {
        if (inChannels <= 0 || outChannels <= 0 || kernelSize.H <= 0 || kernelSize.W <= 0)
        {
            throw new ArgumentException(
                $"Conv2d: in_channels ({inChannels}), out_channels ({outChannels}) and kernel size {kernelSize} must be positive.");
        }
        if (stride.H <= 0 || stride.W <= 0 || dilation.H <= 0 || dilation.W <= 0 || padding.H < 0 || padding.W < 0)
        {
            throw new ArgumentException($"Conv2d: stride {stride} and dilation {dilation} must be positive and padding {padding} >= 0.");
        }
        (InChannels, OutChannels, KernelSize, Stride, Padding, Dilation) = (inChannels, outChannels, kernelSize, stride, padding, dilation);
        generator ??= Generator.Default;
        Weight = RegisterParameter("weight", new Parameter(Tensor.Zeros(outChannels, inChannels, kernelSize.H, kernelSize.W)));
        (weightInit ?? Init.PyTorchDefaultWeight())(Weight.Value, generator);
        if (bias)
        {
            Bias = RegisterParameter("bias", new Parameter(Tensor.Zeros(outChannels)));
            (biasInit ?? Init.PyTorchDefaultBias(inChannels * kernelSize.H * kernelSize.W))(Bias.Value, generator);
        }
    }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }

    /// <summary>Kernel (height, width).</summary>
    public (int H, int W) KernelSize { get; }

    /// <summary>Stride (height, width).</summary>
    public (int H, int W) Stride { get; }

    /// <summary>Zero padding (height, width).</summary>
    public (int H, int W) Padding { get; }

    /// <summary>Dilation (height, width).</summary>
    public (int H, int W) Dilation { get; }

    /// <summary>The weight [out, in, kh, kw].</summary>
    public Parameter Weight { get; }

    /// <summary>The bias [out], or null.</summary>
    public Parameter? Bias { get; }

    /// <inheritdoc/>
    public override Variable Forward(Variable input) => F.Conv2d(input, Weight, Bias, Stride, Padding, Dilation);

    /// <summary>The layer with <paramref name="activation"/> applied in its node (see <see cref="AutoGrad.Activation"/>).</summary>
    public Variable Forward(Variable input, Activation activation) => F.Conv2d(input, Weight, Bias, Stride, Padding, Dilation, activation);

    /// <summary>
    /// This layer, ReLU and <paramref name="pool"/> as one node where that node applies (a 2x2 max pooling with stride 2 after
    /// a direct convolution of a batch), else null: what a Sequential of the three runs.
    /// </summary>
    internal Variable? ForwardWithReluAndPool(Variable input, MaxPool2d pool)
        => pool is { KernelSize: 2, Stride: 2, Padding: 0 } ? F.Conv2dReluMaxPool2(input, Weight, Bias, Stride, Padding, Dilation) : null;

    /// <inheritdoc/>
    protected override string Describe()
        => $"{InChannels}, {OutChannels}, kernel_size={KernelSize}, stride={Stride}, padding={Padding}, dilation={Dilation}, bias={Bias is not null}";
}
