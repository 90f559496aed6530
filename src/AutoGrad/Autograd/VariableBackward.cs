using AutoGrad.Ops;

namespace AutoGrad.Graph;

/// <summary>
/// The backward traversal over variables, for <c>Backward(createGraph: true)</c> and <see cref="Autograd.Grad(IReadOnlyList{Variable}, IReadOnlyList{Variable}, IReadOnlyList{Variable?}?, bool?, bool, bool)"/>.
/// Gradients are variables: with createGraph each node runs its differentiable backward
/// (<see cref="Function.BackwardGraph"/>) with recording on, so the gradients form a graph of their own that a later
/// backward differentiates; without it each node runs its tensor backward and the results are wrapped. Nothing is
/// recycled here (a gradient may be kept by a graph), which is why first-order <c>Backward()</c> keeps its own pass.
/// </summary>
internal static class VariableBackward
{
    /// <summary>
    /// Propagates <paramref name="seeds"/> from <paramref name="outputs"/>. With <paramref name="inputs"/> null every
    /// leaf that requires grad accumulates its gradient (Backward); otherwise the gradients of exactly those variables
    /// are returned (null for one the outputs do not depend on), nothing is accumulated, and only the part of the graph
    /// that leads to them runs.
    /// </summary>
    public static Variable?[]? Run(IReadOnlyList<Variable> outputs, IReadOnlyList<Variable> seeds, bool retainGraph, bool createGraph,
        IReadOnlyList<Variable>? inputs)
    {
        using var mode = createGraph ? GradMode.EnableGrad() : GradMode.NoGrad();
        var roots = new List<Function>();
        foreach (var output in outputs)
        {
            if (output.GradFn is { } fn)
            {
                roots.Add(fn);
            }
        }
        var order = Engine.TopologicalOrder(roots, [], new(ReferenceEqualityComparer.Instance), new());
        var targets = inputs is null ? null : new Targets(inputs, order);

        var pending = new Dictionary<Function, Variable>(ReferenceEqualityComparer.Instance);
        var leaves = new Dictionary<Variable, Variable>(ReferenceEqualityComparer.Instance);
        var leafOrder = new List<Variable>();
        for (int i = 0; i < outputs.Count; i++)
        {
            Route(outputs[i], seeds[i], pending, leaves, leafOrder, targets);
        }

        foreach (var node in order)
        {
            if (!pending.Remove(node, out var grad))
            {
                continue;
            }
            // a requested variable's gradient is taken before its hooks, as torch.autograd.grad does
            targets?.Capture(node, grad);
            grad = ApplyHooks(node.OutputHooks, grad, node.Name);
            if (targets is null && node.RetainedOutput is { } retained)
            {
                retained.Grad = grad.Value.Clone();
            }
            if (targets is not null && !targets.RunsBackward(node))
            {
                continue; // a requested variable's node with nothing requested below it
            }
            node.CheckSavedVersions();
            var inputGrads = VectorJacobianProduct(node, grad, createGraph);
            var nodeInputs = node.Inputs;
            for (int i = 0; i < nodeInputs.Length; i++)
            {
                if (inputGrads[i] is not { } g || !node.NeedsInputGrad[i])
                {
                    continue;
                }
                if (AnomalyMode.IsEnabled)
                {
                    AnomalyMode.CheckFinite(g.Value.AsReadOnlySpan(), node.Name, "backward",
                        $"gradient {Shapes.Format(g.Shape)} for input {i} of shape {Shapes.Format(nodeInputs[i].Shape)}", node.Site);
                }
                Route(nodeInputs[i], SumToShapeFunction.Apply(g, nodeInputs[i].Value.ShapeArray, node.Name), pending, leaves, leafOrder, targets);
            }
            if (!retainGraph)
            {
                node.Release();
            }
        }

        foreach (var leaf in leafOrder)
        {
            var total = ApplyHooks(leaf.LeafHooks, leaves[leaf], "leaf");
            if (targets is not null)
            {
                targets.Capture(leaf, leaves[leaf]); // hooks see it, but the gradient returned is the one before them
            }
            else
            {
                AccumulateIntoLeaf(leaf, total, createGraph);
            }
        }
        return targets?.Gradients;
    }

    /// <summary>One node's input gradients: its differentiable backward when recording, else its tensor backward.</summary>
    private static Variable?[] VectorJacobianProduct(Function node, Variable grad, bool createGraph)
    {
        var inputGrads = new Variable?[node.Inputs.Length];
        if (createGraph)
        {
            node.BackwardGraph(grad, inputGrads);
            return inputGrads;
        }
        var tensors = new Tensor?[inputGrads.Length];
        node.Backward(grad.Value, tensors);
        for (int i = 0; i < tensors.Length; i++)
        {
            inputGrads[i] = tensors[i] is { } t ? new Variable(t) : null;
        }
        return inputGrads;
    }

    /// <summary>Adds a gradient to the sum kept for the node that made <paramref name="variable"/>, or for the leaf itself.</summary>
    private static void Route(Variable variable, Variable gradient, Dictionary<Function, Variable> pending, Dictionary<Variable, Variable> leaves,
        List<Variable> leafOrder, Targets? targets)
    {
        if (variable.GradFn is { } fn)
        {
            if (targets is null || targets.Leads(fn))
            {
                Add(pending, fn, gradient, null);
            }
        }
        else if (variable.RequiresGrad && (targets is null || targets.Contains(variable)))
        {
            Add(leaves, variable, gradient, leafOrder);
        }
    }

    private static void Add<TKey>(Dictionary<TKey, Variable> sums, TKey key, Variable gradient, List<TKey>? order) where TKey : notnull
    {
        if (sums.TryGetValue(key, out var sum))
        {
            sums[key] = Ops.AddFunction.Apply(sum, gradient);
        }
        else
        {
            sums[key] = gradient;
            order?.Add(key);
        }
    }

    /// <summary>A hook sees the gradient's value; a replacement it returns enters the graph as a constant.</summary>
    private static Variable ApplyHooks(List<Func<Tensor, Tensor?>>? hooks, Variable grad, string owner)
    {
        if (hooks is null || hooks.Count == 0)
        {
            return grad;
        }
        var replaced = Engine.ApplyHooks(hooks, grad.Value, owner);
        return ReferenceEquals(replaced, grad.Value) ? grad : new Variable(replaced);
    }

    private static void AccumulateIntoLeaf(Variable leaf, Variable gradient, bool createGraph)
    {
        if (createGraph)
        {
            // out of place, as PyTorch under create_graph: the sum is a node, so the total stays differentiable
            var previous = leaf.GradVariable ?? (leaf.Grad is { } g ? new Variable(g) : null);
            leaf.SetGradVariable(previous is null ? gradient : Ops.AddFunction.Apply(previous, gradient));
        }
        else if (leaf.Grad is null || leaf.GradVariable is not null)
        {
            // a copy: the gradient may alias a tensor the caller or the graph holds
            leaf.Grad = leaf.Grad is null ? gradient.Value.Clone() : TensorMath.Add(leaf.Grad, gradient.Value);
        }
        else
        {
            var target = leaf.Grad.AsSpan();
            System.Numerics.Tensors.TensorPrimitives.Add(target, gradient.Value.AsReadOnlySpan(), target);
        }
    }

    /// <summary>
    /// The variables whose gradients Autograd.Grad returns, and the nodes from which one of them can be reached (the
    /// only ones that need to run).
    /// </summary>
    private sealed class Targets
    {
        private readonly Dictionary<Function, List<int>> _byNode = new(ReferenceEqualityComparer.Instance);
        private readonly Dictionary<Variable, List<int>> _byLeaf = new(ReferenceEqualityComparer.Instance);
        private readonly HashSet<Function> _leading = new(ReferenceEqualityComparer.Instance);
        private readonly HashSet<Function> _runs = new(ReferenceEqualityComparer.Instance);

        public Targets(IReadOnlyList<Variable> inputs, List<Function> order)
        {
            Gradients = new Variable?[inputs.Count];
            for (int i = 0; i < inputs.Count; i++)
            {
                var list = inputs[i].GradFn is { } fn ? Get(_byNode, fn) : Get(_byLeaf, inputs[i]);
                list.Add(i);
            }
            // consumers come before producers in order, so walking it backwards sees every child before its parents
            for (int n = order.Count - 1; n >= 0; n--)
            {
                var node = order[n];
                bool below = false;
                for (int i = 0; i < node.Inputs.Length && !below; i++)
                {
                    var input = node.Inputs[i];
                    below = node.NeedsInputGrad[i] && (input.GradFn is { } child ? _leading.Contains(child) : _byLeaf.ContainsKey(input));
                }
                if (below)
                {
                    _runs.Add(node);
                }
                if (below || _byNode.ContainsKey(node))
                {
                    _leading.Add(node);
                }
            }
        }

        public Variable?[] Gradients { get; }

        /// <summary>Whether a requested variable is this node's or lies below it.</summary>
        public bool Leads(Function node) => _leading.Contains(node);

        /// <summary>Whether a requested variable lies below this node, so its backward must run.</summary>
        public bool RunsBackward(Function node) => _runs.Contains(node);

        public bool Contains(Variable leaf) => _byLeaf.ContainsKey(leaf);

        public void Capture(Function node, Variable gradient) => Capture(_byNode.GetValueOrDefault(node), gradient);

        public void Capture(Variable leaf, Variable gradient) => Capture(_byLeaf.GetValueOrDefault(leaf), gradient);

        private void Capture(List<int>? indices, Variable gradient)
        {
            foreach (int i in indices ?? [])
            {
                Gradients[i] = gradient;
            }
        }

        private static List<int> Get<TKey>(Dictionary<TKey, List<int>> map, TKey key) where TKey : notnull
        {
            if (!map.TryGetValue(key, out var list))
            {
                map[key] = list = [];
            }
            return list;
        }
    }
}
