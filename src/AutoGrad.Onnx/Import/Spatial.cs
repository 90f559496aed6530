namespace AutoGrad.Onnx.Import;

/// <summary>
/// The window geometry shared by Conv, ConvTranspose and the pools: 1-D ops lifted to 2-D (a height of 1), ONNX's
/// auto_pad and begin/end pads, and explicit padding where AutoGrad's ops take only symmetric padding.
/// </summary>
internal static class Spatial
{
    /// <summary>Checks <paramref name="x"/> is [N, C, L] or [N, C, H, W] and returns it as 4-D (a 1-D input gets height 1).</summary>
    public static Variable Lift(NodeContext c, Variable x, string what)
    {
        return x.Rank switch
        {
            3 => F.Unsqueeze(x, 2),
            4 => x,
            5 => throw c.Unsupported($"3-D {what} (input {Format(x)}); 1-D and 2-D are supported"),
            _ => throw c.Invalid($"{what} input {Format(x)} must be [N, C, L] or [N, C, H, W]"),
        };
    }

    /// <summary>Undoes <see cref="Lift"/> for a result when the input was 1-D.</summary>
    public static Variable Lower(Variable y, int originalRank) => originalRank == 3 ? F.Squeeze(y, 2) : y;

    /// <summary>A per-spatial-dim attribute for a lifted op: the 1-D value gets 1 (or <paramref name="lifted"/>) in front.</summary>
    public static int[] Attribute(NodeContext c, string name, int spatialRank, int fallback, int lifted = 1)
    {
        var values = c.IntList(name, spatialRank, fallback);
        return spatialRank == 1 ? [lifted, values[0]] : values;
    }

    /// <summary>
    /// Begin and end pads (2 each, for the lifted H and W) from auto_pad or pads; <paramref name="kernel"/> is the
    /// effective (dilated) window.
    /// </summary>
    public static (int[] Begin, int[] End) Pads(NodeContext c, int spatialRank, int[] input, int[] kernel, int[] strides)
    {
        string autoPad = c.String("auto_pad", "NOTSET");
        var begin = new int[2];
        var end = new int[2];
        switch (autoPad)
        {
            case "NOTSET":
            {
                var pads = c.IntList("pads", 2 * spatialRank, 0);
                if (pads.Any(p => p < 0))
                {
                    throw c.Unsupported($"negative pads [{string.Join(", ", pads)}]");
                }
                for (int i = 0; i < spatialRank; i++)
                {
                    begin[2 - spatialRank + i] = pads[i];
                    end[2 - spatialRank + i] = pads[spatialRank + i];
                }
                break;
            }
            case "VALID":
                break;
            case "SAME_UPPER" or "SAME_LOWER":
                for (int i = 0; i < 2; i++)
                {
                    int output = (input[i] + strides[i] - 1) / strides[i];
                    int total = Math.Max(0, (output - 1) * strides[i] + kernel[i] - input[i]);
                    begin[i] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
                    end[i] = total - begin[i];
                }
                break;
            default:
                throw c.Invalid($"attribute 'auto_pad' is '{autoPad}'; expected NOTSET, SAME_UPPER, SAME_LOWER or VALID");
        }
        return (begin, end);
    }

    /// <summary>x [N, C, H, W] with <paramref name="begin"/>/<paramref name="end"/> rows and columns of <paramref name="fill"/> added.</summary>
    public static Variable Pad(Variable x, int[] begin, int[] end, float fill)
    {
        for (int axis = 2; axis < 4; axis++)
        {
            int b = begin[axis - 2], e = end[axis - 2];
            if (b == 0 && e == 0)
            {
                continue;
            }
            var parts = new List<Variable>();
            if (b > 0)
            {
                parts.Add(Block(x, axis, b, fill));
            }
            parts.Add(x);
            if (e > 0)
            {
                parts.Add(Block(x, axis, e, fill));
            }
            x = F.Concat(parts, axis);
        }
        return x;
    }

    private static Variable Block(Variable x, int axis, int size, float fill)
    {
        var shape = x.Value.ShapeArray.ToArray();
        shape[axis] = size;
        return new Variable(Tensor.Full(shape, fill));
    }

    public static string Format(Variable x) => "[" + string.Join(", ", x.Shape.ToArray()) + "]";
}
