using System.Numerics.Tensors;
using AutoGrad.Buffers;
using AutoGrad.Kernels;

namespace AutoGrad.Ops;

/// <summary>
/// Any geometry: im2col of a group of samples side by side into a cache-sized column matrix and one GEMM
/// W[O, C*kh*kw] @ cols[C*kh*kw, count*OH*OW], scattered into the NCHW output with the bias. The column matrices are
/// kept for the weight gradient (in one pooled buffer, group g's at g * PerGroup); the adjoints are
/// weight: grad @ cols^T, input: col2im(W^T @ grad).
/// </summary>
internal sealed class Im2ColAlgorithm(ConvGeometry g, int outChannels) : ConvolutionAlgorithm(g, outChannels)
{
    private Tensor? _input, _weight;
    private float[]? _columns;

    private int PerGroup => Geometry.PatchSize * SamplesPerGroup * Geometry.OutPlane;

    public override void BeginForward(Tensor input, Tensor weight, bool saving)
    {
        (_input, _weight) = (input, weight);
        int groups = (Geometry.Batch + SamplesPerGroup - 1) / SamplesPerGroup;
        _columns = saving ? BufferPool.RentFloats(groups * PerGroup) : null;
    }

    public override void BeginTransposed(Tensor weight) => (_input, _weight, _columns) = (null, weight, null);

    /// <summary>First: the product [O, count*L]; Second: the group's columns when nothing is kept.</summary>
    public override ConvScratch RentForwardScratch() => new()
    {
        First = BufferPool.RentFloats(OutChannels * SamplesPerGroup * Geometry.OutPlane),
        Second = _columns is null ? BufferPool.RentFloats(PerGroup) : null,
    };

    public override void Forward(int group, int first, int count, ReadOnlySpan<float> bias, bool relu, Span<float> output, ref ConvScratch scratch, bool serial)
    {
        var geometry = Geometry;
        int o = OutChannels, l = geometry.OutPlane, k = geometry.PatchSize, width = count * l;
        var columns = (_columns is null ? scratch.Second.AsSpan() : _columns.AsSpan(group * PerGroup))[..(k * width)];
        var input = _input!.AsReadOnlySpan();
        for (int s = 0; s < count; s++)
        {
            Convolution.Im2Col(input.Slice((first + s) * geometry.SampleSize, geometry.SampleSize), geometry, columns[(s * l)..], width);
        }
        var product = scratch.First!;
        Gemm.Multiply(_weight!.AsReadOnlySpan(), columns, product, o, width, k, serial: serial);
        // product [O, count, L] -> output [count, O, L], adding the bias on the way
        for (int s = 0; s < count; s++)
        {
            for (int c = 0; c < o; c++)
            {
                var source = product.AsSpan(c * width + s * l, l);
                var target = output.Slice((s * o + c) * l, l);
                if (bias.IsEmpty)
                {
                    source.CopyTo(target);
                }
                else
                {
                    TensorPrimitives.Add(source, bias[c], target);
                }
                if (relu)
                {
                    TensorPrimitives.Max(target, 0f, target);
                }
            }
        }
    }

    /// <summary>First: the group's output gradient as [O, count*L]; Second: the column gradient.</summary>
    public override ConvScratch RentBackwardScratch(bool input, bool weight) => new()
    {
        First = BufferPool.RentFloats(OutChannels * SamplesPerGroup * Geometry.OutPlane),
        Second = input ? BufferPool.RentFloats(PerGroup) : null,
    };

    public override void InputGradient(int group, ReadOnlySpan<float> outputGrad, int first, int count, Span<float> inputGrad, ref ConvScratch scratch, bool serial)
    {
        var geometry = Geometry;
        int l = geometry.OutPlane, width = count * l;
        var gradT = Transposed(group, outputGrad, count, ref scratch);
        var columnGrad = scratch.Second!;
        Gemm.Multiply(_weight!.AsReadOnlySpan(), gradT, columnGrad, geometry.PatchSize, width, OutChannels, transA: true, serial: serial);
        for (int s = 0; s < count; s++)
        {
            Convolution.Col2Im(columnGrad.AsSpan(s * l), geometry, inputGrad.Slice(s * geometry.SampleSize, geometry.SampleSize), width);
        }
    }

    public override void WeightGradient(int group, ReadOnlySpan<float> outputGrad, int first, int count, Span<float> weightGrad, ref ConvScratch scratch, bool serial)
    {
        int k = Geometry.PatchSize, width = count * Geometry.OutPlane;
        var gradT = Transposed(group, outputGrad, count, ref scratch);
        Gemm.Multiply(gradT, _columns.AsSpan(group * PerGroup, k * width), weightGrad, OutChannels, k, width, transB: true, serial: serial);
    }

    /// <summary>The group's output gradient [count, O, L] as [O, count * L], the layout of the forward product (once per group).</summary>
    private float[] Transposed(int group, ReadOnlySpan<float> outputGrad, int count, ref ConvScratch scratch)
    {
        var gradT = scratch.First!;
        if (scratch.Group != group)
        {
            int o = OutChannels, l = Geometry.OutPlane, width = count * l;
            for (int s = 0; s < count; s++)
            {
                for (int c = 0; c < o; c++)
                {
                    outputGrad.Slice((s * o + c) * l, l).CopyTo(gradT.AsSpan(c * width + s * l, l));
                }
            }
            scratch.Group = group;
        }
        return gradT;
    }

    public override void Release()
    {
        BufferPool.ReturnFloats(_columns);
        (_columns, _input, _weight) = (null, null, null);
    }
}
