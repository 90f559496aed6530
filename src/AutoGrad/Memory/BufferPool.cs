using System.Buffers;

namespace AutoGrad.Memory;

/// <summary>
/// Reuses the large scratch buffers of convolution and pooling (column matrices, arg-max indices, transposed
/// gradients), whose lifetime the op itself ends: rented in forward or backward, returned when the op no longer needs
/// them (at the latest when its graph is released). Buffers above 85 KB would otherwise land on the large-object heap
/// every step and force full garbage collections. Kernels' packing buffers come from here too: unlike
/// ArrayPool.Shared, this pool is not trimmed after every full collection (which cost more than the GEMMs it served).
/// Buffers are not cleared on rent.
/// </summary>
internal static class BufferPool
{
    private static readonly ArrayPool<float> Floats = ArrayPool<float>.Create(1 << 30, 16);
    private static readonly ArrayPool<int> Ints = ArrayPool<int>.Create(1 << 30, 16);

    /// <summary>A tensor of <paramref name="shape"/> over a pooled buffer (contents undefined); give it back with <see cref="Return(Tensor?)"/>.</summary>
    public static Tensor Rent(int[] shape) => new(Floats.Rent(Shapes.Numel(shape)), shape);

    /// <summary>Returns a tensor's buffer from <see cref="Rent"/>; the tensor must not be used afterwards.</summary>
    public static void Return(Tensor? tensor)
    {
        if (tensor is not null)
        {
            Floats.Return(tensor.Buffer);
        }
    }

    /// <summary>A float buffer of at least <paramref name="length"/> elements (contents undefined).</summary>
    public static float[] RentFloats(int length) => Floats.Rent(length);

    /// <summary>Returns a float buffer from <see cref="RentFloats"/>.</summary>
    public static void ReturnFloats(float[]? buffer)
    {
        if (buffer is not null)
        {
            Floats.Return(buffer);
        }
    }

    /// <summary>An int buffer of at least <paramref name="length"/> elements.</summary>
    public static int[] RentInts(int length) => Ints.Rent(length);

    /// <summary>Returns an int buffer from <see cref="RentInts"/>.</summary>
    public static void ReturnInts(int[]? buffer)
    {
        if (buffer is not null)
        {
            Ints.Return(buffer);
        }
    }
}
