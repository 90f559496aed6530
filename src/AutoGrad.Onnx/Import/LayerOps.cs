namespace AutoGrad.Onnx.Import;

// Gemm, MatMul, convolutions, pooling and softmax.
internal static partial class OnnxOps
{
    private static void AddLayers(Dictionary<string, OpHandler> table)
    {
        table["Gemm"] = Gemm;
        table["MatMul"] = c => One(F.MatMul(c.Real(0), c.Real(1)));
        table["Conv"] = Conv;
        table["ConvTranspose"] = ConvTranspose;
        table["MaxPool"] = MaxPool;
        table["AveragePool"] = AveragePool;
        table["GlobalAveragePool"] = c => One(GlobalPool(c, F.Mean));
        table["GlobalMaxPool"] = c => One(GlobalPool(c, F.Max));
        table["Softmax"] = c => One(Softmax(c, F.Softmax));
        table["LogSoftmax"] = c => One(Softmax(c, F.LogSoftmax));
    }

    private static OnnxValue[] Gemm(NodeContext c)
    {
        Variable a = c.Real(0), b = c.Real(1);
        var bias = c.OptionalReal(2);
        float alpha = c.Float("alpha", 1f), beta = c.Float("beta", 1f);
        bool transA = c.Int("transA", 0) != 0, transB = c.Int("transB", 0) != 0;
        if (a.Rank != 2 || b.Rank != 2)
        {
            throw c.Invalid($"A {Spatial.Format(a)} and B {Spatial.Format(b)} must be matrices");
        }
        int n = transB ? b.Shape[0] : b.Shape[1];
        if (!transA && transB && alpha == 1f && beta == 1f && (bias is null || bias.Rank == 1 && bias.Shape[0] == n))
        {
            return One(F.Linear(a, b, bias)); // what PyTorch's nn.Linear exports: one fused node
        }
        var y = F.MatMul(transA ? F.Transpose(a, 0, 1) : a, transB ? F.Transpose(b, 0, 1) : b);
        if (alpha != 1f)
        {
            y = y * alpha;
        }
        if (bias is not null && beta != 0f)
        {
            y = y + (beta == 1f ? bias : bias * beta);
        }
        return One(y);
    }

    /// <summary>
    /// The operands of Conv and ConvTranspose: input, weight and bias, with 1-D ones lifted to 2-D (x, w), the number
    /// of spatial dims and the groups.
    /// </summary>
    private static (Variable Input, Variable Weight, Variable? Bias, int Spatial, Variable X, Variable W, int Groups) ConvOperands(NodeContext c, string op)
    {
        var input = c.Real(0);
        var weight = c.Real(1);
        var x = Spatial.Lift(c, input, op);
        if (weight.Rank != input.Rank)
        {
            throw c.Invalid($"weight {Spatial.Format(weight)} must have the input's rank {input.Rank}");
        }
        var w = input.Rank == 3 ? F.Unsqueeze(weight, 2) : weight;
        return (input, weight, c.OptionalReal(2), input.Rank - 2, x, w, checked((int)c.Int("group", 1)));
    }

    private static OnnxValue[] Conv(NodeContext c)
    {
        var (input, weight, bias, spatial, x, w, groups) = ConvOperands(c, "Conv");
        if (groups < 1 || x.Shape[1] % groups != 0 || w.Shape[0] % groups != 0 || w.Shape[1] * groups != x.Shape[1])
        {
            throw c.Invalid($"input {Spatial.Format(input)} and weight {Spatial.Format(weight)} do not fit group = {groups}");
        }
        int[] kernel = [w.Shape[2], w.Shape[3]];
        var strides = Spatial.Attribute(c, "strides", spatial, 1);
        var dilations = Spatial.Attribute(c, "dilations", spatial, 1);
        int[] effective = [dilations[0] * (kernel[0] - 1) + 1, dilations[1] * (kernel[1] - 1) + 1];
        var (begin, end) = Spatial.Pads(c, spatial, [x.Shape[2], x.Shape[3]], effective, strides);
        (int, int) padding = (0, 0);
        if (begin.SequenceEqual(end))
        {
            padding = (begin[0], begin[1]);
        }
        else
        {
            x = Spatial.Pad(x, begin, end, 0f);
        }
        Variable y;
        if (groups == 1)
        {
            y = F.Conv2d(x, w, bias, (strides[0], strides[1]), padding, (dilations[0], dilations[1]));
        }
        else
        {
            // grouped convolution as one convolution per group (depthwise layers are slow this way, but correct)
            var xs = F.Chunk(x, groups, 1);
            var ws = F.Chunk(w, groups, 0);
            var bs = bias is null ? null : F.Chunk(bias, groups, 0);
            y = F.Concat(Enumerable.Range(0, groups).Select(g => F.Conv2d(xs[g], ws[g], bs?[g], (strides[0], strides[1]), padding, (dilations[0], dilations[1]))).ToArray(), 1);
        }
        return One(Spatial.Lower(y, input.Rank));
    }

    private static OnnxValue[] ConvTranspose(NodeContext c)
    {
        var (input, _, bias, spatial, x, w, groups) = ConvOperands(c, "ConvTranspose");
        var strides = Spatial.Attribute(c, "strides", spatial, 1);
        var dilations = Spatial.Attribute(c, "dilations", spatial, 1);
        var outputPadding = Spatial.Attribute(c, "output_padding", spatial, 0, lifted: 0);
        int[] effective = [dilations[0] * (w.Shape[2] - 1) + 1, dilations[1] * (w.Shape[3] - 1) + 1];
        int[] inputSize = [x.Shape[2], x.Shape[3]];
        // AutoGrad's op without padding gives the full output; ONNX's pads (or output_shape) then crop it
        var full = F.ConvTranspose2d(x, w, null, (strides[0], strides[1]), (0, 0), (0, 0), groups, (dilations[0], dilations[1]));
        var begin = new int[2];
        var size = new int[2];
        string autoPad = c.String("auto_pad", "NOTSET");
        var outputShape = c.Ints("output_shape");
        for (int i = 0; i < 2; i++)
        {
            int natural = strides[i] * (inputSize[i] - 1) + outputPadding[i] + effective[i];
            if (outputShape is not null || autoPad is "SAME_UPPER" or "SAME_LOWER")
            {
                int target = outputShape is not null
                    ? (int)(spatial == 1 ? (i == 0 ? 1 : outputShape[^1]) : outputShape[outputShape.Length - 2 + i])
                    : inputSize[i] * strides[i];
                int total = natural - target, half = (int)Math.Floor(total / 2.0); // Python's floor division: a negative total pads the end
                begin[i] = autoPad == "SAME_UPPER" ? half : total - half;
                size[i] = target;
            }
            else
            {
                var (b, e) = Spatial.Pads(c, spatial, inputSize, effective, strides);
                begin[i] = b[i];
                size[i] = natural - b[i] - e[i];
            }
            if (spatial == 1 && i == 0)
            {
                (begin[0], size[0]) = (0, 1);
            }
        }
        var y = full;
        for (int i = 0; i < 2; i++)
        {
            int axis = 2 + i, have = y.Shape[axis];
            int before = Math.Max(0, -begin[i]), after = Math.Max(0, begin[i] + size[i] - have);
            if (before > 0 || after > 0)
            {
                int[] padBegin = [0, 0], padEnd = [0, 0];
                (padBegin[i], padEnd[i]) = (before, after);
                y = Spatial.Pad(y, padBegin, padEnd, 0f);
            }
            int from = begin[i] + before;
            if (from != 0 || size[i] != y.Shape[axis])
            {
                y = F.Slice(y, axis, from, from + size[i]);
            }
        }
        if (bias is not null)
        {
            y = y + F.Reshape(bias, 1, -1, 1, 1);
        }
        return One(Spatial.Lower(y, input.Rank));
    }

    /// <summary>The pooling window of a MaxPool/AveragePool node: kernel, strides, pads (with ceil_mode's extra end rows).</summary>
    private static (int[] Kernel, int[] Strides, int[] Begin, int[] End, int[] Extra) PoolWindow(NodeContext c, Variable x, int spatial)
    {
        var kernel = Spatial.Attribute(c, "kernel_shape", spatial, 0);
        if (c.Ints("kernel_shape") is null || kernel.Any(k => k < 1))
        {
            throw c.Invalid("attribute 'kernel_shape' is missing or has an entry below 1");
        }
        if (Spatial.Attribute(c, "dilations", spatial, 1).Any(d => d != 1))
        {
            throw c.Unsupported("pooling with dilations other than 1");
        }
        var strides = Spatial.Attribute(c, "strides", spatial, 1);
        int[] input = [x.Shape[2], x.Shape[3]];
        var (begin, end) = Spatial.Pads(c, spatial, input, kernel, strides);
        var extra = new int[2];
        if (c.Int("ceil_mode", 0) != 0)
        {
            for (int i = 0; i < 2; i++)
            {
                int span = input[i] + begin[i] + end[i] - kernel[i];
                int output = (span + strides[i] - 1) / strides[i] + 1;
                if ((output - 1) * strides[i] >= input[i] + begin[i])
                {
                    output--; // the last window must start inside the input or the begin padding (PyTorch's rule)
                }
                extra[i] = Math.Max(0, (output - 1) * strides[i] + kernel[i] - (input[i] + begin[i] + end[i]));
            }
        }
        return (kernel, strides, begin, end, extra);
    }

    private static OnnxValue[] MaxPool(NodeContext c)
    {
        var input = c.Real(0);
        if (c.WantsOutput(1))
        {
            throw c.Unsupported("MaxPool's Indices output");
        }
        int spatial = input.Rank - 2;
        var x = Spatial.Lift(c, input, "MaxPool");
        var (kernel, strides, begin, end, extra) = PoolWindow(c, x, spatial);
        int[] padEnd = [end[0] + extra[0], end[1] + extra[1]];
        (int, int) padding = (0, 0);
        if (begin.SequenceEqual(padEnd) && begin[0] <= kernel[0] / 2 && begin[1] <= kernel[1] / 2)
        {
            padding = (begin[0], begin[1]);
        }
        else
        {
            x = Spatial.Pad(x, begin, padEnd, float.NegativeInfinity);
        }
        var y = F.MaxPool2d(x, (kernel[0], kernel[1]), (strides[0], strides[1]), padding);
        return One(Spatial.Lower(y, input.Rank));
    }

    private static OnnxValue[] AveragePool(NodeContext c)
    {
        var input = c.Real(0);
        int spatial = input.Rank - 2;
        var x = Spatial.Lift(c, input, "AveragePool");
        var (kernel, strides, begin, end, extra) = PoolWindow(c, x, spatial);
        bool countPads = c.Int("count_include_pad", 0) != 0;
        bool padded = begin.Any(p => p > 0) || end.Any(p => p > 0) || extra.Any(p => p > 0);
        int[] padEnd = [end[0] + extra[0], end[1] + extra[1]];
        var pooled = F.AvgPool2d(Spatial.Pad(x, begin, padEnd, 0f), (kernel[0], kernel[1]), (strides[0], strides[1]), (0, 0));
        if (padded && (!countPads || extra.Any(p => p > 0)))
        {
            // the divisor counts only the input (and the pads when count_include_pad), never ceil_mode's extra rows:
            // average the same window over a mask of ones and divide by it
            int[] shape = [1, 1, x.Shape[2], x.Shape[3]];
            var mask = new Variable(Tensor.Ones(shape));
            mask = countPads ? Spatial.Pad(Spatial.Pad(mask, begin, end, 1f), [0, 0], extra, 0f) : Spatial.Pad(mask, begin, padEnd, 0f);
            var share = F.AvgPool2d(mask, (kernel[0], kernel[1]), (strides[0], strides[1]), (0, 0));
            pooled = pooled / share;
        }
        return One(Spatial.Lower(pooled, input.Rank));
    }

    private static Variable GlobalPool(NodeContext c, Func<Variable, int[]?, bool, Variable> reduce)
    {
        var x = c.Real(0);
        if (x.Rank < 3)
        {
            throw c.Invalid($"input {Spatial.Format(x)} must be [N, C, *spatial]");
        }
        return reduce(x, Enumerable.Range(2, x.Rank - 2).ToArray(), true);
    }

    private static Variable Softmax(NodeContext c, Func<Variable, int, Variable> softmax)
    {
        var x = c.Real(0);
        if (x.Rank == 0)
        {
            throw c.Invalid("input is a scalar; softmax needs an axis");
        }
        int axis = c.Axis(c.Int("axis", c.Opset >= 13 ? -1 : 1), x.Rank);
        if (c.Opset >= 13 || axis == x.Rank - 1)
        {
            return softmax(x, axis);
        }
        // before opset 13: the input is coerced to 2-D at axis and normalized over everything from axis on
        int rows = x.Shape[..axis].ToArray().Aggregate(1, (p, d) => p * d);
        return F.Reshape(softmax(F.Reshape(x, rows, -1), 1), x.Value.ShapeArray.ToArray());
    }
}
