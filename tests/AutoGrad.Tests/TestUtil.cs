using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests;

/// <summary>Helpers shared by the tests: tensors from literals and tolerant comparisons with useful messages.</summary>
internal static class TestUtil
{
    public static Tensor T(float[] data, params int[] shape) => Tensor.FromArray(data, shape);

    public static Variable V(float[] data, params int[] shape) => new(Tensor.FromArray(data, shape), requiresGrad: true);

    public static Variable RandnVar(Generator generator, params int[] shape) => new(Tensor.Randn(generator, shape), requiresGrad: true);

    /// <summary>Asserts equal shapes and |a - e| &lt;= atol + rtol * |e| everywhere (NaN matches NaN, infinities must match exactly).</summary>
    public static void AssertClose(ReadOnlySpan<int> expectedShape, ReadOnlySpan<float> expected, Tensor actual, double atol = 1e-5, double rtol = 1e-4, string what = "")
    {
        Assert.AreEqual(Shapes.Format(expectedShape), Shapes.Format(actual.Shape), $"{what}: shape");
        var a = actual.AsReadOnlySpan();
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], v = a[i];
            if (double.IsNaN(e) && double.IsNaN(v) || e == v)
            {
                continue;
            }
            if (double.IsInfinity(e) || double.IsInfinity(v) || Math.Abs(v - e) > atol + rtol * Math.Abs(e))
            {
                Assert.Fail($"{what}: element {i} is {v:R}, expected {e:R} (|diff| {Math.Abs(v - e):G3}, allowed {atol + rtol * Math.Abs(e):G3}).");
            }
        }
    }

    public static void AssertClose(Tensor expected, Tensor actual, double atol = 1e-5, double rtol = 1e-4, string what = "")
        => AssertClose(expected.Shape, expected.AsReadOnlySpan(), actual, atol, rtol, what);

    /// <summary>A fresh empty folder under the system temp folder, unique to the caller.</summary>
    public static string TempFolder(string name)
    {
        string folder = Path.Combine(Path.GetTempPath(), "autograd-tests", $"{name}-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        return folder;
    }

    /// <summary>The path of a fixture file copied next to the test assembly.</summary>
    public static string FixturePath(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "Fixtures", .. parts]);

    /// <summary>A seed derived from <paramref name="name"/> that is the same in every process (string.GetHashCode is randomized per process).</summary>
    public static long StableSeed(string name)
    {
        uint hash = 2166136261;
        foreach (char c in name)
        {
            hash = (hash ^ c) * 16777619;
        }
        return hash & 0x7FFF;
    }

    /// <summary>Writes <paramref name="bytes"/> to a new temporary file named <paramref name="fileName"/> and returns its path.</summary>
    public static string WriteTempFile(string fileName, byte[] bytes)
    {
        string path = Path.Combine(TempFolder(Path.GetFileNameWithoutExtension(fileName)), fileName);
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
