namespace AutoGrad.Graph;

/// <summary>
/// A node of the graph: one differentiable operation. Each subclass computes its forward in a static <c>Apply</c>
/// that saves what backward needs, and states its vector-Jacobian product in <see cref="Backward"/> right beside it.
/// </summary>
internal abstract class Function
{
    /// <summary>The inputs this node was applied to (cleared when the graph is released).</summary>
    internal Variable[] Inputs { get; private set; } = [];

    /// <summary>Whether input i requires a gradient; backward skips the work for those that do not.</summary>
    internal InputFlags NeedsInputGrad { get; private set; }

    /// <summary>True once a backward pass without retainGraph has freed this node.</summary>
    internal bool Released { get; private set; }

    /// <summary>The output, when the user asked it to keep its gradient (<see cref="Variable.RetainGrad"/>).</summary>
    internal Variable? RetainedOutput { get; set; }

    /// <summary>Hooks registered on the output variable; they see (and may replace) its gradient before this node's backward.</summary>
    internal List<Func<Tensor, Tensor?>>? OutputHooks { get; set; }

    /// <summary>Where the op was called ("File.cs:line N"), recorded while anomaly detection is on.</summary>
    internal string? Site { get; private set; }

    /// <summary>What this node computes; the exporter and the graph dump switch on it.</summary>
    internal abstract OpKind Kind { get; }

    /// <summary>The op's name in messages and graph dumps: its kind's, unless the node has a name of its own.</summary>
    public virtual string Name => Kind.ToString();

    /// <summary>
    /// The op's settings (stride, padding, slope, the fused activation, ...) as a typed record; <see cref="OpSettings.None"/>
    /// for ops that have none. They stay readable after the graph is released.
    /// </summary>
    internal virtual OpSettings Settings => OpSettings.None;

    /// <summary>
    /// The tensors this op's backward reads among its inputs' values and its output (PyTorch's saved tensors). Record
    /// notes their versions; the engine calls <see cref="CheckSavedVersions"/> before <see cref="Backward"/>, so a
    /// gradient is never computed from data changed in place after the forward. Tensors an op derives for itself
    /// (column matrices, log-probabilities) are its own and need no check.
    /// </summary>
    private protected virtual SavedTensors Saves => SavedTensors.None;

    private Tensor? _saved0, _saved1, _saved2, _savedOutput;
    private int _version0, _version1, _version2, _versionOutput;

    /// <summary>Throws when a saved tensor was written since the forward (its version moved), naming the op and the tensor.</summary>
    internal void CheckSavedVersions()
    {
        Check(_saved0, _version0, "its first input");
        Check(_saved1, _version1, "its second input");
        Check(_saved2, _version2, "its third input");
        Check(_savedOutput, _versionOutput, "its output");
    }

    private protected void Check(Tensor? saved, int version, string which)
    {
        if (saved is not null && saved.Version != version)
        {
            throw new InvalidOperationException(CallSite.Tag(
                $"Backward: one of the tensors needed for the gradient of {Name} ({which}, shape {Shapes.Format(saved.Shape)}) was modified in place "
                + $"after the forward: it is at version {saved.Version}, {Name} saved it at version {version}"
                + (Site is null ? " (use AnomalyMode.Detect() to see where the op was called)" : $" (the op was called at {Site})")
                + ". Clone() a tensor before changing it, or change it after Backward() (optimizer.Step() belongs after Backward())."));
        }
    }

    /// <summary>Notes the saved tensors' versions (see <see cref="Saves"/>) when the node is recorded.</summary>
    private void NoteSavedVersions(Tensor result, Variable[] inputs)
    {
        var saves = Saves;
        if (saves == SavedTensors.None)
        {
            return;
        }
        if ((saves & SavedTensors.Input0) != 0)
        {
            _saved0 = inputs[0].Value;
            _version0 = _saved0.Version;
        }
        if ((saves & SavedTensors.Input1) != 0 && inputs.Length > 1)
        {
            _saved1 = inputs[1].Value;
            _version1 = _saved1.Version;
        }
        if ((saves & SavedTensors.Input2) != 0 && inputs.Length > 2)
        {
            _saved2 = inputs[2].Value;
            _version2 = _saved2.Version;
        }
        if ((saves & SavedTensors.Output) != 0)
        {
            _savedOutput = result;
            _versionOutput = result.Version;
        }
    }

    /// <summary>
    /// Given the gradient of the output, writes the gradient for each input that needs one into
    /// <paramref name="inputGrads"/>. A gradient may have the broadcast shape; the engine sums it to the input's shape.
    /// </summary>
    internal abstract void Backward(Tensor grad, Tensor?[] inputGrads);

    /// <summary>
    /// The same vector-Jacobian product written in differentiable ops on variables, for a backward that builds a graph
    /// of its own (<c>createGraph: true</c>), so the gradient can be differentiated again. Saved inputs are read as
    /// <see cref="Inputs"/> (the variables themselves) and a saved output as <see cref="OutputVariable"/>, so the
    /// derivative of the formula reaches them. An op that has no such formula says why in <see cref="NotTwiceDifferentiable"/>.
    /// </summary>
    internal virtual void BackwardGraph(Variable grad, Variable?[] inputGrads)
        => throw new NotSupportedException(CallSite.Tag(
            $"Backward(createGraph: true): {Name} {NotTwiceDifferentiable ?? "has no differentiable backward"}; a gradient through it cannot be differentiated again."));

    /// <summary>Why this op's backward cannot be differentiated (null when it can); shown by <see cref="BackwardGraph"/>.</summary>
    private protected virtual string? NotTwiceDifferentiable => null;

    /// <summary>The output of this node as a variable of the graph, for a differentiable backward that reads it.</summary>
    private protected Variable OutputVariable(Tensor output) => new(output, this);

    /// <summary>A tensor of a backward formula that no gradient flows to (a mask, a sign, counts).</summary>
    private protected static Variable Constant(Tensor value) => new(value);

    /// <summary>Drops saved tensors; called once the node has done its backward (unless the graph is retained).</summary>
    protected virtual void ReleaseSaved()
    {
    }

    internal void Release()
    {
        Released = true;
        Inputs = [];
        (_saved0, _saved1, _saved2, _savedOutput) = (null, null, null, null);
        OutputHooks = null;
        ReleaseSaved();
        if (_recycledOutput is { Storage.Escaped: false } && RetainedOutput is null)
        {
            Buffers.BufferPool.Return(_recycledOutput);
        }
        _recycledOutput = null;
    }

    private Tensor? _recycledOutput;

    /// <summary>
    /// Gives <paramref name="output"/>'s buffer back to the pool when this node is released (unless it escaped to code
    /// that may keep it): every node of the graph that reads it runs its backward before this one. Record does this
    /// for every op output made inside a module's forward; a tensor the caller still holds then throws when read.
    /// </summary>
    internal void RecycleOutputOnRelease(Tensor output) => _recycledOutput = output;

    /// <summary>Whether <paramref name="result"/> is a view of (or is) one of the inputs: then its buffer is not this node's to give back.</summary>
    private static bool SharesAnInputsStorage(Tensor result, Variable[] inputs)
    {
        foreach (var input in inputs)
        {
            if (ReferenceEquals(input.Value.Storage, result.Storage))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Wraps a forward result: records this node when grad mode is on and some input requires grad.</summary>
    protected Variable Record(Tensor result, Variable input) => RecordCore(result, [input]);

    /// <inheritdoc cref="Record(Tensor, Variable)"/>
    protected Variable Record(Tensor result, Variable first, Variable second) => RecordCore(result, [first, second]);

    /// <inheritdoc cref="Record(Tensor, Variable)"/>
    protected Variable Record(Tensor result, Variable[] inputs) => RecordCore(result, inputs);

    /// <summary>
    /// The result of an op without a derivative (a comparison): a leaf that needs no gradient, which remembers this
    /// node and its inputs when they come from a graph being recorded, so that an exporter can follow it.
    /// </summary>
    protected Variable RecordNonDifferentiable(Tensor result, params Variable[] inputs)
    {
        if (!GradMode.IsEnabled || !inputs.Any(i => i.RequiresGrad || i.Origin is not null))
        {
            return new Variable(result);
        }
        Inputs = inputs;
        return Variable.FromNonDifferentiable(result, this);
    }

    private Variable RecordCore(Tensor result, Variable[] inputs)
    {
        if (AnomalyMode.IsEnabled)
        {
            Site = CallSite.Find();
            AnomalyMode.CheckFinite(result.AsReadOnlySpan(), Name, "forward",
                string.Join(" and ", inputs.Select(i => Shapes.Format(i.Shape))) + " -> " + Shapes.Format(result.Shape), Site);
        }
        if (!GradMode.IsEnabled)
        {
            ReleaseSaved(); // nothing will call backward, so saved tensors (and pooled buffers) go back now
            if (Nn.Module.CallDepth > 0 && result.Storage is Buffers.PooledStorage && !SharesAnInputsStorage(result, inputs))
            {
                Nn.Module.NoteInferenceIntermediate(result); // given back when the outermost module call returns
            }
            return new Variable(result);
        }
        var needs = InputFlags.RequiringGrad(inputs);
        if (!needs.Any)
        {
            ReleaseSaved();
            return new Variable(result);
        }
        Inputs = inputs;
        NeedsInputGrad = needs;
        NoteSavedVersions(result, inputs);
        if (Nn.Module.CallDepth > 0 && result.Storage is Buffers.PooledStorage && !SharesAnInputsStorage(result, inputs))
        {
            RecycleOutputOnRelease(result); // an intermediate of a module's forward: the graph owns it
        }
        return new Variable(result, this);
    }
}

/// <summary>
/// One flag per input of a node, recorded when the op runs (a leaf's RequiresGrad may change later): bits of an int
/// for up to 32 inputs, so recording a node allocates no flag array; an array only for wider ops (a long Concat).
/// </summary>
internal readonly struct InputFlags
{
    private readonly int _bits;
    private readonly bool[]? _wide;

    private InputFlags(int bits, bool[]? wide, int length)
    {
        _bits = bits;
        _wide = wide;
        Length = length;
    }

    /// <summary>The flags' RequiresGrad of each input.</summary>
    public static InputFlags RequiringGrad(Variable[] inputs)
    {
        if (inputs.Length <= 32)
        {
            int bits = 0;
            for (int i = 0; i < inputs.Length; i++)
            {
                bits |= inputs[i].RequiresGrad ? 1 << i : 0;
            }
            return new InputFlags(bits, null, inputs.Length);
        }
        var wide = new bool[inputs.Length];
        bool any = false;
        for (int i = 0; i < inputs.Length; i++)
        {
            wide[i] = inputs[i].RequiresGrad;
            any |= wide[i];
        }
        return new InputFlags(any ? 1 : 0, wide, inputs.Length);
    }

    /// <summary>The number of inputs.</summary>
    public int Length { get; }

    /// <summary>Whether some input has its flag set.</summary>
    public bool Any => _bits != 0;

    /// <summary>The flag of input <paramref name="index"/>.</summary>
    public bool this[int index] => _wide is not null ? _wide[index] : (_bits >> index & 1) != 0;
}

/// <summary>Which of a node's inputs (by position) and whether its output its backward reads (see Function.Saves).</summary>
[Flags]
internal enum SavedTensors
{
    None = 0,
    Input0 = 1,
    Input1 = 2,
    Input2 = 4,
    Output = 8,
    Inputs01 = Input0 | Input1,
}
