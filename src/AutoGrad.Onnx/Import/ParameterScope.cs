using AutoGrad.Nn;

namespace AutoGrad.Onnx.Import;

/// <summary>
/// A child module that only holds imported parameters and buffers, so that the dotted ONNX name of a PyTorch weight
/// ("layer1.0.conv1.weight") becomes the same path of modules and the state dict keys equal PyTorch's.
/// </summary>
internal sealed class ParameterScope : Module
{
    public ParameterScope() => Table = new ScopeTable(RegisterParameter, RegisterBuffer, RegisterModule<ParameterScope>);

    public ScopeTable Table { get; }

    /// <inheritdoc/>
    public override Variable Forward(Variable input)
        => throw new NotSupportedException("This module only holds parameters of an imported ONNX graph; call the OnnxModule that owns it.");
}

/// <summary>The names registered in one module of the tree, and the child scopes made for dotted names.</summary>
internal sealed class ScopeTable(
    Func<string, Parameter, Parameter> addParameter, Func<string, Tensor, bool, Tensor> addBuffer, Func<string, ParameterScope, ParameterScope> addScope)
{
    private readonly Dictionary<string, ParameterScope> _scopes = new(StringComparer.Ordinal);
    private readonly HashSet<string> _leaves = new(StringComparer.Ordinal);

    /// <summary>
    /// Registers <paramref name="parameter"/> (or <paramref name="buffer"/>) under the dotted name of
    /// <paramref name="parts"/>; false when a part is taken by a member of the other kind (the caller then uses a flat name).
    /// </summary>
    public bool TryPlace(string[] parts, Parameter? parameter, Tensor? buffer)
    {
        if (!CanPlace(parts, 0))
        {
            return false;
        }
        Place(parts, 0, parameter, buffer);
        return true;
    }

    private bool CanPlace(string[] parts, int at)
    {
        string head = parts[at];
        if (at == parts.Length - 1)
        {
            return !_leaves.Contains(head) && !_scopes.ContainsKey(head);
        }
        return !_leaves.Contains(head) && (!_scopes.TryGetValue(head, out var scope) || scope.Table.CanPlace(parts, at + 1));
    }

    private void Place(string[] parts, int at, Parameter? parameter, Tensor? buffer)
    {
        string head = parts[at];
        if (at == parts.Length - 1)
        {
            _leaves.Add(head);
            if (parameter is not null)
            {
                addParameter(head, parameter);
            }
            else
            {
                addBuffer(head, buffer!, true);
            }
            return;
        }
        if (!_scopes.TryGetValue(head, out var scope))
        {
            scope = addScope(head, new ParameterScope());
            _scopes.Add(head, scope);
        }
        scope.Table.Place(parts, at + 1, parameter, buffer);
    }
}
