using AutoGrad.Graph;
using AutoGrad.Nn;
using AutoGrad.Onnx.Protos;
using Google.Protobuf;

namespace AutoGrad.Onnx.Export;

/// <summary>
/// Walks a recorded graph from its output in topological order and collects the ONNX graph: a name per variable,
/// initializers for parameters, buffers and constants, and the nodes <see cref="OpEmitter"/> writes for each op.
/// </summary>
internal sealed class GraphBuilder(Module model, Variable input, IReadOnlyDictionary<Function, Function>? twins)
{
    private const int IrVersion = 8; // the IR version that goes with opset 17

    private readonly Dictionary<Variable, string> _names = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Variable, string> _parameterNames = model.NamedParameters()
        .ToDictionary<KeyValuePair<string, Parameter>, Variable, string>(p => p.Value, p => p.Key, ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Tensor, string> _bufferNames = model.NamedBuffers()
        .ToDictionary<KeyValuePair<string, Tensor>, Tensor, string>(b => b.Value, b => b.Key, ReferenceEqualityComparer.Instance);
    private readonly HashSet<string> _exportedBuffers = [];
    private readonly GraphProto _graph = new() { Name = model.GetType().Name };
    private int _counter;

    /// <summary>Whether dim 0 stays symbolic.</summary>
    public bool DynamicBatch => twins is not null;

    /// <summary>The batch size of the traced input.</summary>
    public int Batch => input.Shape[0];

    /// <summary>The same node in the trace on one more sample (null for a fixed batch).</summary>
    public Function? Twin(Function fn) => twins?[fn];

    public byte[] Build(Variable output)
    {
        _names[input] = "input";
        foreach (var v in TopologicalOrder(output))
        {
            if (v.Producer is not { } fn)
            {
                NameLeaf(v);
                continue;
            }
            _names[v] = ReferenceEquals(v, output) ? "output" : Fresh("t");
            OpEmitter.Emit(this, fn, v);
        }
        _graph.Input.Add(OnnxMessages.FloatValueInfo("input", Dims(input.Shape), "N"));
        _graph.Output.Add(OnnxMessages.FloatValueInfo("output", Dims(output.Shape), "N"));
        var modelProto = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "AutoGrad",
            ProducerVersion = typeof(Variable).Assembly.GetName().Version?.ToString() ?? "0",
            Graph = _graph,
        };
        modelProto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = OnnxExporter.OpsetVersion });
        return modelProto.ToByteArray();
    }

    /// <summary>The ONNX name of a variable already visited.</summary>
    public string NameOf(Variable v) => _names[v];

    /// <summary>A name no other value has, starting with <paramref name="prefix"/>.</summary>
    public string Fresh(string prefix) => $"{prefix}{_counter++}";

    /// <summary>Appends one node; its name is its op type and position.</summary>
    public void Node(string opType, string output, string[] inputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = $"{opType}_{_graph.Node.Count}" };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        _graph.Node.Add(node);
    }

    /// <summary>A float constant as an initializer; returns its name.</summary>
    public string Constant(Tensor value) => Initializer(OnnxMessages.FloatTensor(Fresh("const"), value));

    /// <summary>An int64 constant (a vector, or of the given shape) as an initializer; returns its name.</summary>
    public string Int64Constant(long[] values, int[]? shape = null) => Initializer(OnnxMessages.Int64Tensor(Fresh("const"), values, shape));

    /// <summary>A bool constant, true where <paramref name="mask"/> is nonzero; returns its name.</summary>
    public string BoolConstant(Tensor mask) => Initializer(OnnxMessages.BoolTensor(Fresh("mask"), mask));

    /// <summary>A buffer (bn.running_mean) under its own name, written once; a tensor that is no buffer becomes a constant.</summary>
    public string Buffer(Tensor tensor)
    {
        if (!_bufferNames.TryGetValue(tensor, out var name))
        {
            return Constant(tensor);
        }
        if (_exportedBuffers.Add(name))
        {
            _graph.Initializer.Add(OnnxMessages.FloatTensor(name, tensor));
        }
        return name;
    }

    private string Initializer(TensorProto tensor)
    {
        _graph.Initializer.Add(tensor);
        return tensor.Name;
    }

    private void NameLeaf(Variable v)
    {
        if (_names.ContainsKey(v))
        {
            return;
        }
        string name = _parameterNames.TryGetValue(v, out var parameterName) ? parameterName : Fresh("const");
        _names[v] = name;
        _graph.Initializer.Add(OnnxMessages.FloatTensor(name, v.Value));
    }

    private List<int?> Dims(ReadOnlySpan<int> shape)
    {
        var dims = new List<int?>();
        for (int d = 0; d < shape.Length; d++)
        {
            dims.Add(d == 0 && DynamicBatch && shape[0] == Batch ? null : shape[d]);
        }
        return dims;
    }

    /// <summary>The variables from the leaves to <paramref name="output"/>, inputs in order (post-order, iteratively: graphs can be deep).</summary>
    public static List<Variable> TopologicalOrder(Variable output)
    {
        var order = new List<Variable>();
        var visited = new HashSet<Variable>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(Variable Node, bool Expanded)>();
        stack.Push((output, false));
        while (stack.Count > 0)
        {
            var (v, expanded) = stack.Pop();
            if (expanded)
            {
                order.Add(v);
                continue;
            }
            if (!visited.Add(v))
            {
                continue;
            }
            stack.Push((v, true));
            if (v.Producer is { } fn)
            {
                for (int i = fn.Inputs.Length - 1; i >= 0; i--)
                {
                    if (!visited.Contains(fn.Inputs[i]))
                    {
                        stack.Push((fn.Inputs[i], false));
                    }
                }
            }
        }
        return order;
    }
}
