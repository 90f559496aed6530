using System.Text.Json;
using AutoGrad.Data;
using AutoGrad.Metrics;
using AutoGrad.Nn;
using AutoGrad.Optim;
using AutoGrad.Tests.Ops;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Nn;

/// <summary>End-to-end training with modules, losses, optimizers and loaders.</summary>
[TestClass]
public sealed class TrainingTests
{
    [TestMethod]
    public void TwoLayerMlpLearnsXor()
    {
        var x = new Variable(Tensor.FromArray([0, 0, 0, 1, 1, 0, 1, 1], 4, 2));
        int[] y = [0, 1, 1, 0];
        var model = Mlp.Create([2, 8, 2], () => new Tanh(), new Generator(3));
        var optimizer = new Adam(model.Parameters(), lr: 0.05f);
        float loss = float.NaN;
        for (int step = 0; step < 300; step++)
        {
            optimizer.ZeroGrad();
            var l = F.CrossEntropy(model.Call(x), y);
            l.Backward();
            optimizer.Step();
            loss = l.Item();
        }
        Assert.IsTrue(loss < 0.05f, $"final loss {loss}");
        CollectionAssert.AreEqual(y, Classification.ArgMax(model.Call(x).Value));
    }

    [TestMethod]
    public void SmallMlpReachesIrisAccuracy()
    {
        var table = Csv.ReadClassification(Path.Combine(AppContext.BaseDirectory, "Data", "iris.csv"));
        CollectionAssert.AreEqual(new[] { "setosa", "versicolor", "virginica" }, table.ClassNames);
        var (trainIndices, testIndices) = Split.TrainValidation(table.Dataset, 0.3f, seed: 1, stratified: true);
        var train = table.Dataset.Select(trainIndices);
        var test = table.Dataset.Select(testIndices);
        var scaler = Standardizer.Fit(train.Features);
        scaler.Apply(train.Features);
        scaler.Apply(test.Features);

        var model = Mlp.Create([4, 16, 3], generator: new Generator(7));
        var optimizer = new Adam(model.Parameters(), lr: 0.01f);
        var loader = new DataLoader(train, batchSize: 16, shuffle: true, seed: 11);
        for (int epoch = 0; epoch < 60; epoch++)
        {
            foreach (var batch in loader)
            {
                optimizer.ZeroGrad();
                F.CrossEntropy(model.Call(batch.Features), batch.Labels).Backward();
                optimizer.Step();
            }
        }
        var result = Classification.Evaluate(model, new DataLoader(test, 64), classes: 3);
        Assert.AreEqual(45, result.Confusion.Total);
        Assert.IsTrue(result.Accuracy >= 0.93f, $"test accuracy {result.Accuracy}\n{result.Confusion}");
    }

    [TestMethod]
    [TestCategory("Parity")]
    public void LeNetModuleLoadsPyTorchWeightsAndMatchesItsGradients()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(TestUtil.FixturePath("lenet.json")));
        var root = document.RootElement;
        var state = new StateDict();
        foreach (var p in root.GetProperty("parameters").EnumerateObject())
        {
            state.Add(p.Name, ParityFixture.ReadTensor(p.Value));
        }
        var model = new Sequential(
            new Conv2d(1, 6, 5, padding: 2), new ReLU(), new MaxPool2d(2),
            new Conv2d(6, 16, 5), new ReLU(), new MaxPool2d(2), new Flatten(),
            new Linear(400, 120), new ReLU(), new Linear(120, 84), new ReLU(), new Linear(84, 10));
        model.LoadStateDict(state);
        var input = ParityFixture.ReadTensor(root.GetProperty("input"));
        int[] targets = root.GetProperty("targets").EnumerateArray().Select(t => t.GetInt32()).ToArray();

        var logits = model.Call(input);
        var loss = F.CrossEntropy(logits, targets);
        loss.Backward();

        TestUtil.AssertClose(ParityFixture.ReadTensor(root.GetProperty("logits")), logits.Value, what: "logits");
        foreach (var (name, parameter) in model.NamedParameters())
        {
            TestUtil.AssertClose(ParityFixture.ReadTensor(root.GetProperty("grads").GetProperty(name)), parameter.Grad!, what: name);
        }
    }
}
