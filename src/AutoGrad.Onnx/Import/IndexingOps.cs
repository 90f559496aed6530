namespace AutoGrad.Onnx.Import;

// GatherElements, CumSum, TopK, Hardmax, DepthToSpace/SpaceToDepth, IsNaN/IsInf, Sin/Cos, and the two losses of
// ONNX's training graphs (NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss).
internal static partial class OnnxOps
{
    private static void AddIndexing(Dictionary<string, OpHandler> table)
    {
        table["GatherElements"] = GatherElements;
        table["CumSum"] = CumSum;
        table["TopK"] = TopK;
        table["Hardmax"] = Hardmax;
        table["DepthToSpace"] = c => One(DepthToSpace(c, c.Real(0), checked((int)c.Int("blocksize", 0)), c.String("mode", "DCR")));
        table["SpaceToDepth"] = c => One(SpaceToDepth(c, c.Real(0), checked((int)c.Int("blocksize", 0))));
        table["IsNaN"] = c => One(Test(c.Real(0).Value, float.IsNaN));
        table["IsInf"] = c =>
        {
            bool negative = c.Int("detect_negative", 1) != 0, positive = c.Int("detect_positive", 1) != 0;
            return One(Test(c.Real(0).Value, v => negative && float.IsNegativeInfinity(v) || positive && float.IsPositiveInfinity(v)));
        };
        table["Sin"] = c => One(TrigFunction.Sin.Apply(c.Real(0)));
        table["Cos"] = c => One(TrigFunction.Cos.Apply(c.Real(0)));
        table["NegativeLogLikelihoodLoss"] = c => NegativeLogLikelihood(c, c.Real(0));
        table["SoftmaxCrossEntropyLoss"] = c =>
        {
            var logProbabilities = F.LogSoftmax(c.Real(0), 1);
            var loss = NegativeLogLikelihood(c, logProbabilities);
            return c.WantsOutput(1) ? [loss[0], OnnxValue.Float(logProbabilities)] : loss;
        };
    }

    private static OnnxValue Test(Tensor x, Func<float, bool> test)
    {
        var data = x.AsReadOnlySpan();
        var result = new long[data.Length];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = test(data[i]) ? 1 : 0;
        }
        return OnnxValue.Int(result, x.ShapeArray.ToArray(), OnnxElement.Bool);
    }

    private static OnnxValue[] GatherElements(NodeContext c)
    {
        var x = c.Input(0);
        var indices = c.Input(1);
        int axis = c.Axis(c.Int("axis", 0), x.Shape.Length);
        int size = x.Shape[axis];
        var flat = indices.AsLongs().Select(i => i >= -size && i < size ? (float)(i < 0 ? i + size : i) : throw c.Invalid($"index {i} is out of range for axis {axis} of {x}")).ToArray();
        var index = OnnxValue.MakeTensor(flat, indices.Shape);
        return One(IntegerMath.Move(x, v => F.Gather(v, axis, index)));
    }

    private static OnnxValue[] CumSum(NodeContext c)
    {
        var input = c.Input(0);
        var x = input.AsVariable(); // integers exact below 2^24
        int axis = c.Axis(c.Input(1).AsLongs()[0], x.Rank);
        bool exclusive = c.Int("exclusive", 0) != 0, reverse = c.Int("reverse", 0) != 0;
        var reversed = Enumerable.Range(0, x.Shape[axis]).Reverse().ToArray();
        var source = reverse ? F.IndexSelect(x, axis, reversed) : x;
        var sums = F.Cumsum(source, axis);
        if (exclusive)
        {
            sums = sums - source;
        }
        var y = reverse ? F.IndexSelect(sums, axis, reversed) : sums;
        return One(input.IsFloat ? OnnxValue.Float(y) : OnnxValue.Int(ToLongs(y.Value), input.Shape, input.Element));
    }

    private static OnnxValue[] TopK(NodeContext c)
    {
        var x = c.Real(0);
        int axis = c.Axis(c.Int("axis", -1), x.Rank);
        long k = c.Opset >= 10 ? c.Input(1).AsLongs()[0] : c.Int("k", 0);
        if (k < 0 || k > x.Shape[axis])
        {
            throw c.Invalid($"k = {k} is out of range for axis {axis} of {Spatial.Format(x)}");
        }
        if (c.Int("sorted", 1) == 0)
        {
            // unsorted output may come in any order; sorted is one of them
        }
        var (values, indices) = F.TopK(x, (int)k, axis, largest: c.Int("largest", 1) != 0);
        return [OnnxValue.Float(values), OnnxValue.Int(ToLongs(indices), indices.ShapeArray.ToArray())];
    }

    private static OnnxValue[] Hardmax(NodeContext c)
    {
        var x = c.Real(0);
        int axis = c.Axis(c.Int("axis", c.Opset >= 13 ? -1 : 1), x.Rank);
        var shape = x.Value.ShapeArray.ToArray();
        var source = x;
        if (c.Opset < 13)
        {
            // before opset 13: coerced to 2-D at axis, one maximum per row
            source = F.Reshape(x, shape[..axis].Aggregate(1, (p, d) => p * d), -1);
            axis = 1;
        }
        var winners = F.ArgMax(source, axis, keepDim: true);
        var oneHot = new float[source.Value.Length];
        var picked = winners.AsReadOnlySpan();
        int size = source.Shape[axis], inner = source.Shape[(axis + 1)..].ToArray().Aggregate(1, (p, d) => p * d);
        for (int i = 0; i < picked.Length; i++)
        {
            int outer = i / inner, position = i % inner;
            oneHot[(outer * size + (int)picked[i]) * inner + position] = 1f;
        }
        return One(new Variable(OnnxValue.MakeTensor(oneHot, shape)));
    }

    private static Variable DepthToSpace(NodeContext c, Variable x, int block, string mode)
    {
        if (x.Rank != 4 || block < 1 || x.Shape[1] % (block * block) != 0)
        {
            throw c.Invalid($"input {Spatial.Format(x)} must be [N, C, H, W] with C divisible by blocksize^2 = {block * block}");
        }
        int n = x.Shape[0], channels = x.Shape[1] / (block * block), h = x.Shape[2], w = x.Shape[3];
        var moved = mode switch
        {
            "DCR" => F.Permute(F.Reshape(x, n, block, block, channels, h, w), 0, 3, 4, 1, 5, 2),
            "CRD" => F.Permute(F.Reshape(x, n, channels, block, block, h, w), 0, 1, 4, 2, 5, 3),
            _ => throw c.Invalid($"attribute 'mode' is '{mode}'; expected DCR or CRD"),
        };
        return F.Reshape(moved, n, channels, h * block, w * block);
    }

    private static Variable SpaceToDepth(NodeContext c, Variable x, int block)
    {
        if (x.Rank != 4 || block < 1 || x.Shape[2] % block != 0 || x.Shape[3] % block != 0)
        {
            throw c.Invalid($"input {Spatial.Format(x)} must be [N, C, H, W] with H and W divisible by blocksize = {block}");
        }
        int n = x.Shape[0], channels = x.Shape[1], h = x.Shape[2] / block, w = x.Shape[3] / block;
        var moved = F.Permute(F.Reshape(x, n, channels, h, block, w, block), 0, 3, 5, 1, 2, 4);
        return F.Reshape(moved, n, channels * block * block, h, w);
    }

    /// <summary>
    /// ONNX's NegativeLogLikelihoodLoss of log-probabilities [N, C, d...] and targets [N, d...]: -input[n, t, d] weight[t],
    /// 0 where t is ignore_index; reduced by sum, by mean (over the targets' weights) or not at all.
    /// </summary>
    private static OnnxValue[] NegativeLogLikelihood(NodeContext c, Variable input)
    {
        var target = c.Input(1);
        var weight = c.OptionalReal(2);
        if (input.Rank < 2 || target.Shape.Length != input.Rank - 1 || target.Shape[0] != input.Shape[0]
            || !target.Shape[1..].SequenceEqual(input.Value.ShapeArray[2..]))
        {
            throw c.Invalid($"input {Spatial.Format(input)} must be [N, C, d...] and target {target} [N, d...]");
        }
        int classes = input.Shape[1];
        long? ignore = c.Attribute("ignore_index") is { } a ? a.I : null;
        var targets = target.AsLongs();
        var valid = new float[targets.Length];
        var index = new float[targets.Length];
        for (int i = 0; i < targets.Length; i++)
        {
            if (targets[i] == ignore)
            {
                continue;
            }
            if (targets[i] < 0 || targets[i] >= classes)
            {
                throw c.Invalid($"target {targets[i]} is out of range for {classes} classes");
            }
            valid[i] = 1f;
            index[i] = targets[i];
        }
        int[] gathered = [target.Shape[0], 1, .. target.Shape[1..]];
        var picked = F.Reshape(F.Gather(input, 1, OnnxValue.MakeTensor(index, gathered)), target.Shape);
        var mask = new Variable(OnnxValue.MakeTensor(valid, target.Shape));
        var weights = weight is null ? mask : F.Reshape(F.IndexSelect(weight, 0, index.Select(i => (int)i).ToArray()), target.Shape) * mask;
        var loss = F.Neg(picked) * weights;
        return c.String("reduction", "mean") switch
        {
            "none" => One(loss),
            "sum" => One(F.Sum(loss)),
            "mean" => One(F.Sum(loss) / F.Sum(weights)),
            var other => throw c.Invalid($"attribute 'reduction' is '{other}'; expected none, sum or mean"),
        };
    }
}
