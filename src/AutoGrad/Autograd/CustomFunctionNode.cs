namespace AutoGrad.Graph;

/// <summary>
/// The graph node of one call of a user's <see cref="CustomFunction"/>: it adapts the public forward/backward pair to
/// <see cref="Function"/>, resolves the saved tensors to variables for each backward, guards them by their versions and
/// checks what the user's backward returns.
/// </summary>
internal sealed class CustomFunctionNode : Function
{
    internal override OpKind Kind => OpKind.Custom;

    private const int OutputSlot = -1, ConstantSlot = -2;

    private CustomFunction _function = null!;
    private FunctionContext _context = null!;
    private Tensor? _result;
    // per saved tensor: the input it is (its index), the output, or a constant; and its version after the forward
    private int[] _slots = [];
    private int[] _versions = [];

    public override string Name => _function.Name;

    private protected override string? NotTwiceDifferentiable => _function.IsOnceDifferentiable
        ? "declares its backward once-differentiable (CustomFunction.OnceDifferentiable); write Backward in differentiable ops and drop that override to allow double backward"
        : null;

    public static Variable Apply(CustomFunction function, Variable[] inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        for (int i = 0; i < inputs.Length; i++)
        {
            ArgumentNullException.ThrowIfNull(inputs[i], $"inputs[{i}]");
        }
        var needs = inputs.Select(x => GradMode.IsEnabled && x.RequiresGrad).ToArray();
        var context = new FunctionContext(function.Name, needs);
        Tensor result;
        using (GradMode.NoGrad())
        {
            result = function.RunForward(context, inputs.Select(x => x.Value).ToArray())
                ?? throw new InvalidOperationException(CallSite.Tag($"{function.Name}.Forward returned null; it must return the output tensor."));
        }
        if (context.IsNonDifferentiable)
        {
            return new Variable(result);
        }
        var node = new CustomFunctionNode { _function = function, _context = context, _result = result };
        node.NoteSaved(inputs, result);
        return node.Record(result, inputs);
    }

    /// <summary>As PyTorch, the versions are taken when the forward has returned (so it may fill a tensor after saving it).</summary>
    private void NoteSaved(Variable[] inputs, Tensor result)
    {
        var saved = _context.Saved;
        _slots = new int[saved.Length];
        _versions = new int[saved.Length];
        for (int k = 0; k < saved.Length; k++)
        {
            int input = Array.FindIndex(inputs, x => ReferenceEquals(x.Value, saved[k]));
            _slots[k] = input >= 0 ? input : ReferenceEquals(saved[k], result) ? OutputSlot : ConstantSlot;
            _versions[k] = saved[k].Version;
        }
    }

    internal override void Backward(Tensor grad, Tensor?[] inputGrads)
    {
        var grads = Run(new Variable(grad), record: false);
        for (int i = 0; i < inputGrads.Length; i++)
        {
            inputGrads[i] = NeedsInputGrad[i] ? grads[i]?.Value : null;
        }
    }

    internal override void BackwardGraph(Variable grad, Variable?[] inputGrads)
    {
        if (_function.IsOnceDifferentiable)
        {
            base.BackwardGraph(grad, inputGrads); // throws, naming the function and why
        }
        Run(grad, record: true).CopyTo(inputGrads, 0);
    }

    /// <summary>The user's backward with the saved tensors resolved: recorded ones connect to the graph when <paramref name="record"/>.</summary>
    private Variable?[] Run(Variable grad, bool record)
    {
        var saved = _context.Saved;
        var variables = new Variable[saved.Length];
        for (int k = 0; k < saved.Length; k++)
        {
            Check(saved[k], _versions[k], _slots[k] switch
            {
                OutputSlot => "its output",
                ConstantSlot => $"saved tensor {k}",
                var i => $"its input {i}",
            });
            variables[k] = _slots[k] switch
            {
                OutputSlot => record ? OutputVariable(_result!) : new Variable(_result!),
                ConstantSlot => Constant(saved[k]),
                var i => Inputs[i],
            };
        }
        Variable?[] grads;
        _context.SetSavedVariables(variables);
        try
        {
            grads = _function.RunBackward(_context, grad);
        }
        finally
        {
            _context.SetSavedVariables(null);
        }
        CheckGradients(grads);
        return grads;
    }

    private void CheckGradients(Variable?[]? grads)
    {
        if (grads is null || grads.Length != Inputs.Length)
        {
            throw new InvalidOperationException(CallSite.Tag(
                $"{Name}.Backward returned {(grads is null ? "null" : $"{grads.Length} gradient{(grads.Length == 1 ? "" : "s")}")} for {Inputs.Length} input{(Inputs.Length == 1 ? "" : "s")}; "
                + "return one per input, in order (null for an input that needs no gradient)."));
        }
        for (int i = 0; i < grads.Length; i++)
        {
            var shape = Inputs[i].Shape;
            if (grads[i] is { } g && NeedsInputGrad[i] && !g.Shape.SequenceEqual(shape) && !Shapes.BroadcastsTo(shape, g.Shape))
            {
                throw new InvalidOperationException(CallSite.Tag(
                    $"{Name}.Backward returned a gradient of shape {Shapes.Format(g.Shape)} for input {i} of shape {Shapes.Format(shape)}; "
                    + "it must have the input's shape (or a shape the input broadcasts to, which is summed back)."));
            }
        }
    }

    protected override void ReleaseSaved()
    {
        _context?.Clear();
        _result = null;
    }
}
