namespace AutoGrad.Nn;

/// <summary>
/// A 2-D transposed convolution layer (PyTorch's nn.ConvTranspose2d, a decoder's upsampling): weight
/// [in, out / groups, kh, kw], bias [out]; defaults initialize both as PyTorch does, U(-1/sqrt(fan_in), 1/sqrt(fan_in))
/// with PyTorch's fan_in of this weight, (out / groups) * kh * kw.
/// </summary>
public sealed class ConvTranspose2d : Module
{
    /// <summary>A square kernel with equal stride, padding, output padding and dilation in both directions (PyTorch's argument order).</summary>
    public ConvTranspose2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, int outputPadding = 0, int groups = 1,
        bool bias = true, int dilation = 1, Initializer? weightInit = null, Initializer? biasInit = null, Generator? generator = null)
        : this(inChannels, outChannels, (kernelSize, kernelSize), (stride, stride), (padding, padding), (outputPadding, outputPadding), groups, bias,
            (dilation, dilation), weightInit, biasInit, generator)
    {
    }

    /// <summary>Separate (height, width) kernel size, stride, padding, output padding and dilation.</summary>
    public ConvTranspose2d(int inChannels, int outChannels, (int H, int W) kernelSize, (int H, int W) stride, (int H, int W) padding,
        (int H, int W) outputPadding, int groups, bool bias, (int H, int W) dilation, Initializer? weightInit = null, Initializer? biasInit = null,
        Generator? generator = null)
    {
        if (inChannels <= 0 || outChannels <= 0 || kernelSize.H <= 0 || kernelSize.W <= 0)
        {
            throw new ArgumentException(
                $"ConvTranspose2d: in_channels ({inChannels}), out_channels ({outChannels}) and kernel size {kernelSize} must be positive.");
        }
        if (groups <= 0 || inChannels % groups != 0 || outChannels % groups != 0)
        {
            throw new ArgumentException($"ConvTranspose2d: groups ({groups}) must be positive and divide in_channels ({inChannels}) and out_channels ({outChannels}).");
        }
        if (stride.H <= 0 || stride.W <= 0 || dilation.H <= 0 || dilation.W <= 0 || padding.H < 0 || padding.W < 0
            || outputPadding.H < 0 || outputPadding.W < 0 || outputPadding.H >= stride.H || outputPadding.W >= stride.W)
        {
            throw new ArgumentException(
                $"ConvTranspose2d: stride {stride} and dilation {dilation} must be positive, padding {padding} >= 0 and output padding {outputPadding} in [0, stride).");
        }
        (InChannels, OutChannels, KernelSize, Stride, Padding, OutputPadding, Groups, Dilation) =
            (inChannels, outChannels, kernelSize, stride, padding, outputPadding, groups, dilation);
        generator ??= Generator.Default;
        Weight = RegisterParameter("weight", new Parameter(Tensor.Zeros(inChannels, outChannels / groups, kernelSize.H, kernelSize.W)));
        (weightInit ?? Init.PyTorchDefaultWeight())(Weight.Value, generator);
        if (bias)
        {
            Bias = RegisterParameter("bias", new Parameter(Tensor.Zeros(outChannels)));
            (biasInit ?? Init.PyTorchDefaultBias(outChannels / groups * kernelSize.H * kernelSize.W))(Bias.Value, generator);
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

    /// <summary>The padding (height, width) of the convolution this layer transposes: that many rows and columns are cut from each border.</summary>
    public (int H, int W) Padding { get; }

    /// <summary>Rows and columns (height, width) added at the bottom and right of the output.</summary>
    public (int H, int W) OutputPadding { get; }

    /// <summary>Channel groups: input group k feeds output group k only.</summary>
    public int Groups { get; }

    /// <summary>Dilation (height, width).</summary>
    public (int H, int W) Dilation { get; }

    /// <summary>The weight [in, out / groups, kh, kw].</summary>
    public Parameter Weight { get; }

    /// <summary>The bias [out], or null.</summary>
    public Parameter? Bias { get; }

    /// <inheritdoc/>
    public override Variable Forward(Variable input) => F.ConvTranspose2d(input, Weight, Bias, Stride, Padding, OutputPadding, Groups, Dilation);

    /// <inheritdoc/>
    protected override string Describe()
        => $"{InChannels}, {OutChannels}, kernel_size={KernelSize}, stride={Stride}, padding={Padding}, output_padding={OutputPadding}, groups={Groups}, dilation={Dilation}, bias={Bias is not null}";
}
