namespace AutoGrad;

/// <summary>Removes a registered hook when disposed (PyTorch's RemovableHandle); removing twice does nothing.</summary>
public sealed class RemovableHandle : IDisposable
{
    private Action? _remove;

    internal RemovableHandle(Action remove) => _remove = remove;

    /// <summary>Removes the hook.</summary>
    public void Remove() => Interlocked.Exchange(ref _remove, null)?.Invoke();

    /// <summary>Removes the hook.</summary>
    public void Dispose() => Remove();
}
