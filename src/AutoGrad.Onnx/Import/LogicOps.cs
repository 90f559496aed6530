namespace AutoGrad.Onnx.Import;

// Comparisons, logic, Where, the variadic Max/Min/Sum/Mean and Clip: masks are booleans (integers), selections stay
// differentiable in the values they pick.
internal static partial class OnnxOps
{
    private static void AddLogic(Dictionary<string, OpHandler> table)
    {
        table["Equal"] = c => Comparison(c, F.Eq, (a, b) => a == b);
        table["Less"] = c => Comparison(c, F.Lt, (a, b) => a < b);
        table["LessOrEqual"] = c => Comparison(c, F.Le, (a, b) => a <= b);
        table["Greater"] = c => Comparison(c, F.Gt, (a, b) => a > b);
        table["GreaterOrEqual"] = c => Comparison(c, F.Ge, (a, b) => a >= b);
        table["Not"] = c => One(IntegerMath.Binary(c, Boolean(c, 0), OnnxValue.IntVector(0), (a, _) => a == 0 ? 1 : 0, OnnxElement.Bool));
        table["And"] = c => One(IntegerMath.Binary(c, Boolean(c, 0), Boolean(c, 1), (a, b) => a & b, OnnxElement.Bool));
        table["Or"] = c => One(IntegerMath.Binary(c, Boolean(c, 0), Boolean(c, 1), (a, b) => a | b, OnnxElement.Bool));
        table["Xor"] = c => One(IntegerMath.Binary(c, Boolean(c, 0), Boolean(c, 1), (a, b) => a ^ b, OnnxElement.Bool));
        table["Where"] = Where;
        table["Max"] = c => Variadic(c, (a, b) => F.Where(F.Ge(a, b).Value, a, b), Math.Max);
        table["Min"] = c => Variadic(c, (a, b) => F.Where(F.Le(a, b).Value, a, b), Math.Min);
        table["Sum"] = c => Variadic(c, F.Add, (a, b) => a + b);
        table["Mean"] = c => c.Input(0).IsFloat ? One(F.Div(Variadic(c, F.Add, (a, b) => a + b)[0].Real!, c.InputCount)) : throw c.Unsupported("an integer Mean");
        table["Clip"] = Clip;
    }

    private static OnnxValue Boolean(NodeContext c, int index)
        => c.Input(index) is { Element: OnnxElement.Bool } value ? value : throw c.Invalid($"input {index} is {c.Input(index).Element}; expected bool");

    private static OnnxValue[] Comparison(NodeContext c, Func<Variable, Variable, Variable> real, Func<long, long, bool> integer)
    {
        OnnxValue a = c.Input(0), b = c.Input(1);
        if (a.IsFloat && b.IsFloat)
        {
            var mask = real(a.Real!, b.Real!);
            return One(OnnxValue.Int(ToLongs(mask.Value), mask.Value.ShapeArray.ToArray(), OnnxElement.Bool));
        }
        if (!a.IsFloat && !b.IsFloat)
        {
            return One(IntegerMath.Binary(c, a, b, (x, y) => integer(x, y) ? 1 : 0, OnnxElement.Bool));
        }
        throw c.Invalid($"inputs are {a.Element} and {b.Element}; ONNX requires one element type");
    }

    private static long[] ToLongs(Tensor tensor)
    {
        var data = tensor.AsReadOnlySpan();
        var result = new long[data.Length];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = (long)data[i];
        }
        return result;
    }

    private static OnnxValue[] Where(NodeContext c)
    {
        OnnxValue condition = c.Input(0), x = c.Input(1), y = c.Input(2);
        if (x.IsFloat && y.IsFloat)
        {
            return One(F.Where(condition.AsVariable().Value, x.Real!, y.Real!));
        }
        if (x.IsFloat || y.IsFloat)
        {
            throw c.Invalid($"inputs are {x.Element} and {y.Element}; ONNX requires one element type");
        }
        var shape = IntegerMath.BroadcastShape(IntegerMath.BroadcastShape(x.Shape, y.Shape) ?? throw c.Invalid($"{x} and {y} do not broadcast"), condition.Shape)
            ?? throw c.Invalid($"the condition {condition} does not broadcast with {x} and {y}");
        long[] Expanded(OnnxValue v) => IntegerMath.Move(v, u => Broadcast(F.Reshape(u, [.. Enumerable.Repeat(1, shape.Length - u.Rank), .. u.Shape.ToArray()]), shape)).Integers!;
        long[] pick = Expanded(condition), first = Expanded(x), second = Expanded(y);
        return One(OnnxValue.Int(pick.Select((p, i) => p != 0 ? first[i] : second[i]).ToArray(), shape, x.Element));
    }

    private static OnnxValue[] Variadic(NodeContext c, Func<Variable, Variable, Variable> real, Func<long, long, long> integer)
    {
        var result = c.Input(0);
        for (int i = 1; i < c.InputCount; i++)
        {
            var next = c.Input(i);
            result = result.IsFloat && next.IsFloat ? OnnxValue.Float(real(result.Real!, next.Real!))
                : !result.IsFloat && !next.IsFloat ? IntegerMath.Binary(c, result, next, integer, result.Element)
                : throw c.Invalid($"inputs are {result.Element} and {next.Element}; ONNX requires one element type");
        }
        return One(result);
    }

    private static OnnxValue[] Clip(NodeContext c)
    {
        var x = c.Input(0);
        OnnxValue? min = c.Opset >= 11 ? c.OptionalInput(1) : c.Attribute("min") is { } a ? OnnxValue.Float(new Variable(Tensor.Scalar(a.F))) : null;
        OnnxValue? max = c.Opset >= 11 ? c.OptionalInput(2) : c.Attribute("max") is { } b ? OnnxValue.Float(new Variable(Tensor.Scalar(b.F))) : null;
        if (!x.IsFloat)
        {
            var clipped = min is null ? x : IntegerMath.Binary(c, x, min, Math.Max, x.Element);
            return One(max is null ? clipped : IntegerMath.Binary(c, clipped, max, Math.Min, x.Element));
        }
        float? low = min?.AsVariable().Value.AsReadOnlySpan()[0], high = max?.AsVariable().Value.AsReadOnlySpan()[0];
        if (low is null && high is null)
        {
            return One(x);
        }
        if (low > high)
        {
            // ONNX (numpy.clip): every element becomes max
            return One(F.Clamp(x.Real!, high, high));
        }
        return One(F.Clamp(x.Real!, low, high));
    }
}
