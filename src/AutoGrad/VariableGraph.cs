using System.Globalization;
using System.Numerics.Tensors;
using System.Text;
using AutoGrad.Graph;

namespace AutoGrad;

public partial class Variable
{
    /// <summary>
    /// The graph that computed this variable in Graphviz DOT: one box per variable (name or "leaf"/"input", shape and,
    /// where a gradient is stored, its L2 norm) and one ellipse per op (name and settings), with edges in the
    /// direction data flows. Render with <c>dot -Tpng graph.dot -o graph.png</c>. Call it before Backward, or after
    /// <c>Backward(retainGraph: true)</c>: a released graph has forgotten its inputs.
    /// </summary>
    public string ToDot()
    {
        var dot = new StringBuilder("digraph autograd {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=10];\n");
        var ids = new Dictionary<object, string>(ReferenceEqualityComparer.Instance);
        string Id(object o) => ids.TryGetValue(o, out var id) ? id : ids[o] = $"n{ids.Count}";
        var visited = new HashSet<Variable>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<Variable>();
        stack.Push(this);
        while (stack.Count > 0)
        {
            var v = stack.Pop();
            if (!visited.Add(v))
            {
                continue;
            }
            dot.Append(CultureInfo.InvariantCulture, $"  {Id(v)} [shape=box, label=\"{Label(v)}\"{(ReferenceEquals(v, this) ? ", style=bold" : "")}];\n");
            if (v.Producer is not { } fn)
            {
                continue;
            }
            string attributes = fn.Settings.ToString();
            string released = fn.Released ? "\\n(released)" : "";
            dot.Append(CultureInfo.InvariantCulture,
                $"  {Id(fn)} [shape=ellipse, style=filled, fillcolor=lightblue, label=\"{Escape(fn.Name)}{(attributes.Length > 0 ? "\\n" + Escape(attributes) : "")}{released}\"];\n");
            dot.Append(CultureInfo.InvariantCulture, $"  {Id(fn)} -> {Id(v)};\n");
            foreach (var input in fn.Inputs)
            {
                dot.Append(CultureInfo.InvariantCulture, $"  {Id(input)} -> {Id(fn)};\n");
                stack.Push(input);
            }
        }
        return dot.Append("}\n").ToString();
    }

    private static string Label(Variable v)
    {
        string name = v.Name ?? (v.IsLeaf ? (v.RequiresGrad ? "leaf" : "constant") : "");
        string text = (name.Length > 0 ? name + "\\n" : "") + Shapes.Format(v.Shape);
        if (v.Grad is { } grad)
        {
            text += string.Create(CultureInfo.InvariantCulture, $"\\n|grad| = {TensorPrimitives.Norm(grad.AsReadOnlySpan()):G4}");
        }
        return Escape(text);
    }

    private static string Escape(string text) => text.Replace("\"", "\\\"", StringComparison.Ordinal);
}
