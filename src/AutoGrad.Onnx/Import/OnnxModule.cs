using AutoGrad.Nn;
using AutoGrad.Onnx.Import;
using AutoGrad.Onnx.Protos;

namespace AutoGrad.Onnx;

/// <summary>
/// An ONNX graph loaded by <see cref="OnnxImporter"/> as a trainable module: its float initializers are
/// <see cref="Parameter"/>s under their ONNX names (a dotted name such as <c>layer1.0.conv1.weight</c> becomes the same
/// path of child modules, so <see cref="Module.StateDict"/> has PyTorch's keys), BatchNormalization's running mean and
/// variance are buffers, and each forward runs the graph's nodes in order with AutoGrad's differentiable ops, so
/// Backward gives gradients on the imported parameters.
/// </summary>
/// <remarks>
/// The mode follows PyTorch's modules, not the file: in training mode (the default, as for every Module) Dropout drops
/// and BatchNormalization normalizes with the batch's statistics and updates its running ones in place; after
/// <see cref="Module.Eval"/> both are inference ops (ONNX Runtime's behaviour). Call <c>Eval()</c> before comparing
/// outputs with another runtime. Integer and boolean tensors (shapes, indices, masks) flow through the graph as
/// integers; at the boundary they are Variables holding whole numbers.
/// </remarks>
public sealed class OnnxModule : Module
{
    private readonly ScopeTable _scopes;
    private readonly Dictionary<string, OnnxValue> _constants = new(StringComparer.Ordinal);
    private readonly List<CompiledNode> _nodes = [];
    private readonly ValueInfoProto[] _inputs;
    private readonly string[] _outputs;
    private readonly string _source;
    private readonly HashSet<string> _buffers = new(StringComparer.Ordinal);

    internal OnnxModule(ModelProto model, string source)
    {
        _scopes = new ScopeTable(RegisterParameter, RegisterBuffer, RegisterModule<ParameterScope>);
        _source = source;
        var graph = model.Graph ?? throw new InvalidDataException($"{source}: the model has no graph.");
        Opset = DefaultOpset(model, source);
        var statistics = RunningStatistics(graph);
        foreach (var initializer in graph.Initializer)
        {
            AddInitializer(initializer, statistics);
        }
        var aliases = StatisticsAliases(graph, statistics);
        foreach (var (alias, original) in aliases)
        {
            var copy = TensorDecoding.Decode(graph.Initializer.First(i => i.Name == original), $"{source}: initializer '{original}'");
            AddStatistics(alias, copy.Real!.Value);
            _constants.Add(alias, copy);
        }
        foreach (var node in graph.Node.Where(n => n.OpType == "BatchNormalization" && n.Input.Count > 3 && n.Input[3].EndsWith(".running_mean", StringComparison.Ordinal)))
        {
            // PyTorch's state dict has the counter after the statistics; ONNX does not carry it (it is not counted here)
            if (_buffers.Contains(node.Input[3]))
            {
                Place(node.Input[3][..^"running_mean".Length] + "num_batches_tracked", null, Tensor.Scalar(0f));
            }
        }
        var known = new HashSet<string>(_constants.Keys, StringComparer.Ordinal);
        _inputs = graph.Input.Where(i => !_constants.ContainsKey(i.Name)).ToArray();
        foreach (var input in _inputs.Concat(graph.Output))
        {
            CheckType(input, source);
        }
        foreach (var input in _inputs)
        {
            if (!known.Add(input.Name))
            {
                throw new InvalidDataException($"{source}: graph input '{input.Name}' is declared twice.");
            }
        }
        foreach (var node in graph.Node)
        {
            if (!(node.OpType == "Identity" && node.Output.Count == 1 && aliases.ContainsKey(node.Output[0])))
            {
                _nodes.Add(Compile(node, known));
            }
        }
        _outputs = graph.Output.Select(o => o.Name).ToArray();
        foreach (var output in _outputs)
        {
            if (!known.Contains(output))
            {
                throw new InvalidDataException($"{source}: graph output '{output}' is computed by no node and is no input or initializer.");
            }
        }
        InputNames = _inputs.Select(i => i.Name).ToArray();
        OutputNames = _outputs;
    }

    /// <summary>The version of the default (ai.onnx) operator set the file was written for.</summary>
    public long Opset { get; }

    /// <summary>The graph's inputs in order (initializers excluded): what <see cref="Run"/> takes.</summary>
    public IReadOnlyList<string> InputNames { get; }

    /// <summary>The graph's outputs in order: what <see cref="Run"/> returns.</summary>
    public IReadOnlyList<string> OutputNames { get; }

    /// <summary>Runs the graph on its single input and returns its first output.</summary>
    public override Variable Forward(Variable input) => Forward([input]);

    /// <summary>Runs the graph on its inputs (in <see cref="InputNames"/> order) and returns its first output.</summary>
    public Variable Forward(params Variable[] inputs) => Run(inputs)[0];

    /// <summary>
    /// Runs the graph on <paramref name="inputs"/> (in <see cref="InputNames"/> order) and returns every output in
    /// <see cref="OutputNames"/> order. An integer input is a Variable of whole numbers; an integer output comes back so.
    /// </summary>
    /// <exception cref="ArgumentException">The number of inputs or an input's shape disagrees with the graph's declaration.</exception>
    public IReadOnlyList<Variable> Run(params Variable[] inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Length != _inputs.Length)
        {
            throw new ArgumentException($"{_source}: the graph takes {_inputs.Length} input(s) ({string.Join(", ", InputNames)}); got {inputs.Length}.", nameof(inputs));
        }
        var values = new Dictionary<string, OnnxValue>(_constants, StringComparer.Ordinal);
        for (int i = 0; i < inputs.Length; i++)
        {
            values[_inputs[i].Name] = GraphInput(_inputs[i], inputs[i] ?? throw new ArgumentNullException(nameof(inputs), $"input {i} is null"));
        }
        foreach (var node in _nodes)
        {
            node.Run(values, Opset, Training, _source, _buffers);
        }
        var results = new Variable[_outputs.Length];
        for (int i = 0; i < results.Length; i++)
        {
            results[i] = values[_outputs[i]].AsVariable();
            results[i].Value.Storage.Escaped = true; // every output is the caller's, not only the first
        }
        return results;
    }

    /// <inheritdoc/>
    protected override string Describe() => $"opset={Opset}, nodes={_nodes.Count}, inputs=[{string.Join(", ", InputNames)}]";

    private OnnxValue GraphInput(ValueInfoProto info, Variable value)
    {
        var type = info.Type?.TensorType;
        if (type?.Shape is { } declared)
        {
            bool matches = declared.Dim.Count == value.Rank;
            for (int d = 0; matches && d < value.Rank; d++)
            {
                matches = declared.Dim[d].ValueCase != TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue || declared.Dim[d].DimValue == value.Shape[d];
            }
            if (!matches)
            {
                var dims = declared.Dim.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? d.DimValue.ToString() : d.DimParam is { Length: > 0 } p ? p : "?");
                throw new ArgumentException($"{_source}: input '{info.Name}' is declared [{string.Join(", ", dims)}]; got shape [{string.Join(", ", value.Shape.ToArray())}].");
            }
        }
        var element = (OnnxElement)(type?.ElemType ?? (int)OnnxElement.Float);
        return element switch
        {
            OnnxElement.Float => OnnxValue.Float(value),
            OnnxElement.Bool or OnnxElement.Int64 or OnnxElement.Int32 or OnnxElement.Int16 or OnnxElement.Int8
                or OnnxElement.Uint8 or OnnxElement.Uint16 or OnnxElement.Uint32 or OnnxElement.Uint64
                => OnnxValue.Int(OnnxValue.Float(value).AsLongs(), value.Shape.ToArray(), element),
            _ => throw new NotSupportedException($"{_source}: input '{info.Name}' has element type {element}; AutoGrad computes with float32 (integers and booleans for shapes and indices)."),
        };
    }

    /// <summary>Refuses a graph input or output that is no tensor of an element type the importer computes with.</summary>
    private static void CheckType(ValueInfoProto info, string source)
    {
        if (info.Type is { } type && type.ValueCase != TypeProto.ValueOneofCase.TensorType && type.ValueCase != TypeProto.ValueOneofCase.None)
        {
            throw new NotSupportedException($"{source}: graph input or output '{info.Name}' is a {type.ValueCase}; only tensors are supported.");
        }
        var element = (OnnxElement)(info.Type?.TensorType?.ElemType ?? (int)OnnxElement.Float);
        if (element is OnnxElement.String or OnnxElement.Float16 or OnnxElement.Double or OnnxElement.Bfloat16 or OnnxElement.Complex64 or OnnxElement.Complex128)
        {
            throw new NotSupportedException($"{source}: graph input or output '{info.Name}' has element type {element}; AutoGrad computes with float32 (integers and booleans for shapes and indices).");
        }
    }

    private static long DefaultOpset(ModelProto model, string source)
    {
        foreach (var import in model.OpsetImport)
        {
            if (import.Domain is "" or "ai.onnx")
            {
                return import.Version;
            }
        }
        throw new InvalidDataException($"{source}: the model imports no version of the default (ai.onnx) operator set.");
    }

    /// <summary>The names BatchNormalization nodes read as running mean and variance: buffers, not parameters.</summary>
    private static HashSet<string> RunningStatistics(GraphProto graph)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in graph.Node.Where(n => n.OpType == "BatchNormalization"))
        {
            names.UnionWith(node.Input.Skip(3).Take(2));
        }
        return names;
    }

    private void AddInitializer(TensorProto initializer, HashSet<string> statistics)
    {
        if (string.IsNullOrEmpty(initializer.Name) || _constants.ContainsKey(initializer.Name))
        {
            throw new InvalidDataException($"{_source}: initializer '{initializer.Name}' is {(initializer.Name.Length == 0 ? "unnamed" : "declared twice")}.");
        }
        var value = TensorDecoding.Decode(initializer, $"{_source}: initializer '{initializer.Name}'");
        if (value.Real is { } real && real.Rank > 0)
        {
            if (statistics.Contains(initializer.Name))
            {
                AddStatistics(initializer.Name, real.Value);
            }
            else
            {
                var parameter = new Parameter(real.Value, name: initializer.Name);
                Place(initializer.Name, parameter, null);
                value = OnnxValue.Float(parameter);
            }
        }
        _constants.Add(initializer.Name, value);
    }

    private void AddStatistics(string name, Tensor value)
    {
        Place(name, null, value);
        _buffers.Add(name);
    }

    /// <summary>
    /// Running statistics that torch wrote as Identity of another initializer (it merges initializers of equal values,
    /// such as a fresh BatchNorm's running_var and weight, all ones): each gets its own copy, a buffer under its name.
    /// </summary>
    private static Dictionary<string, string> StatisticsAliases(GraphProto graph, HashSet<string> statistics)
    {
        var initializers = graph.Initializer.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        var aliases = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var node in graph.Node)
        {
            if (node.OpType == "Identity" && node.Input.Count == 1 && node.Output.Count == 1 && initializers.Contains(node.Input[0])
                && statistics.Contains(node.Output[0]) && !initializers.Contains(node.Output[0]))
            {
                aliases[node.Output[0]] = node.Input[0];
            }
        }
        return aliases;
    }

    /// <summary>Registers a parameter or buffer under its dotted name, or a flat one ('.' made '_') where the tree cannot hold it.</summary>
    private void Place(string name, Parameter? parameter, Tensor? buffer)
    {
        var parts = name.Split('.');
        if (parts.All(p => p.Length > 0) && _scopes.TryPlace(parts, parameter, buffer))
        {
            return;
        }
        string flat = name.Replace('.', '_');
        for (int suffix = 1; !_scopes.TryPlace([flat], parameter, buffer); suffix++)
        {
            flat = name.Replace('.', '_') + "_" + suffix;
        }
    }

    private CompiledNode Compile(NodeProto node, HashSet<string> known)
    {
        string where = $"{_source}: node '{node.Name}' ({node.OpType}, opset {Opset})";
        if (node.Domain is not ("" or "ai.onnx"))
        {
            throw new NotSupportedException($"{where}: operator domain '{node.Domain}' is not supported (only the default ai.onnx domain).");
        }
        if (!OnnxOps.Handlers.TryGetValue(node.OpType, out var handler))
        {
            throw new NotSupportedException($"{where}: operator '{node.OpType}' is not supported by the importer (supported: {string.Join(", ", OnnxOps.Handlers.Keys.Order())}).");
        }
        foreach (var input in node.Input)
        {
            if (input.Length > 0 && !known.Contains(input))
            {
                throw new InvalidDataException($"{where}: input '{input}' is no graph input, initializer or output of an earlier node.");
            }
        }
        foreach (var output in node.Output)
        {
            if (output.Length > 0 && !known.Add(output))
            {
                throw new InvalidDataException($"{where}: output '{output}' is already defined.");
            }
        }
        return new CompiledNode(node, handler);
    }

    /// <summary>One node with its handler found once at load.</summary>
    private sealed class CompiledNode(NodeProto node, OpHandler handler)
    {
        public void Run(Dictionary<string, OnnxValue> values, long opset, bool training, string source, IReadOnlySet<string> buffers)
        {
            var inputs = new OnnxValue?[node.Input.Count];
            for (int i = 0; i < inputs.Length; i++)
            {
                inputs[i] = node.Input[i].Length > 0 ? values[node.Input[i]] : null;
            }
            var context = new NodeContext(node, inputs, opset, training, source, buffers);
            OnnxValue[] outputs;
            try
            {
                outputs = handler(context);
            }
            catch (ArgumentException e)
            {
                // AutoGrad's ops refuse bad shapes with ArgumentException; here the file is what is wrong.
                throw new InvalidDataException($"{context.Where}: {e.Message.TrimEnd('.')} (inputs {string.Join(", ", inputs.Select(v => v?.ToString() ?? "none"))}).", e);
            }
            catch (OverflowException e)
            {
                // the handlers read sizes (pads, kernel_shape, group, k, ...) from 64-bit attributes and constants with checked casts
                throw new InvalidDataException($"{context.Where}: an attribute or input value does not fit in 32 bits ({e.Message.TrimEnd('.')}).", e);
            }
            for (int i = 0; i < node.Output.Count; i++)
            {
                if (node.Output[i].Length == 0)
                {
                    continue;
                }
                if (i >= outputs.Length)
                {
                    throw context.Unsupported($"output {i} ('{node.Output[i]}') is not computed by the importer");
                }
                values[node.Output[i]] = outputs[i];
            }
        }
    }
}
