using System.Text.Json;

namespace AutoGrad.Tests.Ops;

/// <summary>
/// A case written by a script in tests/reference from real PyTorch: inputs, attributes, the output, an upstream
/// gradient and the resulting input gradients.
/// </summary>
internal sealed record ParityCase(string Name, string Op, JsonElement Attrs, Tensor[] Inputs, bool[] RequiresGrad, Tensor Output, Tensor GradOutput, Tensor?[] Grads,
    JsonElement Raw)
{
    /// <summary>A field of the case beyond the common ones: a list of tensors, null where the fixture has null.</summary>
    public Tensor?[] TensorsField(string name)
        => Raw.GetProperty(name).EnumerateArray().Select(t => t.ValueKind == JsonValueKind.Null ? null : ParityFixture.ReadTensor(t)).ToArray();

    public int IntAttr(string name) => Attrs.GetProperty(name).GetInt32();

    public int? NullableIntAttr(string name)
        => Attrs.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v.GetInt32() : null;

    public float FloatAttr(string name) => Attrs.GetProperty(name).GetSingle();

    public float? NullableFloatAttr(string name)
        => Attrs.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v.GetSingle() : null;

    public bool BoolAttr(string name) => Attrs.GetProperty(name).GetBoolean();

    public string StringAttr(string name) => Attrs.GetProperty(name).GetString()!;

    public (int H, int W) PairAttr(string name)
    {
        var v = Attrs.GetProperty(name);
        return v.ValueKind == JsonValueKind.Number ? (v.GetInt32(), v.GetInt32()) : (v[0].GetInt32(), v[1].GetInt32());
    }

    public Reduction ReductionAttr() => StringAttr("reduction") switch
    {
        "mean" => Reduction.Mean,
        "sum" => Reduction.Sum,
        "none" => Reduction.None,
        var r => throw new InvalidDataException($"Fixture {Name}: unknown reduction '{r}'."),
    };

    public int[]? IntsAttr(string name)
        => Attrs.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v.EnumerateArray().Select(e => e.GetInt32()).ToArray() : null;
}

/// <summary>Reads fixture files copied next to the test assembly (tests/reference/fixtures/*.json).</summary>
internal static class ParityFixture
{
    private static readonly Dictionary<string, IReadOnlyList<ParityCase>> Cache = [];
    private static readonly Lock CacheLock = new();

    public static IReadOnlyList<ParityCase> Load(string file)
    {
        lock (CacheLock)
        {
            if (!Cache.TryGetValue(file, out var cases))
            {
                cases = Parse(Path.Combine(AppContext.BaseDirectory, "Fixtures", file));
                Cache[file] = cases;
            }
            return cases;
        }
    }

    private static List<ParityCase> Parse(string path)
    {
        using var stream = File.OpenRead(path);
        using var document = JsonDocument.Parse(stream);
        var cases = new List<ParityCase>();
        foreach (var c in document.RootElement.GetProperty("cases").EnumerateArray())
        {
            var inputs = c.GetProperty("inputs").EnumerateArray().ToArray();
            cases.Add(new ParityCase(
                c.GetProperty("name").GetString()!,
                c.GetProperty("op").GetString()!,
                c.GetProperty("attrs").Clone(),
                inputs.Select(ReadTensor).ToArray(),
                inputs.Select(i => i.TryGetProperty("requires_grad", out var r) && r.GetBoolean()).ToArray(),
                ReadTensor(c.GetProperty("output")),
                ReadTensor(c.GetProperty("grad_output")),
                c.GetProperty("grads").EnumerateArray().Select(g => g.ValueKind == JsonValueKind.Null ? null : ReadTensor(g)).ToArray(),
                c.Clone()));
        }
        return cases;
    }

    public static Tensor ReadTensor(JsonElement element)
    {
        var shape = element.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var data = element.GetProperty("data").EnumerateArray().Select(ReadFloat).ToArray();
        return shape.Length == 0 ? Tensor.Scalar(data[0]) : Tensor.FromArray(data, shape);
    }

    private static float ReadFloat(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Number => (float)e.GetDouble(),
        JsonValueKind.String => e.GetString() switch
        {
            "NaN" => float.NaN,
            "Infinity" => float.PositiveInfinity,
            "-Infinity" => float.NegativeInfinity,
            var s => throw new InvalidDataException($"Fixture: unexpected number string '{s}'."),
        },
        _ => throw new InvalidDataException($"Fixture: unexpected JSON value {e.ValueKind} where a number was expected."),
    };
}
