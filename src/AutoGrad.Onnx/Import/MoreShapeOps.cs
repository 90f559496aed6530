namespace AutoGrad.Onnx.Import;

// Split, Pad, Tile, Range, Size, Trilu, ArgMax and ArgMin.
internal static partial class OnnxOps
{
    private static void AddMoreShapeOps(Dictionary<string, OpHandler> table)
    {
        table["Split"] = Split;
        table["Pad"] = Pad;
        table["Tile"] = c =>
        {
            var x = c.Input(0);
            var repeats = Dims(c, c.Input(1).AsLongs(), "repeats");
            return repeats.Length == x.Shape.Length ? One(IntegerMath.Move(x, v => Tile(v, repeats))) : throw c.Invalid($"repeats has {repeats.Length} entries for {x}");
        };
        table["Range"] = Range;
        table["Size"] = c => One(OnnxValue.Int([c.Input(0).Length], []));
        table["Trilu"] = c =>
        {
            var x = c.Input(0);
            int k = checked((int)(c.OptionalLongs(1)?[0] ?? 0));
            bool upper = c.Int("upper", 1) != 0;
            var y = upper ? F.Triu(x.AsVariable(), k) : F.Tril(x.AsVariable(), k);
            return One(x.IsFloat ? OnnxValue.Float(y) : OnnxValue.Int(ToLongs(y.Value), x.Shape, x.Element)); // integers exact below 2^24
        };
        table["ArgMax"] = c => ArgExtremum(c, largest: true);
        table["ArgMin"] = c => ArgExtremum(c, largest: false);
    }

    /// <summary>numpy's tile as one concatenation per axis (F.Repeat's intermediate view would need twice the rank).</summary>
    private static Variable Tile(Variable x, int[] repeats)
    {
        for (int axis = 0; axis < repeats.Length; axis++)
        {
            if (repeats[axis] != 1)
            {
                x = F.Concat(Enumerable.Repeat(x, repeats[axis]).ToArray(), axis);
            }
        }
        return x;
    }

    private static OnnxValue[] Split(NodeContext c)
    {
        var x = c.Input(0);
        int axis = c.Axis(c.Int("axis", 0), x.Shape.Length);
        int size = x.Shape[axis];
        long[]? requested = c.Opset >= 13 ? c.OptionalLongs(1) : c.Ints("split");
        int[] sizes;
        if (requested is not null)
        {
            sizes = Dims(c, requested, "split");
        }
        else
        {
            int parts = c.Opset >= 18 ? checked((int)c.Int("num_outputs", c.OutputCount)) : c.OutputCount;
            int piece = (size + parts - 1) / Math.Max(parts, 1);
            sizes = Enumerable.Range(0, parts).Select(i => Math.Clamp(size - i * piece, 0, piece)).ToArray();
        }
        if (sizes.Sum() != size || sizes.Length < c.OutputCount)
        {
            throw c.Invalid($"split sizes [{string.Join(", ", sizes)}] do not fill axis {axis} of {x} in {c.OutputCount} outputs");
        }
        if (x.IsFloat)
        {
            return F.Split(x.Real!, sizes, axis).Select(OnnxValue.Float).ToArray();
        }
        return Enumerable.Range(0, sizes.Length).Select(k => IntegerMath.Move(x, v => F.Split(v, sizes, axis)[k])).ToArray();
    }

    private static OnnxValue[] Pad(NodeContext c)
    {
        var input = c.Input(0);
        var x = input.AsVariable(); // integers exact below 2^24
        int rank = x.Rank;
        string mode = c.String("mode", "constant");
        long[] pads = c.Opset >= 11 ? c.Input(1).AsLongs() : c.Ints("pads") ?? throw c.Invalid("attribute 'pads' is missing");
        float value = c.Opset >= 11 ? c.OptionalInput(2)?.AsVariable().Value.AsReadOnlySpan()[0] ?? 0f : c.Float("value", 0f);
        var axes = (c.Opset >= 18 ? c.OptionalLongs(3) : null)?.Select(a => c.Axis(a, rank)).ToArray() ?? Enumerable.Range(0, rank).ToArray();
        if (pads.Length != 2 * axes.Length)
        {
            throw c.Invalid($"pads has {pads.Length} entries; expected {2 * axes.Length} for {Spatial.Format(x)}");
        }
        if (mode is not ("constant" or "reflect" or "edge"))
        {
            throw c.Unsupported($"Pad mode '{mode}'");
        }
        for (int i = 0; i < axes.Length; i++)
        {
            int axis = axes[i], size = x.Shape[axis];
            int begin = checked((int)pads[i]), end = checked((int)pads[axes.Length + i]);
            if (begin == 0 && end == 0)
            {
                continue;
            }
            if (size + begin + end < 0 || mode != "constant" && size == 0)
            {
                throw c.Invalid($"pads [{string.Join(", ", pads)}] remove more than axis {axis} of {Spatial.Format(x)} holds");
            }
            if (mode == "constant")
            {
                // negative pads crop, positive ones add blocks of the value
                x = F.Slice(x, axis, Math.Max(0, -begin), size - Math.Max(0, -end));
                var parts = new List<Variable>();
                if (begin > 0)
                {
                    parts.Add(Filled(x, axis, begin, value));
                }
                parts.Add(x);
                if (end > 0)
                {
                    parts.Add(Filled(x, axis, end, value));
                }
                x = parts.Count == 1 ? x : F.Concat(parts, axis);
                continue;
            }
            var indices = new int[size + begin + end];
            for (int j = 0; j < indices.Length; j++)
            {
                int source = j - begin;
                indices[j] = mode == "edge" ? Math.Clamp(source, 0, size - 1) : Reflect(source, size);
            }
            x = F.IndexSelect(x, axis, indices);
        }
        return One(input.IsFloat ? OnnxValue.Float(x) : OnnxValue.Int(ToLongs(x.Value), x.Value.ShapeArray.ToArray(), input.Element));
    }

    private static Variable Filled(Variable x, int axis, int size, float value)
    {
        var shape = x.Value.ShapeArray.ToArray();
        shape[axis] = size;
        return new Variable(Tensor.Full(shape, value));
    }

    /// <summary>numpy's 'reflect' index: mirrored at the first and last element, which are not repeated.</summary>
    private static int Reflect(int index, int size)
    {
        if (size == 1)
        {
            return 0;
        }
        int period = 2 * (size - 1);
        int m = ((index % period) + period) % period;
        return m < size ? m : period - m;
    }

    private static OnnxValue[] Range(NodeContext c)
    {
        OnnxValue start = c.Input(0), limit = c.Input(1), delta = c.Input(2);
        if (start.Length != 1 || limit.Length != 1 || delta.Length != 1)
        {
            throw c.Invalid($"start, limit and delta must be scalars; they have {start.Length}, {limit.Length} and {delta.Length} elements");
        }
        // Fuzzing found a float delta of 0 (an infinite count) asking for int.MaxValue elements: refuse what has no
        // finite length or more elements than an array holds, as for integers.
        int Count(double count) => count is >= 0 and <= int.MaxValue ? (int)count : count < 0 ? 0
            : throw c.Invalid($"the range from start to limit by delta has {count} elements; at most {int.MaxValue} fit");
        if (start.IsFloat)
        {
            float s = start.Real!.Value.AsReadOnlySpan()[0], l = limit.AsVariable().Value.AsReadOnlySpan()[0], d = delta.AsVariable().Value.AsReadOnlySpan()[0];
            if (d == 0)
            {
                throw c.Invalid("delta is 0");
            }
            int n = Count(Math.Ceiling((l - s) / (double)d));
            return One(new Variable(Tensor.FromArray(Enumerable.Range(0, n).Select(i => s + i * d).ToArray(), n)));
        }
        long first = start.AsLongs()[0], last = limit.AsLongs()[0], step = delta.AsLongs()[0];
        if (step == 0)
        {
            throw c.Invalid("delta is 0");
        }
        int count = Count(Math.Ceiling(((double)last - first) / step));
        return One(OnnxValue.Int(Enumerable.Range(0, count).Select(i => first + i * step).ToArray(), [count], start.Element));
    }

    private static OnnxValue[] ArgExtremum(NodeContext c, bool largest)
    {
        var value = c.Input(0);
        var x = value.AsVariable(); // integers exact below 2^24
        int axis = c.Axis(c.Int("axis", 0), x.Rank);
        bool keepDims = c.Int("keepdims", 1) != 0;
        bool last = c.Int("select_last_index", 0) != 0;
        int size = x.Shape[axis];
        if (last)
        {
            x = F.IndexSelect(x, axis, Enumerable.Range(0, size).Reverse().ToArray()); // the last of ties is the first of the reversed axis
        }
        var indices = largest ? F.ArgMax(x, axis, keepDims) : F.ArgMin(x, axis, keepDims);
        var result = ToLongs(indices);
        if (last)
        {
            result = result.Select(i => size - 1 - i).ToArray();
        }
        return One(OnnxValue.Int(result, indices.ShapeArray.ToArray()));
    }
}
