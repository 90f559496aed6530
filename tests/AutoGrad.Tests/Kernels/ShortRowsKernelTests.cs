using AutoGrad.Kernels;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Kernels;

/// <summary>The short-row copies and adds at every vector width, against the plain loops.</summary>
[TestClass]
public sealed unsafe class ShortRowsKernelTests
{
    [TestMethod]
    [DynamicData(nameof(Widths.All), typeof(Widths))]
    public void CopyEvensTakesEveryOtherValueAndWritesNothingPastTheRow(int bits) => Widths.Run(bits, new CopyEvensCase());

    [TestMethod]
    [DynamicData(nameof(Widths.All), typeof(Widths))]
    public void AddEvensIsTheAdjointAndLeavesTheOtherValuesBitForBit(int bits) => Widths.Run(bits, new AddEvensCase());

    private readonly struct AddEvensCase : IWidthCase
    {
        public void Run<TVec>() where TVec : unmanaged, ISimd<TVec>
        {
            for (int count = 1; count <= 40; count++)
            {
                var source = KernelTestData.Values(count, count, specials: false);
                var destination = KernelTestData.Values(2 * count + 32, count + 100, specials: false).Select(v => v == 0 ? 1f : v).ToArray();
                var expected = (float[])destination.Clone();
                for (int i = 0; i < count; i++)
                {
                    expected[2 * i] += source[i];
                }
                fixed (float* ps = source, pd = destination)
                {
                    ShortRows.AddEvens<TVec>(pd, ps, count);
                }
                for (int i = 0; i < destination.Length; i++)
                {
                    Assert.AreEqual(BitConverter.SingleToInt32Bits(expected[i]), BitConverter.SingleToInt32Bits(destination[i]),
                        $"{TVec.Count} lanes, count {count}: [{i}]");
                }
            }
        }
    }

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
