namespace AutoGrad;

/// <summary>
/// Whether operations are recorded for differentiation, per thread (like <c>torch.no_grad</c>). Inside a
/// <see cref="NoGrad"/> scope results are plain values: no graph is built and nothing is kept for backward.
/// </summary>
/// <remarks>
/// PyTorch spells this <c>torch.no_grad()</c>. It lives on its own class rather than on a class named
/// <c>AutoGrad</c> because a type named like its namespace cannot be reached as <c>AutoGrad.X</c> from code
/// outside that namespace.
/// </remarks>
public static class GradMode
{
    [ThreadStatic]
    private static bool t_disabled;

    /// <summary>True when operations on this thread are recorded for backward.</summary>
    public static bool IsEnabled => !t_disabled;

    /// <summary>Stops recording on this thread until the returned scope is disposed: <c>using (GradMode.NoGrad()) { ... }</c>.</summary>
    public static GradModeScope NoGrad() => Set(enabled: false);

    /// <summary>Turns recording back on inside an enclosing <see cref="NoGrad"/> scope, until disposed.</summary>
    public static GradModeScope EnableGrad() => Set(enabled: true);

    private static GradModeScope Set(bool enabled)
    {
        var scope = new GradModeScope(!t_disabled);
        t_disabled = !enabled;
        return scope;
    }

    internal static void Restore(bool enabled) => t_disabled = !enabled;
}

/// <summary>Restores the previous grad mode of its thread when disposed; nesting works as in PyTorch.</summary>
public readonly struct GradModeScope : IDisposable
{
    private readonly bool _previouslyEnabled;

    internal GradModeScope(bool previouslyEnabled) => _previouslyEnabled = previouslyEnabled;

    /// <summary>Restores the grad mode that was in force when the scope was opened.</summary>
    public void Dispose() => GradMode.Restore(_previouslyEnabled);
}
