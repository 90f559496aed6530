using AutoGrad.Nn;
using AutoGrad.Optim;
using AutoGrad.Samples;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Samples;

/// <summary>
/// The resnet sample's network (the full run needs Fashion-MNIST and minutes; see the README): PyTorch-style keys, the
/// shapes through the stages, a few steps of the sample's optimizer on a fixed batch that lower the loss and move the
/// running statistics, and its random shifts.
/// </summary>
[TestClass]
public sealed class ResNetSampleTests
{
    [TestMethod]
    public void TheNetworkTrainsOnAFixedBatch()
    {
        var model = new SmallResNet(new Generator(1), ResNetSample.Width);
        var keys = model.StateDict().Keys.ToArray();
        CollectionAssert.Contains(keys, "layers.1.downsample.0.weight");
        CollectionAssert.Contains(keys, "layers.2.bn2.running_var");
        CollectionAssert.Contains(keys, "bn1.num_batches_tracked");
        var images = new Variable(Tensor.Randn(new Generator(2), 16, 1, 28, 28));
        int[] labels = [.. Enumerable.Range(0, 16).Select(i => i % 10)];
        var optimizer = new Sgd(model.Parameters(), 0.05f, ResNetSample.Momentum, weightDecay: ResNetSample.WeightDecay, nesterov: true);
        var runningBefore = model.StateDict()["bn1.running_mean"].ToArray();
        float first = 0, last = 0;
        for (int step = 0; step < 8; step++)
        {
            var logits = model.Call(images);
            CollectionAssert.AreEqual(new[] { 16, 10 }, logits.Shape.ToArray());
            var loss = F.CrossEntropy(logits, labels, labelSmoothing: ResNetSample.LabelSmoothing);
            optimizer.ZeroGrad();
            loss.Backward();
            optimizer.Step();
            (first, last) = (step == 0 ? loss.Item() : first, loss.Item());
        }
        Assert.IsTrue(last < first * 0.8f, $"the loss falls on a batch it can memorize: {first} -> {last}");
        CollectionAssert.AreNotEqual(runningBefore, model.StateDict()["bn1.running_mean"].ToArray(), "training mode updates the running statistics");
    }

    [TestMethod]
    public void RandomShiftMovesEachImageByAtMostThePaddingWithZerosMovingIn()
    {
        const int n = 64, h = 7, w = 6, padding = 2;
        var images = Tensor.Zeros(n, 2, h, w);
        var data = images.AsSpan();
        for (int i = 0; i < n * 2; i++)
        {
            data[i * h * w + 3 * w + 2] = 1f; // one lit pixel at (3, 2) in every plane
            data[i * h * w] = 0.5f;           // and one at the corner, which most shifts push out
        }
        new RandomShift(padding, new Generator(3)).Apply(images);
        var offsets = new HashSet<(int, int)>();
        for (int i = 0; i < n; i++)
        {
            var first = data.Slice(2 * i * h * w, h * w).ToArray();
            int lit = Array.IndexOf(first, 1f);
            var (dy, dx) = (3 - lit / w, 2 - lit % w);
            Assert.IsTrue(Math.Abs(dy) <= padding && Math.Abs(dx) <= padding, $"image {i}: the pixel moved by ({-dy}, {-dx})");
            CollectionAssert.AreEqual(first, data.Slice((2 * i + 1) * h * w, h * w).ToArray(), $"image {i}: both channels move alike");
            int corner = Array.IndexOf(first, 0.5f);
            Assert.AreEqual(dy <= 0 && dx <= 0 ? -dy * w - dx : -1, corner, $"image {i}: the corner pixel is where the shift ({dy}, {dx}) puts it");
            Assert.AreEqual(corner < 0 ? 1f : 1.5f, first.Sum(), $"image {i}: everything else is zero");
            offsets.Add((dy, dx));
        }
        Assert.IsTrue(offsets.Count > 15, $"64 images get most of the 25 offsets; got {offsets.Count}");
    }
}
