using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace AutoGrad.IO;

/// <summary>
/// Writes files so that a reader (or a crash) sees either the old file or the complete new one: the content goes to a
/// temporary file in the same folder, is flushed to disk, renamed over the target, and the folder is flushed too
/// (on Linux and macOS; Windows has no such call), so the rename itself survives a power loss.
/// </summary>
/// <remarks>
/// The temporary file is <c>.{name}.{process id}.{random}.tmp</c> beside the target. It is deleted on every failure
/// that reaches managed code; a process killed in the middle cannot delete it, so each write first removes the
/// temporary files of its target that no live writer holds (a writer keeps its file locked until it is renamed).
/// </remarks>
public static partial class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> atomically with <paramref name="write"/>.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        string full = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(full) ?? ".";
        string name = Path.GetFileName(full);
        Directory.CreateDirectory(folder);
        RemoveStaleTemporaryFiles(folder, name);
        string temp = Path.Combine(folder, $".{name}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            // FileShare.Delete: on Unix a shared lock (so a cleaner's exclusive lock fails while we write), on Windows
            // it lets the rename below happen with the file still open.
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.Delete, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
                if (!OperatingSystem.IsWindows())
                {
                    // Renamed while still open and locked, so no cleaner can take it for a stale file in between.
                    File.Move(temp, full, overwrite: true);
                }
            }
            if (OperatingSystem.IsWindows())
            {
                File.Move(temp, full, overwrite: true);
            }
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
        FlushFolder(folder);
    }

    /// <summary>Writes <paramref name="text"/> as UTF-8 to <paramref name="path"/> atomically.</summary>
    public static void WriteAllText(string path, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        Write(path, s =>
        {
            using var writer = new StreamWriter(s, new System.Text.UTF8Encoding(false), leaveOpen: true);
            writer.Write(text);
        });
    }

    // What follows ".{name}." in a temporary file's name.
    [GeneratedRegex(@"^[0-9]+\.[0-9a-f]{32}\.tmp$", RegexOptions.CultureInvariant)]
    private static partial Regex TemporarySuffix();

    // A temporary file of this target that nobody holds is left over from a writer that was killed: delete it. One a
    // live writer holds cannot be locked exclusively (Unix: its shared flock; Windows: its open handle).
    private static void RemoveStaleTemporaryFiles(string folder, string name)
    {
        string prefix = "." + name + ".";
        IEnumerable<string> candidates;
        try
        {
            candidates = Directory.EnumerateFiles(folder, prefix + "*.tmp");
        }
        catch (IOException)
        {
            return;
        }
        catch (UnauthorizedAccessException)
        {
            return;
        }
        foreach (string candidate in candidates)
        {
            string file = Path.GetFileName(candidate);
            // The wildcard also matches the temporary files of longer names ("a" and "a.b"): check exactly.
            if (!file.StartsWith(prefix, StringComparison.Ordinal) || !TemporarySuffix().IsMatch(file.AsSpan(prefix.Length)))
            {
                continue;
            }
            try
            {
                using (new FileStream(candidate, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
                {
                    if (!OperatingSystem.IsWindows())
                    {
                        File.Delete(candidate);
                    }
                }
                if (OperatingSystem.IsWindows())
                {
                    File.Delete(candidate);
                }
            }
            catch (IOException)
            {
                // Held by a live writer (or already gone): not ours to remove.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    /// <summary>Called with the folder after each successful folder fsync (the tests' way to see it happen).</summary>
    internal static Action<string>? FolderFlushed { get; set; }

    // fsync on the folder makes the rename durable; .NET cannot open a folder as a stream, so this calls the C library.
    private static void FlushFolder(string folder)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS() && !OperatingSystem.IsFreeBSD())
        {
            return;
        }
        try
        {
            int fd = Native.Open(folder, 0); // O_RDONLY
            if (fd >= 0)
            {
                bool flushed = Native.FSync(fd) == 0;
                Native.Close(fd);
                if (flushed)
                {
                    FolderFlushed?.Invoke(folder);
                }
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // A C library without these calls: the file itself is already flushed.
        }
    }

    private static partial class Native
    {
        [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8)]
        public static partial int Open(string path, int flags);

        [LibraryImport("libc", EntryPoint = "fsync")]
        public static partial int FSync(int fd);

        [LibraryImport("libc", EntryPoint = "close")]
        public static partial int Close(int fd);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp file never replaces the target, and the next write removes it.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
