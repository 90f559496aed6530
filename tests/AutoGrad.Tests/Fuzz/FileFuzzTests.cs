using System.Text;
using AutoGrad.Data;
using AutoGrad.IO;
using AutoGrad.Nn;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Fuzz;

/// <summary>
/// Mutated safetensors, IDX, NPY and CSV files: the only outcome besides success is InvalidDataException, and the
/// reader never allocates more than the file's length justifies. 5,000 cases per format here; the LongRun category
/// runs 100,000 per format.
/// </summary>
[TestClass]
public sealed class FileFuzzTests
{
    private const int NormalCases = 5_000;
    private const int LongCases = 100_000;

    private sealed record Format(string Name, string Extension, byte[] Valid, int TextEnd, Action<string> Read, long AllowedBytesPerFileByte);

    private static readonly Lazy<Format[]> Formats = new(CreateFormats);

    private static Format[] CreateFormats()
    {
        string folder = TestUtil.TempFolder("fuzz-seeds");
        var state = Mlp.Create([3, 4, 2], generator: new Generator(1)).StateDict();
        string safetensors = Path.Combine(folder, "seed.safetensors");
        Safetensors.Save(safetensors, state);
        var stBytes = File.ReadAllBytes(safetensors);
        int stHeader = 8 + BitConverter.ToInt32(stBytes, 0);

        string npy = Path.Combine(folder, "seed.npy");
        Npy.Save(npy, Tensor.Randn(new Generator(2), 3, 5));
        var npyBytes = File.ReadAllBytes(npy);

        string idx = Path.Combine(folder, "seed.idx");
        Idx.WriteBytes(idx, Enumerable.Range(0, 2 * 5 * 4).Select(i => (byte)i).ToArray(), 2, 5, 4);
        string idxGz = Path.Combine(folder, "seed.idx.gz");
        Idx.WriteBytes(idxGz, Enumerable.Range(0, 2 * 5 * 4).Select(i => (byte)i).ToArray(), 2, 5, 4);

        var csv = Encoding.UTF8.GetBytes("a,b,c,label\n1.5,2,3e2,setosa\n-4,5.25,6,virginica\n7,8,9,setosa\n");
        return
        [
            new("safetensors", ".safetensors", stBytes, stHeader, p => Safetensors.Load(p), 32),
            new("npy", ".npy", npyBytes, 128, p => Npy.Load(p).ToTensor(), 48),
            new("idx", ".idx", File.ReadAllBytes(idx), 16, p => Idx.Read(p), 16),
            new("idx-gz", ".gz", File.ReadAllBytes(idxGz), 0, p => Idx.Read(p), 6 * 1032),
            new("csv", ".csv", csv, csv.Length, p => Csv.ReadClassification(p), 64),
        ];
    }

    public static IEnumerable<object[]> FormatNames => new[] { "safetensors", "npy", "idx", "idx-gz", "csv" }.Select(n => new object[] { n });

    [TestMethod]
    [TestCategory("Fuzz")]
    [DynamicData(nameof(FormatNames))]
    public void MutatedFilesFailOnlyWithInvalidData(string format) => Run(format, NormalCases, seed: 1);

    [TestMethod]
    [TestCategory("Fuzz")]
    [TestCategory("LongRun")]
    [DynamicData(nameof(FormatNames))]
    public void MutatedFilesFailOnlyWithInvalidDataLong(string format) => Run(format, LongCases, seed: 1_000_003);

    private static void Run(string name, int cases, long seed)
    {
        var format = Formats.Value.Single(f => f.Name == name);
        format.Read(WriteCase(format, format.Valid, "valid")); // the seed file itself is readable
        var mutator = new Mutator(seed + name.Length);
        int succeeded = 0, rejected = 0;
        string path = Path.Combine(TestUtil.TempFolder("fuzz-" + name), "case" + format.Extension);
        for (int i = 0; i < cases; i++)
        {
            var (bytes, description) = format.TextEnd > 0 && mutator.Next(4) == 0
                ? mutator.MutateNumberInText(format.Valid, format.TextEnd)
                : mutator.Mutate(format.Valid);
            File.WriteAllBytes(path, bytes);
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                format.Read(path);
                succeeded++;
            }
            catch (InvalidDataException e)
            {
                rejected++;
                if (!e.Message.Contains(path, StringComparison.Ordinal) && !e.Message.StartsWith("IDX", StringComparison.Ordinal))
                {
                    Assert.Fail($"{name} case {i} ({description}): the message does not name the file: {e.Message}");
                }
            }
            catch (Exception e)
            {
                Assert.Fail($"{name} case {i} ({description}): {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            long allowed = format.AllowedBytesPerFileByte * bytes.Length + (1 << 20);
            if (allocated > allowed)
            {
                Assert.Fail($"{name} case {i} ({description}): allocated {allocated} bytes for a {bytes.Length}-byte file (allowed {allowed}).");
            }
        }
        Assert.AreEqual(cases, succeeded + rejected);
        Assert.IsTrue(rejected > cases / 10, $"{name}: only {rejected} of {cases} mutations were rejected; the mutator is too weak");
    }

    private static string WriteCase(Format format, byte[] bytes, string label)
    {
        string path = Path.Combine(TestUtil.TempFolder("fuzz-" + format.Name + "-" + label), "file" + format.Extension);
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
