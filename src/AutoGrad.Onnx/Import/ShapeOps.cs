using AutoGrad.Onnx.Protos;

namespace AutoGrad.Onnx.Import;

// Shape and data-movement ops. Each works on float Variables (differentiable) and on integer tensors (the
// Shape -> Gather -> Unsqueeze -> Concat -> Reshape chains of dynamic shapes) through IntegerMath.Move.
internal static partial class OnnxOps
{
    private static void AddShapeOps(Dictionary<string, OpHandler> table)
    {
        table["Constant"] = Constant;
        table["ConstantOfShape"] = ConstantOfShape;
        table["Shape"] = Shape;
        table["Reshape"] = Reshape;
        table["Flatten"] = Flatten;
        table["Transpose"] = Transpose;
        table["Concat"] = Concat;
        table["Squeeze"] = Squeeze;
        table["Unsqueeze"] = Unsqueeze;
        table["Gather"] = Gather;
        table["Slice"] = Slice;
        table["Expand"] = Expand;
    }

    private static OnnxValue[] Constant(NodeContext c)
    {
        if (c.TensorAttribute("value") is { } tensor)
        {
            return One(TensorDecoding.Decode(tensor, c.Where));
        }
        if (c.Attribute("value_float") is { } f)
        {
            return One(new Variable(Tensor.Scalar(f.F)));
        }
        if (c.Attribute("value_floats") is { } fs)
        {
            return One(new Variable(Tensor.FromArray([.. fs.Floats], fs.Floats.Count)));
        }
        if (c.Attribute("value_int") is { } i)
        {
            return One(OnnxValue.Int([i.I], []));
        }
        if (c.Attribute("value_ints") is { } ints)
        {
            return One(OnnxValue.IntVector([.. ints.Ints]));
        }
        throw c.Unsupported("a Constant without value, value_float(s) or value_int(s) (sparse and string constants are not read)");
    }

    private static OnnxValue[] ConstantOfShape(NodeContext c)
    {
        var shape = Dims(c, c.Input(0).AsLongs(), "shape");
        var fill = c.TensorAttribute("value") is { } t ? TensorDecoding.Decode(t, c.Where) : OnnxValue.Float(new Variable(Tensor.Scalar(0f)));
        int count = shape.Aggregate(1, (p, d) => p * d);
        return fill.IsFloat
            ? One(new Variable(Tensor.Full(shape, fill.Real!.Value.AsReadOnlySpan()[0])))
            : One(OnnxValue.Int(Enumerable.Repeat(fill.Integers![0], count).ToArray(), shape, fill.Element));
    }

    private static int[] Dims(NodeContext c, long[] values, string what)
    {
        var dims = new int[values.Length];
        for (int i = 0; i < dims.Length; i++)
        {
            dims[i] = values[i] is >= 0 and <= int.MaxValue ? (int)values[i] : throw c.Invalid($"{what} [{string.Join(", ", values)}] has an entry out of range");
        }
        return dims;
    }

    private static OnnxValue[] Shape(NodeContext c)
    {
        var shape = c.Input(0).Shape;
        int rank = shape.Length;
        long start = c.Int("start", 0), end = c.Int("end", rank);
        int from = (int)Math.Clamp(start < 0 ? start + rank : start, 0, rank);
        int to = (int)Math.Clamp(end < 0 ? end + rank : end, 0, rank);
        return One(OnnxValue.IntVector(shape[from..Math.Max(from, to)].Select(d => (long)d).ToArray()));
    }

    private static OnnxValue[] Reshape(NodeContext c)
    {
        var x = c.Input(0);
        long[] requested = c.Opset >= 5 ? c.Input(1).AsLongs() : c.Ints("shape") ?? throw c.Invalid("attribute 'shape' is missing");
        bool allowZero = c.Int("allowzero", 0) != 0;
        var shape = new int[requested.Length];
        int inferred = -1;
        long known = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            long d = requested[i];
            if (d == 0 && !allowZero)
            {
                d = i < x.Shape.Length ? x.Shape[i] : throw c.Invalid($"shape [{string.Join(", ", requested)}] copies dim {i} (0) of a rank-{x.Shape.Length} input");
            }
            if (d == -1)
            {
                inferred = inferred < 0 ? i : throw c.Invalid($"shape [{string.Join(", ", requested)}] has more than one -1");
                continue;
            }
            shape[i] = d is >= 0 and <= int.MaxValue ? (int)d : throw c.Invalid($"shape [{string.Join(", ", requested)}] has entry {d}");
            known *= d;
        }
        if (inferred >= 0)
        {
            shape[inferred] = known > 0 && x.Length % known == 0 ? (int)(x.Length / known) : throw c.Invalid($"cannot reshape {x} to [{string.Join(", ", requested)}]");
        }
        if (shape.Aggregate(1L, (p, d) => p * d) != x.Length)
        {
            throw c.Invalid($"cannot reshape {x} ({x.Length} elements) to [{string.Join(", ", shape)}]");
        }
        return One(IntegerMath.Move(x, v => F.Reshape(v, shape)));
    }

    private static OnnxValue[] Flatten(NodeContext c)
    {
        var x = c.Input(0);
        int rank = x.Shape.Length;
        long axis = c.Int("axis", 1);
        if (axis < -rank || axis > rank)
        {
            throw c.Invalid($"axis {axis} is out of range for rank {rank}");
        }
        int a = (int)(axis < 0 ? axis + rank : axis);
        int rows = x.Shape[..a].Aggregate(1, (p, d) => p * d);
        int columns = x.Shape[a..].Aggregate(1, (p, d) => p * d);
        return One(IntegerMath.Move(x, v => F.Reshape(v, rows, columns)));
    }

    private static OnnxValue[] Transpose(NodeContext c)
    {
        var x = c.Input(0);
        int rank = x.Shape.Length;
        var perm = c.Ints("perm")?.Select(p => c.Axis(p, rank)).ToArray() ?? Enumerable.Range(0, rank).Reverse().ToArray();
        if (perm.Length != rank || perm.Distinct().Count() != rank)
        {
            throw c.Invalid($"perm [{string.Join(", ", perm)}] is no permutation of the {rank} dims of {x}");
        }
        return One(IntegerMath.Move(x, v => rank < 2 ? v : F.Permute(v, perm)));
    }

    private static OnnxValue[] Concat(NodeContext c)
    {
        var inputs = Enumerable.Range(0, c.InputCount).Select(c.Input).ToArray();
        int rank = inputs[0].Shape.Length;
        long requested = c.Int("axis", c.Opset < 4 ? 1 : long.MinValue);
        int axis = requested != long.MinValue ? c.Axis(requested, rank) : throw c.Invalid("attribute 'axis' is missing");
        // empty tensors (a shape of [0] in a dynamic-shape chain) add nothing
        var parts = inputs.Where(v => v.Length > 0 || inputs.All(u => u.Length == 0)).ToArray();
        return One(IntegerMath.Move(parts, vs => vs.Length == 1 ? vs[0] : F.Concat(vs, axis)));
    }

    /// <summary>The axes of Squeeze/Unsqueeze/Reduce*: an input from <paramref name="inputFrom"/>, an attribute before.</summary>
    private static long[]? Axes(NodeContext c, long inputFrom, int inputIndex = 1)
        => c.Opset >= inputFrom ? c.OptionalLongs(inputIndex) : c.Ints("axes");

    private static OnnxValue[] Squeeze(NodeContext c)
    {
        var x = c.Input(0);
        int rank = x.Shape.Length;
        var axes = Axes(c, 13)?.Select(a => c.Axis(a, rank)).ToHashSet() ?? Enumerable.Range(0, rank).Where(d => x.Shape[d] == 1).ToHashSet();
        if (axes.Any(a => x.Shape[a] != 1))
        {
            throw c.Invalid($"cannot squeeze axes [{string.Join(", ", axes)}] of {x}: each must have size 1");
        }
        var shape = Enumerable.Range(0, rank).Where(d => !axes.Contains(d)).Select(d => x.Shape[d]).ToArray();
        return One(IntegerMath.Move(x, v => F.Reshape(v, shape)));
    }

    private static OnnxValue[] Unsqueeze(NodeContext c)
    {
        var x = c.Input(0);
        var requested = Axes(c, 13) ?? throw c.Invalid("the axes are missing");
        int rank = x.Shape.Length + requested.Length;
        var axes = requested.Select(a => c.Axis(a, rank)).ToHashSet();
        if (axes.Count != requested.Length)
        {
            throw c.Invalid($"axes [{string.Join(", ", requested)}] repeat");
        }
        var shape = new int[rank];
        for (int d = 0, source = 0; d < rank; d++)
        {
            shape[d] = axes.Contains(d) ? 1 : x.Shape[source++];
        }
        return One(IntegerMath.Move(x, v => F.Reshape(v, shape)));
    }

    private static OnnxValue[] Gather(NodeContext c)
    {
        var x = c.Input(0);
        var indices = c.Input(1);
        int rank = x.Shape.Length;
        int axis = c.Axis(c.Int("axis", 0), rank);
        int size = x.Shape[axis];
        var flat = indices.AsLongs().Select(i => i >= -size && i < size ? (int)(i < 0 ? i + size : i) : throw c.Invalid($"index {i} is out of range for axis {axis} of {x}")).ToArray();
        int[] shape = [.. x.Shape[..axis], .. indices.Shape, .. x.Shape[(axis + 1)..]];
        return One(IntegerMath.Move(x, v => F.Reshape(F.IndexSelect(v, axis, flat), shape)));
    }

    private static OnnxValue[] Slice(NodeContext c)
    {
        var x = c.Input(0);
        int rank = x.Shape.Length;
        long[] starts, ends;
        long[]? axes, steps = null;
        if (c.Opset >= 10)
        {
            starts = c.Input(1).AsLongs();
            ends = c.Input(2).AsLongs();
            axes = c.OptionalLongs(3);
            steps = c.OptionalLongs(4);
        }
        else
        {
            starts = c.Ints("starts") ?? throw c.Invalid("attribute 'starts' is missing");
            ends = c.Ints("ends") ?? throw c.Invalid("attribute 'ends' is missing");
            axes = c.Ints("axes");
        }
        axes ??= Enumerable.Range(0, starts.Length).Select(a => (long)a).ToArray();
        steps ??= Enumerable.Repeat(1L, starts.Length).ToArray();
        if (ends.Length != starts.Length || axes.Length != starts.Length || steps.Length != starts.Length)
        {
            throw c.Invalid($"starts, ends, axes and steps have {starts.Length}, {ends.Length}, {axes.Length} and {steps.Length} entries; expected one length");
        }
        var picks = new List<(int Axis, int[] Indices)>();
        for (int i = 0; i < starts.Length; i++)
        {
            int axis = c.Axis(axes[i], rank);
            long size = x.Shape[axis], step = steps[i];
            if (step == 0)
            {
                throw c.Invalid($"step {i} is 0");
            }
            // ONNX's clamping: [0, size] for a positive step, [-1, size - 1] for a negative one
            long start = starts[i] < 0 ? starts[i] + size : starts[i];
            long end = ends[i] < 0 ? ends[i] + size : ends[i];
            start = step > 0 ? Math.Clamp(start, 0, size) : Math.Clamp(start, 0, size - 1);
            end = step > 0 ? Math.Clamp(end, 0, size) : Math.Clamp(end, -1, size - 1);
            var indices = new List<int>();
            for (long j = start; step > 0 ? j < end : j > end; j += step)
            {
                indices.Add((int)j);
            }
            picks.Add((axis, indices.ToArray()));
        }
        return One(IntegerMath.Move(x, v =>
        {
            foreach (var (axis, indices) in picks)
            {
                v = indices.Length == v.Shape[axis] && indices.Select((j, k) => j == k).All(b => b) ? v : F.IndexSelect(v, axis, indices);
            }
            return v;
        }));
    }

    private static OnnxValue[] Expand(NodeContext c)
    {
        var x = c.Input(0);
        var requested = Dims(c, c.Input(1).AsLongs(), "shape");
        var shape = IntegerMath.BroadcastShape(x.Shape, requested) ?? throw c.Invalid($"{x} does not broadcast to [{string.Join(", ", requested)}]");
        return One(IntegerMath.Move(x, v => Broadcast(v, shape)));
    }
}
