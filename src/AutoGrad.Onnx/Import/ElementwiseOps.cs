namespace AutoGrad.Onnx.Import;

// Pointwise ONNX ops: arithmetic with numpy broadcasting (integers too, for shape arithmetic), activations, and the
// ops that pass a tensor through (Identity, Dropout, Cast).
internal static partial class OnnxOps
{
    private static void AddElementwise(Dictionary<string, OpHandler> table)
    {
        table["Add"] = c => Arithmetic(c, F.Add, (a, b) => a + b);
        table["Sub"] = c => Arithmetic(c, F.Sub, (a, b) => a - b);
        table["Mul"] = c => Arithmetic(c, F.Mul, (a, b) => a * b);
        table["Div"] = c => Arithmetic(c, F.Div, (a, b) => b == 0 ? throw c.Invalid("integer division by zero") : a / b);
        table["Pow"] = Pow;
        table["Neg"] = c => c.Input(0).IsFloat ? One(F.Neg(c.Real(0))) : One(IntegerMath.Binary(c, c.Input(0), OnnxValue.IntVector(0), (a, _) => -a, c.Input(0).Element));
        table["Abs"] = c => c.Input(0).IsFloat ? One(F.Abs(c.Real(0))) : One(IntegerMath.Binary(c, c.Input(0), OnnxValue.IntVector(0), (a, _) => Math.Abs(a), c.Input(0).Element));
        table["Sqrt"] = c => One(F.Sqrt(c.Real(0)));
        table["Exp"] = c => One(F.Exp(c.Real(0)));
        table["Log"] = c => One(F.Log(c.Real(0)));
        table["Erf"] = c => One(ErfFunction.Instance.Apply(c.Real(0)));
        table["Relu"] = c => One(F.Relu(c.Real(0)));
        table["Sigmoid"] = c => One(F.Sigmoid(c.Real(0)));
        table["Tanh"] = c => One(F.Tanh(c.Real(0)));
        table["LeakyRelu"] = c => One(F.LeakyRelu(c.Real(0), c.Float("alpha", 0.01f)));
        table["Elu"] = c => One(F.Elu(c.Real(0), c.Float("alpha", 1f)));
        table["Softplus"] = c => One(F.Softplus(c.Real(0)));
        table["Gelu"] = c => One(F.Gelu(c.Real(0), c.String("approximate", "none") switch
        {
            "none" => GeluApproximation.None,
            "tanh" => GeluApproximation.Tanh,
            var other => throw c.Invalid($"attribute 'approximate' is '{other}'; expected 'none' or 'tanh'"),
        }));
        table["Identity"] = c => One(c.Input(0));
        table["Dropout"] = Dropout;
        table["Cast"] = c => CastTo(c, c.Input(0), (OnnxElement)c.Int("to", 0));
        table["CastLike"] = c => CastTo(c, c.Input(0), c.Input(1).Element);
    }

    private static OnnxValue[] Arithmetic(NodeContext c, Func<Variable, Variable, Variable> real, Func<long, long, long> integer)
    {
        OnnxValue a = c.Input(0), b = c.Input(1);
        if (a.IsFloat && b.IsFloat)
        {
            return One(real(a.Real!, b.Real!));
        }
        if (!a.IsFloat && !b.IsFloat)
        {
            return One(IntegerMath.Binary(c, a, b, integer, a.Element));
        }
        throw c.Invalid($"inputs are {a.Element} and {b.Element}; ONNX requires one element type");
    }

    private static OnnxValue[] Pow(NodeContext c)
    {
        OnnxValue x = c.Input(0), y = c.Input(1);
        if (!x.IsFloat)
        {
            throw c.Unsupported($"the base is {x.Element}; integer powers are not computed (AutoGrad's Pow is float32)");
        }
        var exponent = y.AsVariable();
        if (exponent.Value.Length == 1 && !exponent.RequiresGrad && exponent.Rank <= x.Real!.Rank)
        {
            // the common case (x^2 in a variance, x^0.5): AutoGrad's own Pow with a scalar exponent
            var result = F.Pow(x.Real, exponent.Value.AsReadOnlySpan()[0]);
            return One(exponent.Rank == result.Rank ? result : F.Reshape(result, IntegerMath.BroadcastShape(x.Shape, y.Shape)!));
        }
        var shape = IntegerMath.BroadcastShape(x.Shape, y.Shape) ?? throw c.Invalid($"shapes {x} and {y} do not broadcast");
        return One(PowFunction.Instance.Apply(Broadcast(x.Real!, shape), Broadcast(exponent, shape)));
    }

    private static Variable Broadcast(Variable x, int[] shape) => x.Shape.SequenceEqual(shape) ? x : F.Expand(x, shape);

    private static OnnxValue[] Dropout(NodeContext c)
    {
        var x = c.Real(0);
        float ratio = c.Opset >= 12 ? c.OptionalInput(1)?.AsVariable().Value.AsReadOnlySpan()[0] ?? 0.5f : c.Float("ratio", 0.5f);
        // training_mode (opset 12+) may only switch dropout off: the module's mode decides, as for PyTorch's nn.Dropout
        bool fileSaysTrain = c.Opset < 12 || c.OptionalLongs(2) is not { } mode || mode.Length == 0 || mode[0] != 0;
        bool active = c.Training && fileSaysTrain && ratio > 0f;
        if (!active)
        {
            return c.WantsOutput(1) ? [OnnxValue.Float(x), OnnxValue.Bool(Enumerable.Repeat(true, x.Value.Length).ToArray(), x.Value.ShapeArray.ToArray())] : One(x);
        }
        var y = F.Dropout(x, ratio, training: true);
        if (!c.WantsOutput(1))
        {
            return One(y);
        }
        var kept = y.Value.AsReadOnlySpan();
        var input = x.Value.AsReadOnlySpan();
        var mask = new bool[kept.Length];
        for (int i = 0; i < mask.Length; i++)
        {
            mask[i] = kept[i] != 0f || input[i] == 0f;
        }
        return [OnnxValue.Float(y), OnnxValue.Bool(mask, x.Value.ShapeArray.ToArray())];
    }

    private static OnnxValue[] CastTo(NodeContext c, OnnxValue x, OnnxElement to)
    {
        switch (to)
        {
            case OnnxElement.Float:
                return One(x.IsFloat ? x : OnnxValue.Float(x.AsVariable()));
            case OnnxElement.Int64 or OnnxElement.Int32 or OnnxElement.Int16 or OnnxElement.Int8 or OnnxElement.Uint8 or OnnxElement.Uint16
                or OnnxElement.Uint32 or OnnxElement.Uint64 or OnnxElement.Bool:
            {
                if (!x.IsFloat && !(x.Element is OnnxElement.Float or OnnxElement.Int64 or OnnxElement.Int32 or OnnxElement.Int16 or OnnxElement.Int8
                    or OnnxElement.Uint8 or OnnxElement.Uint16 or OnnxElement.Uint32 or OnnxElement.Uint64 or OnnxElement.Bool))
                {
                    break;
                }
                var values = x.IsFloat ? Truncate(x.Real!.Value.AsReadOnlySpan(), to == OnnxElement.Bool) : x.Integers!;
                return One(OnnxValue.Int(values.Select(v => IntegerMath.Wrap(v, to)).ToArray(), x.Shape, to));
            }
            default:
            {
                break;
            }
        }
        throw c.Unsupported($"a cast from {x.Element} to {to}; AutoGrad computes with float32, integers and booleans");
    }

    private static long[] Truncate(ReadOnlySpan<float> values, bool toBool)
    {
        var result = new long[values.Length];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = toBool ? (values[i] != 0f ? 1 : 0) : (long)values[i];
        }
        return result;
    }
}
