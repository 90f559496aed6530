using System.Text;
using AutoGrad.Data;
using AutoGrad.Fuzz;
using AutoGrad.IO;
using AutoGrad.Nn;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Fuzz;

/// <summary>
/// Mutated safetensors, IDX, NPY, CSV and ONNX files: the only outcome besides success is InvalidDataException (for
/// ONNX also NotSupportedException), and the reader never allocates more than the file's length justifies. An ONNX
/// model that loads is also run once (<see cref="FuzzTargets.LoadAndRunOnnx"/>; the run is outside the allocation
/// budget). 5,000 cases per format here (1,500 per ONNX model: each case parses and runs a network); the LongRun
/// category runs 100,000 per format.
/// </summary>
[TestClass]
public sealed class FileFuzzTests
{
    private const int NormalCases = 5_000;
    private const int LongCases = 100_000;

    private sealed record Format(string Name, string Extension, byte[] Valid, int TextEnd, Action<string> Read, long AllowedBytesPerFileByte,
        bool MayBeUnsupported = false, int Cases = NormalCases);

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
        var onnx = FuzzTargets.Describe("onnx");
        Format Onnx(string model) => new("onnx-" + model, ".onnx", File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", "onnx", model + ".onnx")),
            0, onnx.Read, onnx.BytesPerInputByte, MayBeUnsupported: true, Cases: 1_500);
        return
        [
            new("safetensors", ".safetensors", stBytes, stHeader, p => Safetensors.Load(p), 32),
            new("npy", ".npy", npyBytes, 128, p => Npy.Load(p).ToTensor(), 48),
            new("idx", ".idx", File.ReadAllBytes(idx), 16, p => Idx.Read(p), 16),
            new("idx-gz", ".gz", File.ReadAllBytes(idxGz), 0, p => Idx.Read(p), 6 * 1032),
            new("csv", ".csv", csv, csv.Length, p => Csv.ReadClassification(p), 64),
            // PyTorch's exports (tests/reference/fixtures/onnx): its Constant/Shape/Gather plumbing, not only AutoGrad's
            Onnx("mlp"), Onnx("resnet"), Onnx("transformer"),
        ];
    }

    public static IEnumerable<object[]> FormatNames =>
        new[] { "safetensors", "npy", "idx", "idx-gz", "csv", "onnx-mlp", "onnx-resnet", "onnx-transformer" }.Select(n => new object[] { n });

    [TestMethod]
    [TestCategory("Fuzz")]
    [DynamicData(nameof(FormatNames))]
    public void MutatedFilesFailOnlyWithInvalidData(string format) => Run(format, Formats.Value.Single(f => f.Name == format).Cases, seed: 1);

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
            FuzzTargets.TakeUnbudgeted();
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                format.Read(path);
                succeeded++;
            }
            catch (Exception e) when (e is InvalidDataException || (e is NotSupportedException && format.MayBeUnsupported))
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
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before - FuzzTargets.TakeUnbudgeted();
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
