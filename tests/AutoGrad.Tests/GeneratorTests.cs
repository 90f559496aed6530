using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests;

[TestClass]
public sealed class GeneratorTests
{
    [TestMethod]
    public void SameSeedSameSequenceAndStateResumesExactly()
    {
        var a = new Generator(123);
        var b = new Generator(123);
        for (int i = 0; i < 100; i++)
        {
            Assert.AreEqual(a.NextUInt64(), b.NextUInt64());
        }
        Assert.AreNotEqual(new Generator(1).NextUInt64(), new Generator(2).NextUInt64());
        var state = a.GetState();
        var expected = Enumerable.Range(0, 10).Select(_ => a.NextFloat()).ToArray();
        var resumed = new Generator(0);
        resumed.SetState(state);
        CollectionAssert.AreEqual(expected, Enumerable.Range(0, 10).Select(_ => resumed.NextFloat()).ToArray());
        Assert.ThrowsExactly<ArgumentException>(() => resumed.SetState(new ulong[4]));
    }

    [TestMethod]
    public void NextIntIsInRangeAndRoughlyUniform()
    {
        var g = new Generator(9);
        var counts = new int[7];
        for (int i = 0; i < 70_000; i++)
        {
            counts[g.NextInt(7)]++;
        }
        Assert.IsTrue(counts.All(c => Math.Abs(c - 10_000) < 400), string.Join(", ", counts));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => g.NextInt(0));
    }

    [TestMethod]
    public void ShuffleIsAPermutation()
    {
        var values = Enumerable.Range(0, 100).ToArray();
        new Generator(4).Shuffle(values.AsSpan());
        CollectionAssert.AreNotEqual(Enumerable.Range(0, 100).ToArray(), values);
        CollectionAssert.AreEquivalent(Enumerable.Range(0, 100).ToArray(), values);
    }
}
