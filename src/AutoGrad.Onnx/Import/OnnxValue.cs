namespace AutoGrad.Onnx.Import;

/// <summary>
/// One value flowing through an imported graph: a float tensor as a <see cref="Variable"/> (differentiable), or an
/// integer or boolean tensor as plain longs (shapes, indices, masks: never differentiated, so no graph for them).
/// </summary>
internal sealed class OnnxValue
{
    private OnnxValue(Variable? real, long[]? integers, int[] shape, OnnxElement element)
    {
        Real = real;
        Integers = integers;
        Shape = shape;
        Element = element;
    }

    /// <summary>The float tensor, or null for an integer value.</summary>
    public Variable? Real { get; }

    /// <summary>The elements of an integer or boolean value in row-major order, or null for a float value.</summary>
    public long[]? Integers { get; }

    /// <summary>The shape (the Variable's for a float value).</summary>
    public int[] Shape { get; }

    /// <summary>The element type in ONNX's terms.</summary>
    public OnnxElement Element { get; }

    public bool IsFloat => Real is not null;

    public int Length => Real?.Value.Length ?? Integers!.Length;

    public static OnnxValue Float(Variable value) => new(value, null, value.Value.ShapeArray.ToArray(), OnnxElement.Float);

    public static OnnxValue Int(long[] data, int[] shape, OnnxElement element = OnnxElement.Int64) => new(null, data, shape, element);

    public static OnnxValue Bool(bool[] data, int[] shape) => new(null, data.Select(b => b ? 1L : 0L).ToArray(), shape, OnnxElement.Bool);

    public static OnnxValue IntVector(params long[] data) => Int(data, [data.Length]);

    /// <summary>A tensor of <paramref name="shape"/>, rank 0 included (Tensor.FromArray reads an empty shape as 1-D).</summary>
    public static Tensor MakeTensor(float[] data, int[] shape) => shape.Length == 0 ? Tensor.Scalar(data[0]) : Tensor.FromArray(data, shape);

    /// <summary>The value as a float Variable: integers convert (a constant, no gradient).</summary>
    public Variable AsVariable()
        => Real ?? new Variable(MakeTensor(Integers!.Select(v => (float)v).ToArray(), Shape));

    /// <summary>The value's elements as longs: floats must hold whole numbers (they come from a caller's Variable).</summary>
    public long[] AsLongs()
    {
        if (Integers is not null)
        {
            return Integers;
        }
        var data = Real!.Value.AsReadOnlySpan();
        var result = new long[data.Length];
        for (int i = 0; i < data.Length; i++)
        {
            result[i] = (long)data[i];
        }
        return result;
    }

    public override string ToString() => $"{Element} [{string.Join(", ", Shape)}]";
}

/// <summary>The element types the importer computes with (TensorProto.DataType's values).</summary>
internal enum OnnxElement
{
    Float = 1,
    Uint8 = 2,
    Int8 = 3,
    Uint16 = 4,
    Int16 = 5,
    Int32 = 6,
    Int64 = 7,
    String = 8,
    Bool = 9,
    Float16 = 10,
    Double = 11,
    Uint32 = 12,
    Uint64 = 13,
    Complex64 = 14,
    Complex128 = 15,
    Bfloat16 = 16,
}
