using AutoGrad.Graph;
using AutoGrad.IO;
using AutoGrad.Nn;

namespace AutoGrad.Onnx;

/// <summary>
/// Exports a model to ONNX (opset 20) by tracing: one forward pass in evaluation mode records the graph, which is
/// then walked from the output and written node for node. Parameters become initializers under their dotted names;
/// the batch dimension is symbolic ("N"), so the file accepts any batch size.
/// </summary>
public static class OnnxExporter
{
    /// <summary>The ONNX operator set the exporter targets (Gelu needs 20).</summary>
    public const int OpsetVersion = 20;

    private const int IrVersion = 9; // the IR version that goes with opset 20

    /// <summary>The ops the exporter maps, by the names AutoGrad records.</summary>
    public static IReadOnlyList<string> SupportedOps { get; } =
    [
        "Linear", "MatMul", "Add", "Sub", "Mul", "Div", "Neg", "AddScalar", "MulScalar", "Conv2d", "ConvTranspose2d (groups 1)",
        "MaxPool2d", "AvgPool2d", "Reshape", "Permute", "Relu", "LeakyRelu", "Tanh", "Sigmoid", "Gelu", "Elu", "Softplus (beta 1)", "Softmax",
        "LogSoftmax", "Exp", "Log", "Sqrt", "Abs", "BatchNorm (evaluation mode)", "LayerNorm", "GroupNorm",
    ];

    /// <summary>Writes the ONNX model of <paramref name="model"/> traced on <paramref name="exampleInput"/> to <paramref name="path"/>, atomically.</summary>
    public static void Export(Module model, Tensor exampleInput, string path, bool dynamicBatch = true)
    {
        var bytes = Export(model, exampleInput, dynamicBatch);
        AtomicFile.Write(path, s => s.Write(bytes));
    }

    /// <summary>The ONNX model (serialized ModelProto) of <paramref name="model"/> traced on <paramref name="exampleInput"/>.</summary>
    /// <exception cref="NotSupportedException">The forward pass uses an op with no ONNX mapping; the message names it.</exception>
    public static byte[] Export(Module model, Tensor exampleInput, bool dynamicBatch = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(exampleInput);
        using var evaluation = model.EvalMode();
        using var recording = GradMode.EnableGrad();
        var input = new Variable(exampleInput, requiresGrad: true, name: "input");
        var output = model.Call(input);
        if (ReferenceEquals(output, input))
        {
            throw new NotSupportedException("ONNX export: the model returns its input unchanged; there is nothing to export.");
        }
        return new GraphBuilder(model, input, dynamicBatch).Build(output);
    }

    /// <summary>Walks a recorded graph and turns each node into ONNX nodes.</summary>
    private sealed class GraphBuilder(Module model, Variable input, bool dynamicBatch)
    {
        private readonly Dictionary<Variable, string> _names = new(new IdentityComparer());
        private readonly Dictionary<Variable, string> _parameterNames = model.NamedParameters()
            .ToDictionary(p => (Variable)p.Value, p => p.Key, new IdentityComparer());
        private readonly Dictionary<object, string> _bufferNames = model.NamedBuffers()
            .ToDictionary(b => (object)b.Value, b => b.Key, ReferenceEqualityComparer.Instance);
        private readonly List<ProtoWriter> _nodes = [];
        private readonly List<ProtoWriter> _initializers = [];
        private int _counter;

        public byte[] Build(Variable output)
        {
            _names[input] = "input";
            foreach (var v in TopologicalOrder(output))
            {
                if (v.GradFn is null)
                {
                    NameLeaf(v);
                }
                else
                {
                    _names[v] = ReferenceEquals(v, output) ? "output" : $"t{_counter++}";
                    Emit(v.GradFn, v);
                }
            }
            int batch = input.Shape[0];
            var inputs = new[] { OnnxProto.FloatValueInfo("input", Dims(input.Shape, batch), "N") };
            var outputs = new[] { OnnxProto.FloatValueInfo("output", Dims(output.Shape, batch), "N") };
            var graph = OnnxProto.Graph(model.GetType().Name, _nodes, _initializers, inputs, outputs);
            var version = typeof(Variable).Assembly.GetName().Version?.ToString() ?? "0";
            return OnnxProto.Model(IrVersion, OpsetVersion, "AutoGrad", version, graph).ToArray();
        }

        private List<int?> Dims(ReadOnlySpan<int> shape, int batch)
        {
            var dims = new List<int?>();
            for (int d = 0; d < shape.Length; d++)
            {
                dims.Add(d == 0 && dynamicBatch && shape[0] == batch ? null : shape[d]);
            }
            return dims;
        }

        // Post-order over variables, iteratively (graphs can be deep).
        private static List<Variable> TopologicalOrder(Variable output)
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
                if (v.GradFn is { } fn)
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

        private void NameLeaf(Variable v)
        {
            if (_names.ContainsKey(v))
            {
                return;
            }
            string name = _parameterNames.TryGetValue(v, out var parameterName) ? parameterName : $"const{_counter++}";
            _names[v] = name;
            _initializers.Add(OnnxProto.FloatTensor(name, v.Value));
        }

        private string Constant(Tensor value)
        {
            string name = $"const{_counter++}";
            _initializers.Add(OnnxProto.FloatTensor(name, value));
            return name;
        }

        private string Int64Constant(long[] values)
        {
            string name = $"const{_counter++}";
            _initializers.Add(OnnxProto.Int64Tensor(name, values));
            return name;
        }

        private void Node(string opType, Variable output, string[] inputs, params ProtoWriter[] attributes)
            => Node(opType, _names[output], inputs, attributes);

        private void Node(string opType, string output, string[] inputs, params ProtoWriter[] attributes)
            => _nodes.Add(OnnxProto.Node(opType, $"{opType}_{_nodes.Count}", inputs, [output], attributes));

        /// <summary>
        /// A node that fused ReLU into itself (a Sequential runs Linear/Conv2d + ReLU and ReLU + MaxPool2d as one) becomes
        /// the plain op into a fresh name and a Relu from that name to the output.
        /// </summary>
        private string FusedTarget(IReadOnlyDictionary<string, object> attributes, Variable output)
            => attributes.TryGetValue("activation", out var activation) && (string)activation == "relu" ? $"preact{_counter++}" : _names[output];

        private void FinishFused(string target, Variable output)
        {
            if (target != _names[output])
            {
                Node("Relu", output, [target]);
            }
        }

        private void Emit(Function fn, Variable output)
        {
            var a = fn.Attributes;
            string[] inputs = fn.Inputs.Select(i => _names[i]).ToArray();
            int[] Ints(string key) => (int[])a[key];
            switch (fn.Name)
            {
                case "Linear":
                {
                    string target = FusedTarget(a, output);
                    Node("Gemm", target, inputs, OnnxProto.IntAttribute("transB", 1));
                    FinishFused(target, output);
                    break;
                }
                case "MatMul" or "Add" or "Sub" or "Mul" or "Div" or "Neg" or "Relu" or "Tanh" or "Sigmoid" or "Exp" or "Log" or "Sqrt" or "Abs":
                    Node(fn.Name, output, inputs);
                    break;
                case "AddScalar":
                    Node("Add", output, [inputs[0], Constant(Tensor.Scalar((float)a["scalar"]))]);
                    break;
                case "MulScalar":
                    Node("Mul", output, [inputs[0], Constant(Tensor.Scalar((float)a["scalar"]))]);
                    break;
                case "Conv2d":
                {
                    // a fused ReLU and 2x2 max pooling (a Sequential's Conv2d, ReLU, MaxPool2d) become Conv, Relu, MaxPool
                    bool pooled = a.ContainsKey("pool");
                    string target = pooled ? $"prepool{_counter++}" : FusedTarget(a, output);
                    Node("Conv", target, inputs, OnnxProto.IntsAttribute("kernel_shape", Ints("kernel_shape")),
                        OnnxProto.IntsAttribute("strides", Ints("strides")), OnnxProto.IntsAttribute("pads", Ints("pads")),
                        OnnxProto.IntsAttribute("dilations", Ints("dilations")));
                    if (pooled)
                    {
                        string activated = $"prepool{_counter++}";
                        Node("Relu", activated, [target]);
                        Node("MaxPool", output, [activated], OnnxProto.IntsAttribute("kernel_shape", [2, 2]), OnnxProto.IntsAttribute("strides", [2, 2]),
                            OnnxProto.IntsAttribute("pads", [0, 0, 0, 0]));
                    }
                    else
                    {
                        FinishFused(target, output);
                    }
                    break;
                }
                case "ConvTranspose2d":
                    // ONNX's output size is PyTorch's: stride (in - 1) + output_padding + dilation (kernel - 1) + 1 - both pads
                    Node("ConvTranspose", output, inputs, OnnxProto.IntsAttribute("kernel_shape", Ints("kernel_shape")),
                        OnnxProto.IntsAttribute("strides", Ints("strides")), OnnxProto.IntsAttribute("pads", Ints("pads")),
                        OnnxProto.IntsAttribute("dilations", Ints("dilations")), OnnxProto.IntsAttribute("output_padding", Ints("output_padding")));
                    break;
                case "MaxPool2d":
                {
                    // a fused ReLU before the pooling is exported after it: max(0, .) commutes with the window maximum
                    string target = FusedTarget(a, output);
                    Node("MaxPool", target, inputs, OnnxProto.IntsAttribute("kernel_shape", Ints("kernel_shape")),
                        OnnxProto.IntsAttribute("strides", Ints("strides")), OnnxProto.IntsAttribute("pads", Ints("pads")));
                    FinishFused(target, output);
                    break;
                }
                case "AvgPool2d":
                    Node("AveragePool", output, inputs, OnnxProto.IntsAttribute("kernel_shape", Ints("kernel_shape")),
                        OnnxProto.IntsAttribute("strides", Ints("strides")), OnnxProto.IntsAttribute("pads", Ints("pads")),
                        OnnxProto.IntAttribute("count_include_pad", 1));
                    break;
                case "Reshape":
                    EmitReshape(output, inputs[0], Ints("input_shape"), Ints("shape"));
                    break;
                case "Permute":
                    Node("Transpose", output, inputs, OnnxProto.IntsAttribute("perm", Ints("perm")));
                    break;
                case "LeakyRelu" or "Elu":
                    Node(fn.Name, output, inputs, OnnxProto.FloatAttribute("alpha", (float)a["alpha"]));
                    break;
                case "Gelu":
                    Node("Gelu", output, inputs, OnnxProto.StringAttribute("approximate", (string)a["approximate"]));
                    break;
                case "Softplus" when (float)a["beta"] == 1f:
                    Node("Softplus", output, inputs);
                    break;
                case "Softmax" or "LogSoftmax":
                    Node(fn.Name, output, inputs, OnnxProto.IntAttribute("axis", (int)a["axis"]));
                    break;
                case "BatchNorm" or "LayerNorm" or "GroupNorm":
                    EmitNormalization(fn.Name, a, inputs, output);
                    break;
                default:
                    throw new NotSupportedException(
                        $"ONNX export: op '{fn.Name}' (output shape {FormatShape(output.Shape)}) has no ONNX mapping. Supported ops: {string.Join(", ", SupportedOps)}.");
            }
        }

        /// <summary>
        /// BatchNorm (evaluation mode) as BatchNormalization, LayerNorm as LayerNormalization (opset 17); GroupNorm as
        /// InstanceNormalization over [N, G, rest] then the per-channel affine, because opset 20's GroupNormalization
        /// takes a scale per group, not per channel. A missing weight or bias becomes a constant of ones or zeros.
        /// </summary>
        private void EmitNormalization(string op, IReadOnlyDictionary<string, object> a, string[] inputs, Variable output)
        {
            float eps = (float)a["epsilon"];
            bool hasWeight = (bool)a["has_weight"], hasBias = (bool)a["has_bias"];
            var shape = output.Shape;
            int[] affineShape = op == "LayerNorm" ? shape[(int)a["axis"]..].ToArray() : [shape[1]];
            string weight = hasWeight ? inputs[1] : Constant(Tensor.Ones(affineShape));
            string bias = hasBias ? inputs[hasWeight ? 2 : 1] : Constant(Tensor.Zeros(affineShape));
            switch (op)
            {
                case "BatchNorm":
                    if ((bool)a["training_mode"])
                    {
                        throw new NotSupportedException(
                            $"ONNX export: BatchNorm in training mode (output shape {FormatShape(shape)}) has no inference graph; the exporter runs modules in Eval(), "
                            + "so call F.BatchNorm with training: Training in your Forward.");
                    }
                    Node("BatchNormalization", output, [inputs[0], weight, bias, Buffer((Tensor)a["running_mean"]), Buffer((Tensor)a["running_var"])],
                        OnnxProto.FloatAttribute("epsilon", eps));
                    break;
                case "LayerNorm":
                    Node("LayerNormalization", output, [inputs[0], weight, bias], OnnxProto.IntAttribute("axis", (int)a["axis"]),
                        OnnxProto.FloatAttribute("epsilon", eps));
                    break;
                default:
                {
                    int groups = (int)a["num_groups"];
                    string grouped = $"grouped{_counter++}", normalized = $"normalized{_counter++}", restored = $"restored{_counter++}", scaled = $"scaled{_counter++}";
                    Node("Reshape", grouped, [inputs[0], Int64Constant([0, groups, -1])]);
                    Node("InstanceNormalization", normalized, [grouped, Constant(Tensor.Ones(groups)), Constant(Tensor.Zeros(groups))],
                        OnnxProto.FloatAttribute("epsilon", eps));
                    Node("Shape", $"shape{_counter}", [inputs[0]]);
                    Node("Reshape", restored, [normalized, $"shape{_counter++}"]);
                    long[] perChannel = [shape[1], .. Enumerable.Repeat(1L, shape.Length - 2)];
                    string weightColumn = $"weightcol{_counter++}", biasColumn = $"biascol{_counter++}";
                    Node("Reshape", weightColumn, [weight, Int64Constant(perChannel)]);
                    Node("Reshape", biasColumn, [bias, Int64Constant(perChannel)]);
                    Node("Mul", scaled, [restored, weightColumn]);
                    Node("Add", output, [scaled, biasColumn]);
                    break;
                }
            }
        }

        // A running statistic under its buffer's name (bn.running_mean), once; a tensor that is no buffer as a constant.
        private string Buffer(Tensor tensor)
        {
            if (!_bufferNames.TryGetValue(tensor, out var name))
            {
                return Constant(tensor);
            }
            if (_exportedBuffers.Add(name))
            {
                _initializers.Add(OnnxProto.FloatTensor(name, tensor));
            }
            return name;
        }

        private readonly HashSet<string> _exportedBuffers = [];

        // A batch-preserving reshape to [N, rest] is ONNX's Flatten; any other keeps dim 0 symbolic with a 0 ("copy").
        private void EmitReshape(Variable output, string source, int[] from, int[] to)
        {
            bool keepsBatch = from.Length > 0 && to.Length > 0 && from[0] == to[0];
            if (keepsBatch && to.Length == 2)
            {
                Node("Flatten", output, [source], OnnxProto.IntAttribute("axis", 1));
                return;
            }
            var shape = to.Select(d => (long)d).ToArray();
            if (keepsBatch && dynamicBatch)
            {
                shape[0] = 0;
            }
            Node("Reshape", output, [source, Int64Constant(shape)]);
        }

        private sealed class IdentityComparer : IEqualityComparer<Variable>
        {
            public bool Equals(Variable? x, Variable? y) => ReferenceEquals(x, y);

            public int GetHashCode(Variable obj) => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(obj);
        }

        private static string FormatShape(ReadOnlySpan<int> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";
    }
}
