namespace AutoGrad.Onnx.Import;

/// <summary>Computes one node's outputs from its context (inputs, attributes, opset, mode).</summary>
internal delegate OnnxValue[] OpHandler(NodeContext context);

/// <summary>The table of supported ONNX operators: each op group adds its handlers in its own file.</summary>
internal static partial class OnnxOps
{
    public static readonly IReadOnlyDictionary<string, OpHandler> Handlers = Build();

    private static Dictionary<string, OpHandler> Build()
    {
        var table = new Dictionary<string, OpHandler>(StringComparer.Ordinal);
        AddElementwise(table);
        AddShapeOps(table);
        AddReductions(table);
        AddLayers(table);
        AddNormalizations(table);
        AddLogic(table);
        AddActivations(table);
        AddMoreShapeOps(table);
        AddIndexing(table);
        return table;
    }

    private static OnnxValue[] One(Variable value) => [OnnxValue.Float(value)];

    private static OnnxValue[] One(OnnxValue value) => [value];
}
