namespace AutoGrad.Nn;

/// <summary>Max pooling (PyTorch's nn.MaxPool2d); the stride defaults to the kernel size.</summary>
public sealed class MaxPool2d(int kernelSize, int? stride = null, int padding = 0) : Module
{
    /// <summary>The window size.</summary>
    public int KernelSize { get; } = kernelSize;

    /// <summary>The step between windows.</summary>
    public int Stride { get; } = stride ?? kernelSize;

    /// <summary>Implicit -infinity padding on each side.</summary>
    public int Padding { get; } = padding;

    /// <inheritdoc/>
    public override Variable Forward(Variable input) => F.MaxPool2d(input, KernelSize, Stride, Padding);

    /// <summary>ReLU followed by this pooling as one node: max(0, .) on the window maxima (it commutes with a maximum).</summary>
    internal Variable ForwardAfterRelu(Variable input) => F.MaxPool2dAfterRelu(input, KernelSize, Stride, Padding);

    /// <inheritdoc/>
    protected override string Describe() => $"kernel_size={KernelSize}, stride={Stride}, padding={Padding}";
}

/// <summary>Average pooling (PyTorch's nn.AvgPool2d, count_include_pad); the stride defaults to the kernel size.</summary>
public sealed class AvgPool2d(int kernelSize, int? stride = null, int padding = 0) : Module
{
    /// <summary>The window size.</summary>
    public int KernelSize { get; } = kernelSize;

    /// <summary>The step between windows.</summary>
    public int Stride { get; } = stride ?? kernelSize;

    /// <summary>Implicit zero padding on each side (counted in the average).</summary>
    public int Padding { get; } = padding;

    /// <inheritdoc/>
    public override Variable Forward(Variable input) => F.AvgPool2d(input, KernelSize, Stride, Padding);

    /// <inheritdoc/>
    protected override string Describe() => $"kernel_size={KernelSize}, stride={Stride}, padding={Padding}";
}
