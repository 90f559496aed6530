namespace AutoGrad.Onnx.Import;

/// <summary>erf(x), for ONNX's Erf (the exact GELU that torch.onnx.export writes as x/2 (1 + erf(x/sqrt 2))).</summary>
internal sealed class ErfFunction : CustomFunction
{
    public static readonly ErfFunction Instance = new();

    public override string Name => "Erf";

    protected override Tensor Forward(FunctionContext ctx, Tensor[] inputs)
    {
        ctx.SaveForBackward(inputs[0]);
        return Elementwise.Map(inputs[0], Kernels.Erf.Invoke);
    }

    protected override Variable?[] Backward(FunctionContext ctx, Variable gradOutput)
    {
        // self: grad * 2 / sqrt(pi) * exp(-self^2)
        var x = ctx.SavedTensors[0];
        return [gradOutput * F.Exp(F.Neg(x * x)) * (2f / MathF.Sqrt(MathF.PI))];
    }
}

/// <summary>x^y elementwise for two tensors of one shape (the importer broadcasts them first), ONNX's Pow.</summary>
internal sealed class PowFunction : CustomFunction
{
    public static readonly PowFunction Instance = new();

    public override string Name => "Pow";

    protected override Tensor Forward(FunctionContext ctx, Tensor[] inputs)
    {
        var x = inputs[0].AsReadOnlySpan();
        var y = inputs[1].AsReadOnlySpan();
        var result = new float[x.Length];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = MathF.Pow(x[i], y[i]);
        }
        var output = OnnxValue.MakeTensor(result, inputs[0].ShapeArray);
        ctx.SaveForBackward(inputs[0], inputs[1]);
        return output;
    }

    protected override Variable?[] Backward(FunctionContext ctx, Variable gradOutput)
    {
        // self: grad * exponent * self^(exponent - 1); exponent: grad * self^exponent * log(self)
        var x = ctx.SavedTensors[0];
        var y = ctx.SavedTensors[1];
        Variable? dx = ctx.NeedsInputGrad(0) ? gradOutput * y * Instance.Apply(x, y - 1f) : null;
        Variable? dy = ctx.NeedsInputGrad(1) ? gradOutput * Instance.Apply(x, y) * F.Log(x) : null;
        return [dx, dy];
    }
}

/// <summary>sin(x) or cos(x) elementwise (ONNX's Sin and Cos), each differentiated through the other.</summary>
internal sealed class TrigFunction(bool cosine) : CustomFunction
{
    public static readonly TrigFunction Sin = new(false);

    public static readonly TrigFunction Cos = new(true);

    public override string Name => cosine ? "Cos" : "Sin";

    protected override Tensor Forward(FunctionContext ctx, Tensor[] inputs)
    {
        ctx.SaveForBackward(inputs[0]);
        return Elementwise.Map(inputs[0], cosine ? MathF.Cos : MathF.Sin);
    }

    protected override Variable?[] Backward(FunctionContext ctx, Variable gradOutput)
    {
        // sin: grad * cos(self); cos: -grad * sin(self)
        var x = ctx.SavedTensors[0];
        return [cosine ? -(gradOutput * Sin.Apply(x)) : gradOutput * Cos.Apply(x)];
    }
}

/// <summary>The one loop behind the importer's pointwise functions: f of every element, in x's shape.</summary>
internal static class Elementwise
{
    public static Tensor Map(Tensor x, Func<float, float> f)
    {
        var data = x.AsReadOnlySpan();
        var result = new float[data.Length];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = f(data[i]);
        }
        return OnnxValue.MakeTensor(result, x.ShapeArray);
    }
}
