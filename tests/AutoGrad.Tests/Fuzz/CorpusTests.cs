using System.Diagnostics;
using AutoGrad.Fuzz;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Fuzz;

/// <summary>
/// The coverage-guided fuzzer's targets in the normal suite: every committed corpus file (libFuzzer's minimized
/// corpus, tests/AutoGrad.Fuzz/corpus) replayed once, then 2,000 seeded mutations per reader, with the same checks
/// the fuzzer makes (only InvalidDataException naming the file, allocation within the documented bound, failed
/// checkpoint loads change nothing). The CoverageFuzz category runs libFuzzer itself.
/// </summary>
[TestClass]
public sealed class CorpusTests
{
    public static IEnumerable<object[]> Targets => FuzzTargets.Names.Select(n => new object[] { n });

    private static string[] CorpusFiles(string target)
    {
        string folder = Path.Combine(AppContext.BaseDirectory, "FuzzCorpus", target);
        Assert.IsTrue(Directory.Exists(folder), $"the corpus of {target} is copied next to the tests");
        return Directory.GetFiles(folder);
    }

    [TestMethod]
    [TestCategory("Fuzz")]
    [DynamicData(nameof(Targets))]
    public void CorpusReplaysAndMutationsKeepThePromises(string target)
    {
        var run = FuzzTargets.Create(target, TestUtil.TempFolder("corpus-" + target));
        var files = CorpusFiles(target);
        Assert.IsTrue(files.Length > 0);
        foreach (var file in files)
        {
            Replay(run, target, Path.GetFileName(file), File.ReadAllBytes(file));
        }
        var mutator = new Mutator(TestUtil.StableSeed(target));
        for (int i = 0; i < 2_000; i++)
        {
            var (bytes, description) = mutator.Mutate(File.ReadAllBytes(files[mutator.Next(files.Length)]));
            Replay(run, target, $"mutation {i} ({description})", bytes);
        }
    }

    private static void Replay(Action<ReadOnlySpan<byte>> run, string target, string what, byte[] bytes)
    {
        try
        {
            run(bytes);
        }
        catch (FuzzFailure e)
        {
            Assert.Fail($"{target}, {what}: {e.Message}");
        }
    }
}

/// <summary>
/// libFuzzer over every reader (tests/AutoGrad.Fuzz/run.sh): FUZZ_RUNS executions each (default 1,000,000, about a
/// minute per reader on 2 cores). Needs clang with libFuzzer (apt-get install clang libclang-rt-14-dev); not part of
/// CI, which runs the corpus and mutation pass above.
/// </summary>
[TestClass]
public sealed class CoverageGuidedFuzzTests
{
    public static IEnumerable<object[]> Targets => FuzzTargets.Names.Select(n => new object[] { n });

    [TestMethod]
    [TestCategory("CoverageFuzz")]
    [DynamicData(nameof(Targets))]
    public void LibFuzzerFindsNoBrokenPromise(string target)
    {
        string? root = null;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null && root is null; dir = dir.Parent)
        {
            root = File.Exists(Path.Combine(dir.FullName, "tests", "AutoGrad.Fuzz", "run.sh")) ? dir.FullName : null;
        }
        Assert.IsNotNull(root, "tests/AutoGrad.Fuzz/run.sh not found above the test assembly");
        var start = new ProcessStartInfo("bash") { WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("tests/AutoGrad.Fuzz/run.sh");
        start.ArgumentList.Add(target);
        start.ArgumentList.Add(Environment.GetEnvironmentVariable("FUZZ_RUNS") ?? "1000000");
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Console.WriteLine(output);
        Assert.AreEqual(0, process.ExitCode, $"libFuzzer found a broken promise in {target}:\n{output}\n{stderr.Result}");
    }
}
