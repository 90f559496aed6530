using AutoGrad.Nn;
using AutoGrad.Optim;
using AutoGrad.Samples;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Samples;

/// <summary>
/// The resnet sample's network (the full run needs Fashion-MNIST and minutes; see the README): PyTorch-style keys, the
/// shapes through the stages, and a few Adam steps on a fixed batch that lower the loss and move the running statistics.
/// </summary>
[TestClass]
public sealed class ResNetSampleTests
{
    [TestMethod]
    public void TheNetworkTrainsOnAFixedBatch()
    {
        var model = new SmallResNet(new Generator(1));
        var keys = model.StateDict().Keys.ToArray();
        CollectionAssert.Contains(keys, "layers.1.downsample.0.weight");
        CollectionAssert.Contains(keys, "layers.2.bn2.running_var");
        CollectionAssert.Contains(keys, "bn1.num_batches_tracked");
        var images = new Variable(Tensor.Randn(new Generator(2), 16, 1, 28, 28));
        int[] labels = [.. Enumerable.Range(0, 16).Select(i => i % 10)];
        var optimizer = new Adam(model.Parameters(), 1e-2f);
        var runningBefore = model.StateDict()["bn1.running_mean"].ToArray();
        float first = 0, last = 0;
        for (int step = 0; step < 8; step++)
        {
            var logits = model.Call(images);
            CollectionAssert.AreEqual(new[] { 16, 10 }, logits.Shape.ToArray());
            var loss = F.CrossEntropy(logits, labels);
            optimizer.ZeroGrad();
            loss.Backward();
            optimizer.Step();
            (first, last) = (step == 0 ? loss.Item() : first, loss.Item());
        }
        Assert.IsTrue(last < first * 0.8f, $"the loss falls on a batch it can memorize: {first} -> {last}");
        CollectionAssert.AreNotEqual(runningBefore, model.StateDict()["bn1.running_mean"].ToArray(), "training mode updates the running statistics");
    }
}
