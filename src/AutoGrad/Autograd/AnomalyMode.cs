using System.Numerics.Tensors;

namespace AutoGrad;

/// <summary>
/// Anomaly detection (like <c>torch.autograd.detect_anomaly</c>), per thread. Inside a scope every recorded op keeps
/// the source line that called it, and the first NaN or infinity produced by a forward op or by a backward step
/// throws an <see cref="AnomalyException"/> naming the op, its shapes and that line. It costs a stack walk per op,
/// so it is for debugging.
/// </summary>
public static class AnomalyMode
{
    [ThreadStatic]
    private static bool t_enabled;

    /// <summary>True when anomaly detection is on for this thread.</summary>
    public static bool IsEnabled => t_enabled;

    /// <summary>Turns anomaly detection on for this thread until the returned scope is disposed: <c>using (AnomalyMode.Detect()) { ... }</c>.</summary>
    public static AnomalyModeScope Detect()
    {
        var scope = new AnomalyModeScope(t_enabled);
        t_enabled = true;
        return scope;
    }

    internal static void Restore(bool enabled) => t_enabled = enabled;

    /// <summary>Throws when <paramref name="values"/> holds a NaN or an infinity.</summary>
    internal static void CheckFinite(ReadOnlySpan<float> values, string op, string phase, string shapes, string? site)
    {
        if (TensorPrimitives.IsFiniteAll(values))
        {
            return;
        }
        int index = 0;
        while (float.IsFinite(values[index]))
        {
            index++;
        }
        throw new AnomalyException(op, phase, values[index], shapes, site);
    }
}

/// <summary>Restores the previous anomaly mode of its thread when disposed.</summary>
public readonly struct AnomalyModeScope : IDisposable
{
    private readonly bool _previouslyEnabled;

    internal AnomalyModeScope(bool previouslyEnabled) => _previouslyEnabled = previouslyEnabled;

    /// <summary>Restores the anomaly mode that was in force when the scope was opened.</summary>
    public void Dispose() => AnomalyMode.Restore(_previouslyEnabled);
}

/// <summary>A NaN or infinity found by anomaly detection: which op produced it, in which pass, and where it was called.</summary>
public sealed class AnomalyException : ArithmeticException
{
    internal AnomalyException(string op, string phase, float value, string shapes, string? site)
        : base($"Anomaly detected: {op} produced {value} in its {phase} (shapes {shapes})"
            + (site is null ? "." : $"; the op was called at {site}."))
    {
        Op = op;
        Phase = phase;
        CallSite = site;
    }

    /// <summary>The op that produced the value.</summary>
    public string Op { get; }

    /// <summary>"forward" or "backward".</summary>
    public string Phase { get; }

    /// <summary>The caller's file and line (e.g. <c>Program.cs:line 12</c>), when known.</summary>
    public string? CallSite { get; }
}
