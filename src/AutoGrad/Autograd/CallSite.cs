using System.Diagnostics;

namespace AutoGrad.Graph;

/// <summary>
/// Finds the user's source line that called into AutoGrad: the first stack frame outside this assembly with file
/// information. Operators (a + b) cannot take [CallerLineNumber] parameters, so the stack is read instead; it is
/// read only when an error is thrown, or for every op while anomaly detection is on.
/// </summary>
internal static class CallSite
{
    private static readonly System.Reflection.Assembly Library = typeof(CallSite).Assembly;

    /// <summary>"File.cs:line N" of the nearest caller outside AutoGrad, or null when no frame has file information.</summary>
    public static string? Find()
    {
        var trace = new StackTrace(1, fNeedFileInfo: true);
        foreach (var frame in trace.GetFrames())
        {
            var method = frame.GetMethod();
            if (method?.DeclaringType?.Assembly == Library)
            {
                continue;
            }
            if (frame.GetFileName() is { } file && frame.GetFileLineNumber() > 0)
            {
                return $"{Path.GetFileName(file)}:line {frame.GetFileLineNumber()}";
            }
        }
        return null;
    }

    /// <summary><paramref name="message"/> followed by " (called at File.cs:line N)" when the caller is known.</summary>
    public static string Tag(string message) => Find() is { } site ? $"{message} (called at {site})" : message;
}
