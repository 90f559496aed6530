using AutoGrad.Buffers;

namespace AutoGrad.Graph;

/// <summary>
/// The one backward traversal: order the graph topologically with an explicit stack (deep graphs cannot overflow),
/// seed the output gradient, walk from the output to the leaves calling each node's vector-Jacobian product, sum
/// broadcast gradients back to their input's shape, and accumulate into leaves.
/// </summary>
internal static class Engine
{
    public static void Backward(Variable output, Tensor? gradient, bool retainGraph, bool createGraph = false)
    {
        if (!output.RequiresGrad)
        {
            throw new InvalidOperationException(CallSite.Tag(
                "Backward: this variable does not require grad (no input had RequiresGrad = true, or it was computed under GradMode.NoGrad())."));
        }
        gradient = Seed(output, gradient, "Backward");
        if (createGraph)
        {
            VariableBackward.Run([output], [new Variable(gradient)], retainGraph, createGraph: true, inputs: null);
            return;
        }

        using var noGrad = GradMode.NoGrad();
        using var tracking = BufferPool.Track();
        // The traversal's collections are reused by the next pass on this thread (a pass started from a hook gets its own).
        var scratch = t_scratch ?? new Scratch();
        t_scratch = null;
        try
        {
            Run(output, gradient, retainGraph, scratch);
        }
        finally
        {
            scratch.Clear();
            t_scratch = scratch;
        }
    }

    [ThreadStatic]
    private static Scratch? t_scratch;

    /// <summary>The collections one backward pass needs, kept per thread so steady-state training allocates none of them.</summary>
    private sealed class Scratch
    {
        public readonly List<Function> Roots = [];
        public readonly List<Function> Order = [];
        public readonly HashSet<Function> Visited = new(ReferenceEqualityComparer.Instance);
        public readonly Stack<(Function Node, int NextInput)> Stack = new();
        public readonly Dictionary<Function, Tensor> Pending = new(ReferenceEqualityComparer.Instance);
        public readonly Dictionary<Variable, Tensor> Leaves = new(ReferenceEqualityComparer.Instance);
        public readonly List<Variable> LeafOrder = [];
        public readonly GradientBuffers Buffers = new();
        private readonly Dictionary<int, Tensor?[]> _inputGrads = [];

        /// <summary>A cleared array for one node's input gradients (nodes run one at a time, so one per arity suffices).</summary>
        public Tensor?[] InputGrads(int count)
        {
            if (!_inputGrads.TryGetValue(count, out var array))
            {
                _inputGrads[count] = array = new Tensor?[count];
            }
            Array.Clear(array);
            return array;
        }

        public void Clear()
        {
            Roots.Clear();
            Order.Clear();
            Visited.Clear();
            Stack.Clear();
            Pending.Clear();
            Leaves.Clear();
            LeafOrder.Clear();
            Buffers.Clear();
            foreach (var array in _inputGrads.Values)
            {
                Array.Clear(array);
            }
        }
    }

    private static void Run(Variable output, Tensor gradient, bool retainGraph, Scratch scratch)
    {
        var buffers = scratch.Buffers;
        if (output.GradFn is null)
        {
            AccumulateIntoLeaf(output, ApplyHooks(output.LeafHooks, gradient, "leaf"), buffers);
            return;
        }

        var order = TopologicalOrder(output.GradFn, scratch);
        var pending = scratch.Pending;
        pending[output.GradFn] = buffers.Hold(gradient);
        // A leaf's contributions are summed first, then its hooks run once and the total is accumulated, as in PyTorch.
        var leaves = scratch.Leaves;
        var leafOrder = scratch.LeafOrder;
        foreach (var node in order)
        {
            if (!pending.Remove(node, out var grad))
            {
                continue;
            }
            var held = grad;
            grad = ApplyHooks(node.OutputHooks, grad, node.Name);
            if (node.RetainedOutput is { } retained)
            {
                retained.Grad = grad.Clone();
            }
            var inputs = node.Inputs;
            var inputGrads = scratch.InputGrads(inputs.Length);
            node.CheckSavedVersions();
            node.Backward(grad, inputGrads);
            for (int i = 0; i < inputs.Length; i++)
            {
                var g = inputGrads[i];
                if (g is null || !node.NeedsInputGrad[i])
                {
                    continue;
                }
                if (AnomalyMode.IsEnabled)
                {
                    AnomalyMode.CheckFinite(g.AsReadOnlySpan(), node.Name, "backward",
                        $"gradient {Shapes.Format(g.Shape)} for input {i} of shape {Shapes.Format(inputs[i].Shape)}", node.Site);
                }
                var input = inputs[i];
                var reduced = SumToShape(g, input.Value.ShapeArray, node.Name);
                if (!ReferenceEquals(reduced, g))
                {
                    buffers.RecycleIfUnheld(g);
                }
                if (input.GradFn is null)
                {
                    Accumulate(leaves, input, reduced, buffers, leafOrder);
                }
                else
                {
                    Accumulate(pending, input.GradFn, reduced, buffers, null);
                }
            }
            if (!retainGraph)
            {
                node.Release();
            }
            buffers.Drop(held);
            if (!ReferenceEquals(grad, held))
            {
                buffers.RecycleIfUnheld(grad);
            }
        }
        foreach (var leaf in leafOrder)
        {
            var total = leaves[leaf];
            AccumulateIntoLeaf(leaf, ApplyHooks(leaf.LeafHooks, total, "leaf"), buffers);
            buffers.Drop(total);
        }
    }

    /// <summary>
    /// Adds <paramref name="gradient"/> to the sum kept for <paramref name="key"/>. Interior gradients may alias other
    /// tensors (an add passes its gradient through to both inputs), so sums are formed out of place.
    /// </summary>
    private static void Accumulate<TKey>(Dictionary<TKey, Tensor> sums, TKey key, Tensor gradient, GradientBuffers buffers, List<TKey>? order)
        where TKey : notnull
    {
        if (sums.TryGetValue(key, out var sum))
        {
            sums[key] = buffers.Hold(TensorMath.Add(sum, gradient));
            buffers.Drop(sum);
            buffers.RecycleIfUnheld(gradient);
        }
        else
        {
            sums[key] = buffers.Hold(gradient);
            order?.Add(key);
        }
    }

    /// <summary>Runs gradient hooks in registration order; each may return a replacement of the same shape.</summary>
    internal static Tensor ApplyHooks(List<Func<Tensor, Tensor?>>? hooks, Tensor grad, string owner)
    {
        if (hooks is null || hooks.Count == 0)
        {
            return grad;
        }
        BufferPool.Untrack(grad.Storage); // a hook may keep the tensor it is shown, so its buffer is never recycled
        foreach (var hook in hooks.ToArray())
        {
            if (hook(grad) is { } replaced)
            {
                if (!replaced.Shape.SequenceEqual(grad.Shape))
                {
                    throw new InvalidOperationException(CallSite.Tag(
                        $"Backward: a hook on the output of {owner} returned a gradient of shape {Shapes.Format(replaced.Shape)}; it must keep {Shapes.Format(grad.Shape)}."));
                }
                grad = replaced;
                BufferPool.Untrack(grad.Storage);
            }
        }
        return grad;
    }

    /// <summary>
    /// The gradient a backward starts from: ones for a single-element output, else the caller's, which must have the
    /// output's shape.
    /// </summary>
    internal static Tensor Seed(Variable output, Tensor? gradient, string op)
    {
        if (gradient is null)
        {
            if (output.Value.Length != 1)
            {
                throw new InvalidOperationException(CallSite.Tag(
                    $"{op}: the output has shape {Shapes.Format(output.Value.Shape)}; only a single-element output has an implicit gradient. Pass the output gradient explicitly."));
            }
            return Tensor.Ones(output.Value.ShapeArray);
        }
        if (!gradient.Shape.SequenceEqual(output.Value.Shape))
        {
            throw new ArgumentException(CallSite.Tag(
                $"{op}: the output gradient has shape {Shapes.Format(gradient.Shape)} but the output has shape {Shapes.Format(output.Value.Shape)}."), nameof(gradient));
        }
        return gradient;
    }

    /// <summary>Nodes reachable from <paramref name="root"/>, each after every node that consumes its output.</summary>
    private static List<Function> TopologicalOrder(Function root, Scratch scratch)
    {
        scratch.Roots.Clear();
        scratch.Roots.Add(root);
        return TopologicalOrder(scratch.Roots, scratch.Order, scratch.Visited, scratch.Stack);
    }

    /// <summary>
    /// Nodes reachable from <paramref name="roots"/> through inputs that need a gradient, each after every node that
    /// consumes its output (into <paramref name="postOrder"/>, which is returned).
    /// </summary>
    internal static List<Function> TopologicalOrder(List<Function> roots, List<Function> postOrder, HashSet<Function> visited,
        Stack<(Function Node, int NextInput)> stack)
    {
        foreach (var root in roots)
        {
            if (!visited.Add(root))
            {
                continue;
            }
            CheckNotReleased(root);
            stack.Push((root, 0));
            while (stack.Count > 0)
            {
                var (node, next) = stack.Pop();
                var inputs = node.Inputs;
                if (next < inputs.Length)
                {
                    stack.Push((node, next + 1));
                    var child = inputs[next].GradFn;
                    if (child is not null && node.NeedsInputGrad[next] && visited.Add(child))
                    {
                        CheckNotReleased(child);
                        stack.Push((child, 0));
                    }
                    continue;
                }
                postOrder.Add(node);
            }
        }
        postOrder.Reverse();
        return postOrder;
    }

    internal static void CheckNotReleased(Function node)
    {
        if (node.Released)
        {
            throw new InvalidOperationException(CallSite.Tag(
                $"Backward: the graph through {node.Name} was already released by an earlier Backward. " +
                "Pass retainGraph: true to the earlier call to backpropagate through the same graph twice."));
        }
    }

    private static void AccumulateIntoLeaf(Variable leaf, Tensor grad, GradientBuffers buffers)
    {
        if (leaf.GradVariable is not null)
        {
            // the gradient is a value of a graph (Backward(createGraph: true)): never written in place
            leaf.Grad = TensorMath.Add(leaf.Grad!, grad);
        }
        else if (leaf.Grad is null)
        {
            // The leaf owns its gradient, so later passes may add into it in place: a buffer only this pass holds is
            // handed over, anything else is copied.
            if (buffers.IsSoleHolder(grad))
            {
                BufferPool.Untrack(grad.Storage);
                leaf.Grad = grad;
            }
            else
            {
                leaf.Grad = grad.Clone();
            }
        }
        else
        {
            var target = leaf.Grad.AsSpan();
            System.Numerics.Tensors.TensorPrimitives.Add(target, grad.AsReadOnlySpan(), target);
        }
    }

    /// <summary>The single place broadcast gradients are summed back to the shape of the input they belong to.</summary>
    internal static Tensor SumToShape(Tensor grad, int[] shape, string op)
    {
        if (grad.Shape.SequenceEqual(shape))
        {
            return grad;
        }
        if (!Shapes.BroadcastsTo(shape, grad.Shape))
        {
            throw new InvalidOperationException(CallSite.Tag(
                $"Backward of {op}: gradient of shape {Shapes.Format(grad.Shape)} cannot be reduced to the input's shape {Shapes.Format(shape)}."));
        }
        int lead = grad.Rank - shape.Length;
        var dims = new List<int>();
        for (int d = 0; d < grad.Rank; d++)
        {
            if (d < lead || (shape[d - lead] == 1 && grad.Shape[d] != 1))
            {
                dims.Add(d);
            }
        }
        return TensorMath.Sum(grad, dims.ToArray(), keepDim: true).WithShape(shape);
    }

    /// <summary>
    /// Counts how many pending sums hold each gradient buffer, so a buffer goes back to the pool exactly when the last
    /// one is consumed; only buffers the factory handed out during this pass (and no hook saw) are ever given back.
    /// </summary>
    private sealed class GradientBuffers
    {
        private readonly Dictionary<Storage, int> _holds = new(ReferenceEqualityComparer.Instance);

        public Tensor Hold(Tensor gradient)
        {
            System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_holds, gradient.Storage, out _)++;
            return gradient;
        }

        public void Drop(Tensor gradient)
        {
            ref int count = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrNullRef(_holds, gradient.Storage);
            if (System.Runtime.CompilerServices.Unsafe.IsNullRef(ref count) || --count > 0)
            {
                return;
            }
            _holds.Remove(gradient.Storage);
            BufferPool.ReturnTracked(gradient);
        }

        /// <summary>Gives back a gradient nothing holds (one replaced by its reduced or summed form).</summary>
        public void RecycleIfUnheld(Tensor gradient)
        {
            if (!_holds.ContainsKey(gradient.Storage))
            {
                BufferPool.ReturnTracked(gradient);
            }
        }

        public bool IsSoleHolder(Tensor gradient)
            => _holds.TryGetValue(gradient.Storage, out int count) && count == 1 && BufferPool.IsTracked(gradient.Storage);

        public void Clear() => _holds.Clear();
    }
}
