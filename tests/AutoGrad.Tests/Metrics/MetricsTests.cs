using System.Text.Json;
using AutoGrad.Metrics;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Metrics;

[TestClass]
public sealed class MetricsTests
{
    [TestMethod]
    public void AccuracyAndConfusionMatrix()
    {
        var logits = Tensor.FromArray([2, 1, 0, 0, 3, 1, 5, 5, 0, 0, 0, 1], 4, 3);
        CollectionAssert.AreEqual(new[] { 0, 1, 0, 2 }, Classification.ArgMax(logits), "ties go to the first index");
        Assert.AreEqual(0.75f, Classification.Accuracy(logits, [0, 1, 1, 2]));
        var m = new ConfusionMatrix(3);
        m.Add([0, 1, 0, 2], [0, 1, 1, 2]);
        Assert.AreEqual(1, m[1, 0]);
        Assert.AreEqual(4, m.Total);
        Assert.AreEqual(0.75f, m.Accuracy);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => m.Add([3], [0]));
        Assert.ThrowsExactly<ArgumentException>(() => Classification.Accuracy([1, 2], [1]));
    }

    [TestMethod]
    public void HistorySerializesSnakeCaseEpochs()
    {
        var history = new History();
        history.Add(new EpochRecord(1, 0.5f, 0.8f, null, 0.75f, 1.5));
        history.Add(new EpochRecord(2, 0.25f, null, 0.3f, 0.9f, 1.25));
        Assert.AreEqual(2.75, history.TotalSeconds);
        using var json = JsonDocument.Parse(history.ToJson());
        var first = json.RootElement[0];
        Assert.AreEqual(1, first.GetProperty("epoch").GetInt32());
        Assert.AreEqual(0.5, first.GetProperty("train_loss").GetDouble());
        Assert.AreEqual(0.75, first.GetProperty("val_accuracy").GetDouble(), 1e-7);
        Assert.AreEqual(1.5, first.GetProperty("seconds").GetDouble());
    }

    [TestMethod]
    public void EvaluateOnAnEmptyDataSetThrows()
    {
        var model = AutoGrad.Nn.Mlp.Create([2, 3]);
        var empty = new AutoGrad.Data.TensorDataset(Tensor.Zeros(0, 2), []);
        var e = Assert.ThrowsExactly<ArgumentException>(() => Classification.Evaluate(model, new AutoGrad.Data.DataLoader(empty, 4), 3));
        StringAssert.Contains(e.Message, "no samples");
    }
}
