using System.Numerics.Tensors;

namespace AutoGrad.Kernels;

/// <summary>Data movement: permuting dimensions, and gathering or scatter-adding slices along one dimension.</summary>
internal static class Layout
{
    /// <summary>destination[i0..] = x[i_perm^-1...]: destination dim d is source dim <paramref name="permutation"/>[d].</summary>
    public static void Permute(ReadOnlySpan<float> x, ReadOnlySpan<int> shape, ReadOnlySpan<int> permutation, Span<float> destination)
    {
        int rank = shape.Length;
        if (x.Length == 0)
        {
            return;
        }
        var sourceStrides = Shapes.ContiguousStrides(shape);
        Span<int> outShape = stackalloc int[rank];
        Span<int> strides = stackalloc int[rank];
        int r = 0;
        for (int d = 0; d < rank; d++)
        {
            int size = shape[permutation[d]];
            int stride = sourceStrides[permutation[d]];
            if (size == 1)
            {
                continue;
            }
            if (r > 0 && strides[r - 1] == stride * size)
            {
                outShape[r - 1] *= size; // contiguous in the source too: merge
                strides[r - 1] = stride;
                continue;
            }
            outShape[r] = size;
            strides[r] = stride;
            r++;
        }
        if (r == 0)
        {
            destination[0] = x[0];
            return;
        }
        int inner = outShape[r - 1];
        int innerStride = strides[r - 1];
        Span<int> index = stackalloc int[r];
        index.Clear();
        int source = 0;
        for (int offset = 0; offset < x.Length; offset += inner)
        {
            var row = destination.Slice(offset, inner);
            if (innerStride == 1)
            {
                x.Slice(source, inner).CopyTo(row);
            }
            else
            {
                for (int i = 0, s = source; i < inner; i++, s += innerStride)
                {
                    row[i] = x[s];
                }
            }
            for (int k = r - 2; k >= 0; k--)
            {
                index[k]++;
                source += strides[k];
                if (index[k] < outShape[k])
                {
                    break;
                }
                source -= strides[k] * outShape[k];
                index[k] = 0;
            }
        }
    }

    /// <summary>
    /// Views x as [outer, size, inner] and writes destination[o, j, :] = x[o, indices[j], :], destination being
    /// [outer, indices.Length, inner]. Indices must already be validated.
    /// </summary>
    public static void Gather(ReadOnlySpan<float> x, int outer, int size, int inner, ReadOnlySpan<int> indices, Span<float> destination)
    {
        int count = indices.Length;
        for (int o = 0; o < outer; o++)
        {
            for (int j = 0; j < count; j++)
            {
                x.Slice((o * size + indices[j]) * inner, inner).CopyTo(destination.Slice((o * count + j) * inner, inner));
            }
        }
    }

    /// <summary>The adjoint of <see cref="Gather"/>: destination[o, indices[j], :] += x[o, j, :] (repeated indices add up).</summary>
    public static void ScatterAdd(ReadOnlySpan<float> x, int outer, int size, int inner, ReadOnlySpan<int> indices, Span<float> destination)
    {
        int count = indices.Length;
        for (int o = 0; o < outer; o++)
        {
            for (int j = 0; j < count; j++)
            {
                var target = destination.Slice((o * size + indices[j]) * inner, inner);
                TensorPrimitives.Add(target, x.Slice((o * count + j) * inner, inner), target);
            }
        }
    }
}
