namespace AutoGrad.Onnx.Import;

// ReduceMean/Sum/Max/Min: axes as an attribute, or as an input (ReduceSum from opset 13, the others from 18);
// keepdims (default 1); noop_with_empty_axes.
internal static partial class OnnxOps
{
    private static void AddReductions(Dictionary<string, OpHandler> table)
    {
        table["ReduceMean"] = c => Reduce(c, 18, F.Mean);
        table["ReduceSum"] = c => Reduce(c, 13, F.Sum);
        table["ReduceMax"] = c => Reduce(c, 18, F.Max);
        table["ReduceMin"] = c => Reduce(c, 18, F.Min);
        table["ReduceL1"] = c => Reduce(c, 18, (x, dims, keep) => F.Sum(F.Abs(x), dims, keep));
        table["ReduceL2"] = c => Reduce(c, 18, (x, dims, keep) => F.Sqrt(F.Sum(x * x, dims, keep)));
        table["ReduceSumSquare"] = c => Reduce(c, 18, (x, dims, keep) => F.Sum(x * x, dims, keep));
        table["ReduceLogSum"] = c => Reduce(c, 18, (x, dims, keep) => F.Log(F.Sum(x, dims, keep)));
        table["ReduceLogSumExp"] = c => Reduce(c, 18, LogSumExp);
    }

    /// <summary>log(sum(exp(x))) with the maximum taken out first, so large entries do not overflow.</summary>
    private static Variable LogSumExp(Variable x, int[]? dims, bool keepDims)
    {
        var max = F.Max(x, dims, keepDim: true).Detach();
        var result = F.Log(F.Sum(F.Exp(x - max), dims, keepDims));
        return result + (keepDims ? max : F.Reshape(max, result.Value.ShapeArray.ToArray()));
    }

    private static OnnxValue[] Reduce(NodeContext c, long axesInputFrom, Func<Variable, int[]?, bool, Variable> reduce)
    {
        var x = c.Real(0);
        bool keepDims = c.Int("keepdims", 1) != 0;
        var axes = Axes(c, axesInputFrom);
        if (axes is null || axes.Length == 0)
        {
            if (c.Int("noop_with_empty_axes", 0) != 0)
            {
                return One(x);
            }
            axes = Enumerable.Range(0, x.Rank).Select(a => (long)a).ToArray();
        }
        var dims = axes.Select(a => c.Axis(a, x.Rank)).Distinct().Order().ToArray();
        if (x.Rank == 0)
        {
            return One(x);
        }
        return One(reduce(x, dims, keepDims));
    }
}
