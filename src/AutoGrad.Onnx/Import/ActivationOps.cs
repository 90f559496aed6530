namespace AutoGrad.Onnx.Import;

// The activations beyond the core list, as compositions of AutoGrad's ops, and the rounding ops (constant: their
// gradient is zero almost everywhere, as PyTorch's).
internal static partial class OnnxOps
{
    private static void AddActivations(Dictionary<string, OpHandler> table)
    {
        table["Reciprocal"] = c => One(F.Div(1f, c.Real(0)));
        table["PRelu"] = c =>
        {
            var x = c.Real(0);
            return One(F.Where(F.Lt(x, new Variable(Tensor.Scalar(0f))).Value, x * c.Real(1), x));
        };
        table["HardSigmoid"] = c => One(F.Clamp(c.Real(0) * c.Float("alpha", 0.2f) + c.Float("beta", 0.5f), 0f, 1f));
        table["HardSwish"] = c => One(c.Real(0) * F.Clamp(c.Real(0) * (1f / 6f) + 0.5f, 0f, 1f));
        table["Selu"] = c => One(F.Elu(c.Real(0), c.Float("alpha", 1.67326319217681884765625f)) * c.Float("gamma", 1.05070102214813232421875f));
        table["Celu"] = c =>
        {
            float alpha = c.Float("alpha", 1f);
            return One(F.Elu(c.Real(0) / alpha, 1f) * alpha);
        };
        table["Softsign"] = c => One(c.Real(0) / (F.Abs(c.Real(0)) + 1f));
        table["ThresholdedRelu"] = c =>
        {
            var x = c.Real(0);
            return One(F.Where(F.Gt(x, new Variable(Tensor.Scalar(c.Float("alpha", 1f)))).Value, x, new Variable(Tensor.Scalar(0f))));
        };
        table["Floor"] = c => Rounding(c, MathF.Floor);
        table["Ceil"] = c => Rounding(c, MathF.Ceiling);
        table["Round"] = c => Rounding(c, v => MathF.Round(v, MidpointRounding.ToEven));
        table["Sign"] = c => Rounding(c, v => float.IsNaN(v) ? v : MathF.Sign(v));
    }

    private static OnnxValue[] Rounding(NodeContext c, Func<float, float> map)
    {
        var x = c.Real(0).Value;
        var data = x.AsReadOnlySpan();
        var result = new float[data.Length];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = map(data[i]);
        }
        return One(new Variable(OnnxValue.MakeTensor(result, x.ShapeArray)));
    }
}
