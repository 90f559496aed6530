using AutoGrad.Fuzz;
using SharpFuzz;

// Usage (see run.sh, which builds, instruments and starts libFuzzer):
//   AutoGrad.Fuzz <target>            run under libfuzzer-dotnet (the target may also come from AUTOGRAD_FUZZ_TARGET)
//   AutoGrad.Fuzz --seeds <folder>    write the seed files, one folder per target
//   AutoGrad.Fuzz --replay <target> <folder>   run every file of a folder once, outside the fuzzer (lists each failure)
if (args is ["--seeds", var corpus])
{
    FuzzTargets.WriteSeeds(corpus);
    return 0;
}
if (args is ["--replay", var name, var folder])
{
    var replay = FuzzTargets.Create(name, Path.Combine(Path.GetTempPath(), $"autograd-fuzz-{Environment.ProcessId}"));
    int count = 0, failures = 0;
    foreach (var file in Directory.EnumerateFiles(folder))
    {
        count++;
        try
        {
            replay(File.ReadAllBytes(file));
        }
        catch (FuzzFailure e)
        {
            // every failing file, not only the first: a folder of findings may hold several bugs
            failures++;
            Console.WriteLine($"{file}: {e.Message}");
        }
    }
    Console.WriteLine($"{name}: {count} files replayed, {failures} failed");
    return failures == 0 ? 0 : 1;
}
string target = args.Length > 0 ? args[0] : Environment.GetEnvironmentVariable("AUTOGRAD_FUZZ_TARGET")
    ?? throw new ArgumentException($"name a target ({string.Join(", ", FuzzTargets.Names)}) as the argument or in AUTOGRAD_FUZZ_TARGET.");
// Inputs go to memory-backed files where the OS has them: the readers take paths.
string root = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
// Instrumented AutoGrad code may run only inside Run, once the coverage map is shared: create the target there.
Action<ReadOnlySpan<byte>>? run = null;
Fuzzer.LibFuzzer.Run(span => (run ??= FuzzTargets.Create(target, Path.Combine(root, $"autograd-fuzz-{target}-{Environment.ProcessId}")))(span));
return 0;
