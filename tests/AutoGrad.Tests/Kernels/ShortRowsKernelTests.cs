using AutoGrad.Kernels;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Kernels;

/// <summary>The short-row copies at every vector width, against the plain loop.</summary>
[TestClass]
public sealed unsafe class ShortRowsKernelTests
{
    [TestMethod]
    [DynamicData(nameof(Widths.All), typeof(Widths))]
    public void CopyEvensTakesEveryOtherValueAndWritesNothingPastTheRow(int bits) => Widths.Run(bits, new CopyEvensCase());

    private readonly struct CopyEvensCase : IWidthCase
    {
        public void Run<TVec>() where TVec : unmanaged, ISimd<TVec>
        {
            for (int count = 1; count <= 40; count++)
            {
                var source = KernelTestData.Values(2 * count + 32, count); // the documented over-read of up to 32 floats
                var destination = Enumerable.Repeat(-7f, count + 20).ToArray();
                fixed (float* ps = source, pd = destination)
                {
                    ShortRows.CopyEvens<TVec>(pd, ps, count);
                }
                for (int i = 0; i < count; i++)
                {
                    Assert.AreEqual(source[2 * i], destination[i], $"{TVec.Count} lanes, count {count}: [{i}]");
                }
                for (int i = count; i < destination.Length; i++)
                {
                    Assert.AreEqual(-7f, destination[i], $"{TVec.Count} lanes, count {count}: written past the row at [{i}]");
                }
            }
        }
    }
}
