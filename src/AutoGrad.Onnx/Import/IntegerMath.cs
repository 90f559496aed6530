namespace AutoGrad.Onnx.Import;

/// <summary>
/// Integer tensors: numpy-broadcast arithmetic with the element type's wrap-around, and data movement (reshape, slice,
/// gather, ...) done exactly by moving positions through the float op and reading the longs back.
/// </summary>
internal static class IntegerMath
{
    /// <summary>numpy's broadcast of two shapes, or null when they do not broadcast.</summary>
    public static int[]? BroadcastShape(int[] a, int[] b) => Shapes.TryBroadcast(a, b, out var result, out _) ? result : null;

    /// <summary>Applies <paramref name="op"/> elementwise with broadcasting.</summary>
    public static OnnxValue Binary(NodeContext context, OnnxValue a, OnnxValue b, Func<long, long, long> op, OnnxElement element)
    {
        var shape = BroadcastShape(a.Shape, b.Shape) ?? throw context.Invalid($"shapes {a} and {b} do not broadcast");
        var x = a.AsLongs();
        var y = b.AsLongs();
        int count = shape.Aggregate(1, (p, d) => p * d);
        var result = new long[count];
        var index = new int[shape.Length];
        for (int i = 0; i < count; i++)
        {
            result[i] = Wrap(op(x[Offset(index, a.Shape)], y[Offset(index, b.Shape)]), element);
            for (int d = shape.Length - 1; d >= 0 && ++index[d] == shape[d]; d--)
            {
                index[d] = 0;
            }
        }
        return OnnxValue.Int(result, shape, element);
    }

    private static int Offset(int[] index, int[] shape)
    {
        int offset = 0, lead = index.Length - shape.Length;
        for (int d = 0; d < shape.Length; d++)
        {
            offset = offset * shape[d] + (shape[d] == 1 ? 0 : index[lead + d]);
        }
        return offset;
    }

    /// <summary>The value as stored in <paramref name="element"/> (C's wrap-around for the narrow types).</summary>
    public static long Wrap(long value, OnnxElement element) => element switch
    {
        OnnxElement.Uint8 => (byte)value,
        OnnxElement.Int8 => (sbyte)value,
        OnnxElement.Uint16 => (ushort)value,
        OnnxElement.Int16 => (short)value,
        OnnxElement.Uint32 => (uint)value,
        OnnxElement.Int32 => (int)value,
        OnnxElement.Bool => value != 0 ? 1 : 0,
        _ => value,
    };

    /// <summary>
    /// Runs a data-movement op on integer values exactly: the op moves the positions 0..n-1 (floats, exact below 2^24)
    /// and the result's positions pick the longs. Float values go straight through <paramref name="move"/>.
    /// </summary>
    public static OnnxValue Move(IReadOnlyList<OnnxValue> values, Func<Variable[], Variable> move)
    {
        if (values.All(v => v.IsFloat))
        {
            return OnnxValue.Float(move(values.Select(v => v.Real!).ToArray()));
        }
        var element = values.First(v => !v.IsFloat).Element;
        var data = new List<long>();
        var positions = new Variable[values.Count];
        for (int i = 0; i < values.Count; i++)
        {
            var longs = values[i].AsLongs();
            var p = new float[longs.Length];
            for (int j = 0; j < p.Length; j++)
            {
                p[j] = data.Count + j;
            }
            data.AddRange(longs);
            positions[i] = new Variable(OnnxValue.MakeTensor(p, values[i].Shape));
        }
        Variable moved;
        using (GradMode.NoGrad())
        {
            moved = move(positions);
        }
        var picked = moved.Value.AsReadOnlySpan();
        var result = new long[picked.Length];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = data[(int)picked[i]];
        }
        return OnnxValue.Int(result, moved.Value.ShapeArray.ToArray(), element);
    }

    public static OnnxValue Move(OnnxValue value, Func<Variable, Variable> move) => Move([value], v => move(v[0]));
}
