using AutoGrad.Graph;

namespace AutoGrad.Onnx.Export;

/// <summary>
/// Pairs the nodes of two traces of one model, at batch B and B + 1, so that the exporter can tell which settings
/// depend on the batch size: the graphs are walked in the same order and must agree node for node.
/// </summary>
internal static class BatchTwins
{
    public static Dictionary<Function, Function> Pair(Variable output, Variable twinOutput)
    {
        var nodes = Nodes(output);
        var twinNodes = Nodes(twinOutput);
        if (nodes.Count != twinNodes.Count)
        {
            throw new NotSupportedException(
                $"ONNX export: the model's graph changes with the batch size ({nodes.Count} ops at one batch, {twinNodes.Count} at one more sample); "
                + "an ONNX graph cannot express that. Export with dynamicBatch: false.");
        }
        var twins = new Dictionary<Function, Function>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < nodes.Count; i++)
        {
            if (nodes[i].Kind != twinNodes[i].Kind)
            {
                throw new NotSupportedException(
                    $"ONNX export: the model's graph changes with the batch size (op {i} is {nodes[i].Name} at one batch and {twinNodes[i].Name} at one more sample). "
                    + "Export with dynamicBatch: false.");
            }
            twins[nodes[i]] = twinNodes[i];
        }
        return twins;
    }

    // The ops in the order the exporter writes them, the same for both traces of one model.
    private static List<Function> Nodes(Variable output)
        => GraphBuilder.TopologicalOrder(output).Select(v => v.Producer).OfType<Function>().ToList();
}
