using AutoGrad.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Data;

[TestClass]
public sealed class DataLoaderTests
{
    // Sample i has features [i, 10 i] and label i % 3.
    private static TensorDataset Numbers(int n)
        => new(Tensor.FromArray(Enumerable.Range(0, n).SelectMany(i => new[] { (float)i, 10f * i }).ToArray(), n, 2),
            Enumerable.Range(0, n).Select(i => i % 3).ToArray());

    [TestMethod]
    public void SequentialBatchesCoverTheDataInOrder()
    {
        var loader = new DataLoader(Numbers(10), batchSize: 4);
        Assert.AreEqual(3, loader.BatchCount);
        var seen = new List<float>();
        var sizes = new List<int>();
        foreach (var batch in loader)
        {
            sizes.Add(batch.Count);
            CollectionAssert.AreEqual(new[] { batch.Count, 2 }, batch.Features.Shape.ToArray());
            for (int i = 0; i < batch.Count; i++)
            {
                seen.Add(batch.Features[i, 0]);
                Assert.AreEqual(10f * batch.Features[i, 0], batch.Features[i, 1]);
                Assert.AreEqual((int)batch.Features[i, 0] % 3, batch.Labels[i]);
            }
        }
        CollectionAssert.AreEqual(new[] { 4, 4, 2 }, sizes);
        CollectionAssert.AreEqual(Enumerable.Range(0, 10).Select(i => (float)i).ToArray(), seen);
    }

    [TestMethod]
    public void DropLastSkipsThePartialBatch()
    {
        var loader = new DataLoader(Numbers(10), batchSize: 4, dropLast: true);
        Assert.AreEqual(2, loader.BatchCount);
        Assert.AreEqual(2, loader.Count());
    }

    private static float[] Epoch(DataLoader loader) => loader.SelectMany(b => Enumerable.Range(0, b.Count).Select(i => b.Features[i, 0]).ToArray()).ToArray();

    [TestMethod]
    [TestCategory("Determinism")]
    public void ShuffleIsAPermutationReproducibleFromTheSeed()
    {
        var a = new DataLoader(Numbers(50), 8, shuffle: true, seed: 5);
        var b = new DataLoader(Numbers(50), 8, shuffle: true, seed: 5);
        var first = Epoch(a);
        var second = Epoch(a);
        CollectionAssert.AreEquivalent(Enumerable.Range(0, 50).Select(i => (float)i).ToArray(), first);
        CollectionAssert.AreNotEqual(first, second, "each epoch has a new order");
        CollectionAssert.AreEqual(first, Epoch(b));
        CollectionAssert.AreEqual(second, Epoch(b));
        CollectionAssert.AreNotEqual(first, Epoch(new DataLoader(Numbers(50), 8, shuffle: true, seed: 6)));
    }

    [TestMethod]
    public void BatchesReuseTheirFeatureBuffersAndAllocateOnlySmallObjects()
    {
        var loader = new DataLoader(Numbers(4096), 64, shuffle: true, seed: 1);
        foreach (var _ in loader)
        {
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        int batches = 0;
        foreach (var _ in loader)
        {
            batches++;
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.AreEqual(64, batches);
        // per batch: its 64 labels (280 bytes), the batch, a tensor over the reused buffer, its storage and its shape
        // (about 450 bytes in all), never the features themselves (64 x 2 floats: another 536 bytes)
        Assert.IsTrue(allocated < 64 * 700, $"an epoch of 64 batches allocated {allocated} bytes");
    }

    [TestMethod]
    public void AKeptBatchThrowsOnceTheNextIsMade_AndKeepsItsLabels()
    {
        // the loader refills one buffer: a batch kept past the next one must be loud, never show the next one's values
        var loader = new DataLoader(Numbers(12), 4);
        var kept = new List<Batch>();
        foreach (var batch in loader)
        {
            kept.Add(batch);
        }
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => kept[0].Features.AsReadOnlySpan().ToArray());
        StringAssert.Contains(error.Message, "Clone()");
        Assert.ThrowsExactly<InvalidOperationException>(() => _ = kept[1].Features[0, 0]);
        Assert.AreEqual(8f, kept[2].Features.AsReadOnlySpan()[0], "the last batch is still valid");
        CollectionAssert.AreEqual(new[] { 0, 1, 2, 0 }, kept[0].Labels, "labels are the batch's own");
        CollectionAssert.AreEqual(new[] { 1, 2, 0, 1 }, kept[1].Labels);
    }

    [TestMethod]
    public void AClonedBatchStaysValid()
    {
        var loader = new DataLoader(Numbers(8), 4);
        var clones = loader.Select(b => b.Features.Clone()).ToList();
        Assert.AreEqual(0f, clones[0].AsReadOnlySpan()[0]);
        Assert.AreEqual(4f, clones[1].AsReadOnlySpan()[0]);
    }

    [TestMethod]
    public void SubsetAndSplit()
    {
        var data = Numbers(30);
        var (train, validation) = Split.TrainValidation(data, 0.2f, seed: 3, stratified: true);
        Assert.AreEqual(6, validation.Length);
        Assert.AreEqual(24, train.Length);
        CollectionAssert.AreEquivalent(Enumerable.Range(0, 30).ToArray(), train.Concat(validation).ToArray());
        CollectionAssert.AreEqual(new[] { 2, 2, 2 }, validation.GroupBy(i => i % 3).OrderBy(g => g.Key).Select(g => g.Count()).ToArray());
        CollectionAssert.AreEqual(validation, Split.TrainValidation(data, 0.2f, seed: 3, stratified: true).Validation);
        CollectionAssert.AreNotEqual(validation, Split.TrainValidation(data, 0.2f, seed: 4, stratified: true).Validation);

        var (trainSet, validationSet) = Split.RandomSplit(data, 0.5f, seed: 1);
        Assert.AreEqual(15, trainSet.Count);
        Assert.AreEqual(data.Label(validationSet.Indices[0]), validationSet.Label(0));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => validationSet.Label(15));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Split.TrainValidation(data, 1.5f, 0));
    }

    [TestMethod]
    public void BadArguments()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new DataLoader(Numbers(3), 0));
        var e = Assert.ThrowsExactly<ArgumentException>(() => new TensorDataset(Tensor.Zeros(3, 2), [1, 2]));
        StringAssert.Contains(e.Message, "[3, 2]");
    }
}
