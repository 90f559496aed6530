namespace AutoGrad.Nn;

/// <summary>
/// The base of every layer and model (PyTorch's nn.Module). A module registers its parameters and children
/// explicitly in its constructor (no reflection), so names, order and state dicts are exactly what the code says.
/// Subclasses implement <see cref="Forward"/>; callers use <see cref="Call(Variable)"/>, the counterpart of <c>module(x)</c>.
/// </summary>
public abstract partial class Module
{
    private readonly List<KeyValuePair<string, Parameter>> _parameters = [];
    private readonly List<KeyValuePair<string, Module>> _children = [];

    /// <summary>True in training mode (the default); layers such as Dropout behave differently in evaluation mode.</summary>
    public bool Training { get; private set; } = true;

    /// <summary>This module's computation on <paramref name="input"/>.</summary>
    public abstract Variable Forward(Variable input);

    /// <summary>
    /// Runs the module on <paramref name="input"/> (PyTorch's <c>module(x)</c>): forward pre-hooks, <see cref="Forward"/>,
    /// forward hooks, and the wiring that calls backward hooks during Backward.
    /// </summary>
    /// <remarks>
    /// The results of the ops inside a module's forward are intermediates: the graph owns them, and Backward gives
    /// their buffers back to the pool as it releases the graph (a tensor kept past that throws when read; Clone() it to
    /// keep it). What the outermost <c>Call</c> returns, and what a hook was shown, is the caller's and never recycled.
    /// </remarks>
    public Variable Call(Variable input)
    {
        ArgumentNullException.ThrowIfNull(input);
        CheckRegistration();
        t_callDepth++;
        int mark = t_inferenceIntermediates?.Count ?? 0;
        Variable? y = null;
        try
        {
            y = CallWithHooks(input);
            if (t_callDepth == 1)
            {
                y.Value.Storage.Escaped = true; // the model's output is the caller's
            }
            return y;
        }
        finally
        {
            ReturnInferenceIntermediates(mark, y);
            t_callDepth--;
        }
    }

    // Op outputs made inside a Call without a graph (under NoGrad): once that Call returns nothing can read them but
    // its output (an intermediate of the caller's forward, kept on the list for the caller's Call) and what escaped (a
    // hook saw it), so they go back to the pool then. Without this a Module of your own evaluated under NoGrad left every
    // activation to the garbage collector, and a residual network's evaluation grew to gigabytes before it collected.
    [ThreadStatic]
    private static List<Tensor>? t_inferenceIntermediates;

    /// <summary>Notes an op output made inside a module's forward while no graph is recorded (see <see cref="Call(Variable)"/>).</summary>
    internal static void NoteInferenceIntermediate(Tensor output) => (t_inferenceIntermediates ??= []).Add(output);

    /// <summary>Gives back the intermediates noted since <paramref name="mark"/>, except the call's output, which stays noted.</summary>
    private static void ReturnInferenceIntermediates(int mark, Variable? output)
    {
        var intermediates = t_inferenceIntermediates;
        if (intermediates is null || intermediates.Count <= mark)
        {
            return;
        }
        int kept = mark;
        for (int i = mark; i < intermediates.Count; i++)
        {
            var tensor = intermediates[i];
            if (ReferenceEquals(tensor.Storage, output?.Value.Storage))
            {
                intermediates[kept++] = tensor; // the output, or the storage it is a view of
            }
            else if (!tensor.Storage.Escaped)
            {
                AutoGrad.Buffers.BufferPool.Return(tensor); // a Sequential may have returned it already: Return is once only
            }
        }
        intermediates.RemoveRange(kept, intermediates.Count - kept);
        if (t_callDepth == 1)
        {
            intermediates.Clear(); // the outermost output is the caller's
        }
    }

    // How many Module.Call frames run on this thread: op outputs made inside one are the graph's intermediates.
    [ThreadStatic]
    private static int t_callDepth;

    /// <summary>How many <see cref="Call(Variable)"/>s are running on this thread (0 outside any module).</summary>
    internal static int CallDepth => t_callDepth;

    private Variable CallWithHooks(Variable input)
    {
        var x = input;
        foreach (var hook in Snapshot(_forwardPreHooks))
        {
            x.Value.Storage.Escaped = true; // a hook may keep what it is shown
            x = hook(this, x) ?? x;
        }
        BackwardHookState? state = null;
        if (_backwardHooks.Count > 0 && GradMode.IsEnabled)
        {
            state = new BackwardHookState(this);
            if (x.RequiresGrad)
            {
                x = Ops.BackwardHookFunction.Apply(x, state.OnInputGradient);
                state.ExpectsInputGradient = true;
            }
        }
        var y = Forward(x);
        foreach (var hook in Snapshot(_forwardHooks))
        {
            x.Value.Storage.Escaped = true;
            y.Value.Storage.Escaped = true;
            y = hook(this, x, y) ?? y;
        }
        if (state is not null && y.RequiresGrad)
        {
            y = Ops.BackwardHookFunction.Apply(y, state.OnOutputGradient);
        }
        return y;
    }

    /// <summary>Whether a hook can see this module's tensors (then no fusion may hide one of them).</summary>
    internal bool HasHooks => _forwardPreHooks.Count > 0 || _forwardHooks.Count > 0 || _backwardHooks.Count > 0;

    private readonly List<Func<Module, Variable, Variable?>> _forwardPreHooks = [];
    private readonly List<Func<Module, Variable, Variable, Variable?>> _forwardHooks = [];
    private readonly List<Func<Module, Tensor?, Tensor, Tensor?>> _backwardHooks = [];

    /// <summary>Calls <paramref name="hook"/>(module, input) before each forward; a non-null result replaces the input.</summary>
    public RemovableHandle RegisterForwardPreHook(Func<Module, Variable, Variable?> hook) => AddHook(_forwardPreHooks, hook);

    /// <summary>Calls <paramref name="hook"/>(module, input, output) after each forward; a non-null result replaces the output.</summary>
    public RemovableHandle RegisterForwardHook(Func<Module, Variable, Variable, Variable?> hook) => AddHook(_forwardHooks, hook);

    /// <summary>
    /// Calls <paramref name="hook"/>(module, gradInput, gradOutput) during Backward once the gradient with respect to
    /// the module's input is known (gradInput is null when the input needs none); a non-null result replaces gradInput
    /// (PyTorch's register_full_backward_hook).
    /// </summary>
    public RemovableHandle RegisterBackwardHook(Func<Module, Tensor?, Tensor, Tensor?> hook) => AddHook(_backwardHooks, hook);

    // A copy, so a hook may remove itself while the hooks run; no allocation on the common path without hooks.
    private static T[] Snapshot<T>(List<T> hooks) => hooks.Count == 0 ? [] : hooks.ToArray();

    private static RemovableHandle AddHook<T>(List<T> hooks, T hook) where T : Delegate
    {
        ArgumentNullException.ThrowIfNull(hook);
        hooks.Add(hook);
        return new RemovableHandle(() => hooks.Remove(hook));
    }

    /// <summary>Carries gradOutput from the output boundary to the input boundary of one call.</summary>
    private sealed class BackwardHookState(Module module)
    {
        private Tensor? _gradOutput;

        public bool ExpectsInputGradient { get; set; }

        public Tensor? OnOutputGradient(Tensor grad)
        {
            _gradOutput = grad;
            if (!ExpectsInputGradient)
            {
                Run(null);
            }
            return null;
        }

        public Tensor? OnInputGradient(Tensor grad) => Run(grad);

        private Tensor? Run(Tensor? gradInput)
        {
            if (_gradOutput is null)
            {
                return null; // the output did not depend on this input
            }
            foreach (var hook in Snapshot(module._backwardHooks))
            {
                gradInput = hook(module, gradInput, _gradOutput) ?? gradInput;
            }
            return gradInput;
        }
    }

    /// <summary>Runs the module on a tensor that needs no gradient.</summary>
    public Variable Call(Tensor input) => Call(new Variable(input));

    /// <summary>Adds a parameter under <paramref name="name"/> and returns it.</summary>
    protected Parameter RegisterParameter(string name, Parameter parameter)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        CheckNewName(name);
        parameter.Name ??= name;
        _parameters.Add(new(name, parameter));
        return parameter;
    }

    /// <summary>Adds a child module under <paramref name="name"/> and returns it.</summary>
    protected T RegisterModule<T>(string name, T module) where T : Module
    {
        ArgumentNullException.ThrowIfNull(module);
        CheckNewName(name);
        if (ReferenceEquals(module, this))
        {
            throw new ArgumentException($"{GetType().Name}.RegisterModule: a module cannot be its own child ('{name}').");
        }
        _children.Add(new(name, module));
        return module;
    }

    private void CheckNewName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.'))
        {
            throw new ArgumentException($"{GetType().Name}: member name '{name}' must be non-empty and contain no '.'.", nameof(name));
        }
        if (_parameters.Exists(p => p.Key == name) || _children.Exists(c => c.Key == name) || _buffers.Exists(b => b.Key == name))
        {
            throw new ArgumentException($"{GetType().Name}: a parameter, buffer or child named '{name}' is already registered.", nameof(name));
        }
    }

    private bool _registrationChecked;

    /// <summary>
    /// Refuses a forgotten registration, once per module, at its first Call, Parameters() or Train(): a field of this
    /// module's type that holds a Module or a Parameter (or an array or list of them) that is neither registered here
    /// nor in a descendant would be missing from Parameters() and StateDict(), and Eval() would not reach it.
    /// </summary>
    private void CheckRegistration()
    {
        if (_registrationChecked)
        {
            return;
        }
        var fields = Registration.Fields(GetType());
        if (fields.Length > 0)
        {
            HashSet<object>? registered = null;
            foreach (var field in fields)
            {
                foreach (var member in Registration.Members(field.GetValue(this)))
                {
                    registered ??= RegisteredMembers();
                    if (!registered.Contains(member))
                    {
                        throw new InvalidOperationException(
                            $"{GetType().Name}: the field '{Registration.Name(field)}' holds a {member.GetType().Name} that is not registered, so its parameters "
                            + "would be missing from Parameters() and StateDict() and Train()/Eval() would not reach it. Register it in the constructor with "
                            + $"{(member is Parameter ? "RegisterParameter" : "RegisterModule")}(\"name\", ...), or mark the field [Unregistered] if it is "
                            + "deliberately not part of this module.");
                    }
                }
            }
        }
        _registrationChecked = true;
    }

    /// <summary>This module's registered children and parameters, and their descendants'.</summary>
    private HashSet<object> RegisteredMembers()
    {
        var members = new HashSet<object>(ReferenceEqualityComparer.Instance);
        var pending = new Stack<Module>();
        pending.Push(this);
        while (pending.Count > 0)
        {
            var module = pending.Pop();
            foreach (var (_, parameter) in module._parameters)
            {
                members.Add(parameter);
            }
            foreach (var (_, child) in module._children)
            {
                if (members.Add(child))
                {
                    pending.Push(child);
                }
            }
        }
        return members;
    }

    /// <summary>Direct children with their names, in registration order.</summary>
    public IEnumerable<KeyValuePair<string, Module>> NamedChildren() => _children;

    /// <summary>Direct children in registration order.</summary>
    public IEnumerable<Module> Children() => _children.Select(c => c.Value);

    /// <summary>Every parameter of this module and its descendants with its dotted name (<c>features.0.weight</c>).</summary>
    public IEnumerable<KeyValuePair<string, Parameter>> NamedParameters()
    {
        // A parameter shared by two modules is listed once, under its first name, as in PyTorch.
        var seen = new HashSet<Parameter>(ReferenceEqualityComparer.Instance);
        foreach (var (name, parameter) in NamedParametersWithDuplicates(""))
        {
            if (seen.Add(parameter))
            {
                yield return new(name, parameter);
            }
        }
    }

    private IEnumerable<KeyValuePair<string, Parameter>> NamedParametersWithDuplicates(string prefix)
    {
        CheckRegistration();
        foreach (var (name, parameter) in _parameters)
        {
            yield return new(prefix + name, parameter);
        }
        foreach (var (name, child) in _children)
        {
            foreach (var entry in child.NamedParametersWithDuplicates(prefix + name + "."))
            {
                yield return entry;
            }
        }
    }

    /// <summary>Every parameter of this module and its descendants.</summary>
    public IEnumerable<Parameter> Parameters() => NamedParameters().Select(p => p.Value);

    /// <summary>The number of learnable scalars.</summary>
    public long ParameterCount => Parameters().Sum(p => (long)p.Numel);

    /// <summary>Sets training mode on this module and all descendants; returns this module.</summary>
    public Module Train(bool mode = true)
    {
        CheckRegistration();
        Training = mode;
        foreach (var child in Children())
        {
            child.Train(mode);
        }
        return this;
    }

    /// <summary>Sets evaluation mode (Dropout off); returns this module.</summary>
    public Module Eval() => Train(false);

    /// <summary>
    /// Switches to evaluation mode until the returned scope is disposed, then restores the previous mode:
    /// <c>using (model.EvalMode()) { ... }</c>.
    /// </summary>
    public RemovableHandle EvalMode()
    {
        bool wasTraining = Training;
        Eval();
        return new RemovableHandle(() => Train(wasTraining));
    }

    /// <summary>
    /// Clears every parameter's gradient: to null (the default, as PyTorch 2; the buffer goes back to the pool, so a
    /// gradient kept past this throws when read) or to zeros in place.
    /// </summary>
    public void ZeroGrad(bool setToNull = true)
    {
        foreach (var parameter in Parameters())
        {
            if (setToNull)
            {
                parameter.DropGrad(); // as Optimizer.ZeroGrad: the next backward reuses the buffer
            }
            else
            {
                parameter.ZeroGrad();
            }
        }
    }

    /// <summary>A one-line description: the type and its configuration.</summary>
    public override string ToString() => GetType().Name + "(" + Describe() + ")";

    /// <summary>The configuration shown by <see cref="ToString"/>, e.g. <c>in=784, out=256</c>.</summary>
    protected virtual string Describe() => "";
}
