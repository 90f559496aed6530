using AutoGrad.Interpret;
using AutoGrad.Nn;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Interpret;

[TestClass]
public sealed class InterpretTests
{
    // Three classes over 1x4x4 images: class c lights up when row c is bright.
    private static Sequential RowClassifier()
    {
        var linear = new Linear(16, 3, weightInit: Init.Zeros(), biasInit: Init.Zeros());
        for (int c = 0; c < 3; c++)
        {
            for (int x = 0; x < 4; x++)
            {
                for (int row = 0; row < 4; row++)
                {
                    linear.Weight.Value[c, row * 4 + x] = row == c ? 2f : -1f;
                }
            }
        }
        return new Sequential(new Flatten(), linear);
    }

    [TestMethod]
    public void InputGradientOfALinearModelIsTheClassWeightRow()
    {
        var model = RowClassifier();
        var input = Tensor.Rand(new Generator(1), 2, 1, 4, 4);
        var (gradient, logits) = InputGradients.OfClassScores(model, input, [2, 0]);
        var weight = ((Linear)model[1]).Weight.Value;
        for (int p = 0; p < 16; p++)
        {
            Assert.AreEqual(weight[2, p], gradient.AsReadOnlySpan()[p]);
            Assert.AreEqual(weight[0, p], gradient.AsReadOnlySpan()[16 + p]);
        }
        CollectionAssert.AreEqual(new[] { 2, 3 }, logits.Shape.ToArray());
        Assert.IsTrue(model.Parameters().All(p => p.Grad is null && p.RequiresGrad), "parameters get no gradient and stay trainable");
        Assert.IsTrue(model.Training, "training mode is restored");

        var saliency = InputGradients.Saliency(model, input, [2, 0]);
        CollectionAssert.AreEqual(new[] { 2, 4, 4 }, saliency.Shape.ToArray());
        Assert.AreEqual(2f, saliency[0, 2, 1]);
        Assert.AreEqual(1f, saliency[0, 1, 1]);
    }

    [TestMethod]
    public void LogProbabilityGradientSubtractsTheExpectedWeightRow()
    {
        var model = RowClassifier();
        var input = Tensor.Rand(new Generator(2), 1, 1, 4, 4);
        var (gradient, logits) = InputGradients.OfClassScores(model, input, [1], ClassScore.LogProbability);
        var p = F.Softmax(new Variable(logits), 1).Value;
        var weight = ((Linear)model[1]).Weight.Value;
        for (int i = 0; i < 16; i++)
        {
            float expected = weight[1, i] - (p[0, 0] * weight[0, i] + p[0, 1] * weight[1, i] + p[0, 2] * weight[2, i]);
            Assert.AreEqual(expected, gradient.AsReadOnlySpan()[i], 1e-5f);
        }
    }

    [TestMethod]
    public void ClassVisualizationReachesTheTargetProbability()
    {
        var model = RowClassifier();
        for (int c = 0; c < 3; c++)
        {
            var result = ClassVisualizer.Visualize(model, [1, 4, 4], c, new ClassVisualizationOptions { Steps = 40, Jitter = 0, BlurEvery = 0 }, new Generator(c));
            Assert.IsTrue(result.Probability >= 0.99f, $"class {c}: p = {result.Probability}");
            Assert.AreEqual(result.Probability, ClassVisualizer.ProbabilityOf(model, result.Image.Reshape(1, 1, 4, 4), c), 1e-6f);
            Assert.IsTrue(result.Image.ToArray().All(v => v is >= 0f and <= 1f), "clamped to the pixel range");
            Assert.IsTrue(result.Image[0, c, 0] > result.Image[0, (c + 1) % 3, 0], "the class's row is brighter");
        }
    }

    [TestMethod]
    public void BadArguments()
    {
        var model = RowClassifier();
        Assert.ThrowsExactly<ArgumentException>(() => InputGradients.OfClassScores(model, Tensor.Zeros(2, 1, 4, 4), [1]));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => InputGradients.OfClassScores(model, Tensor.Zeros(1, 1, 4, 4), [3]));
        Assert.ThrowsExactly<ArgumentException>(() => ClassVisualizer.Visualize(model, [16], 0));
    }
}
