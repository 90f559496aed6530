using AutoGrad.Data;
using AutoGrad.Metrics;
using AutoGrad.Nn;
using AutoGrad.Optim;
using AutoGrad.Samples.Common;
using Spectre.Console;

namespace AutoGrad.Samples;

/// <summary>
/// LeNet-5 (conv 6@5x5 pad 2, max-pool 2, conv 16@5x5, max-pool 2, 120, 84, 10) on the shipped MNIST digits or on
/// Fashion-MNIST, with Adam (cosine-annealed) and Xavier-uniform initialization; 20% of the training images are held out for validation.
/// </summary>
public static class LeNetSample
{
    public const int DefaultEpochs = 12;
    public const int DefaultBatchSize = 32;
    public const float DefaultLearningRate = 1e-3f;

    /// <summary>LeNet-5 with Xavier-uniform weights and zero biases (the samples' initialization).</summary>
    public static Sequential CreateModel(Generator generator)
    {
        var w = Init.XavierUniform();
        var b = Init.Zeros();
        return new Sequential(
            new Conv2d(1, 6, 5, padding: 2, weightInit: w, biasInit: b, generator: generator), new ReLU(), new MaxPool2d(2),
            new Conv2d(6, 16, 5, weightInit: w, biasInit: b, generator: generator), new ReLU(), new MaxPool2d(2),
            new Flatten(),
            new Linear(16 * 5 * 5, 120, weightInit: w, biasInit: b, generator: generator), new ReLU(),
            new Linear(120, 84, weightInit: w, biasInit: b, generator: generator), new ReLU(),
            new Linear(84, 10, weightInit: w, biasInit: b, generator: generator));
    }

    public static string[] ClassNames(string data) => data == "fashion" ? DataSources.FashionClasses : Enumerable.Range(0, 10).Select(i => $"{i}").ToArray();

    /// <summary>The test set of <paramref name="data"/> ("mnist" or "fashion").</summary>
    public static TensorDataset TestSet(RunSettings settings, string data)
    {
        string folder = DataSources.FindDataFolder(settings.DataFolder);
        var (_, test) = data == "fashion" ? DataSources.FashionMnist(folder, settings.DataFolder is null) : DataSources.Mnist(folder);
        return DataSources.Limit(test, settings.Limit);
    }

    public static int Run(RunSettings settings, string data)
    {
        string folder = DataSources.FindDataFolder(settings.DataFolder);
        var (fullTrain, fullTest) = data == "fashion" ? DataSources.FashionMnist(folder, settings.DataFolder is null) : DataSources.Mnist(folder);
        var allTrain = DataSources.Limit(fullTrain, settings.Limit);
        var test = DataSources.Limit(fullTest, settings.Limit);
        var (trainIndices, validationIndices) = Split.TrainValidation(allTrain, 0.2f, settings.Seed, stratified: true);
        var train = allTrain.Select(trainIndices);
        var validation = allTrain.Select(validationIndices);
        string title = data == "fashion" ? "Fashion-MNIST" : "MNIST";
        AnsiConsole.MarkupLine($"LeNet-5 on {title}: {train.Count} training, {validation.Count} validation, {test.Count} test images");

        var model = CreateModel(new Generator(settings.Seed));
        var optimizer = new Adam(model.Parameters(), settings.LearningRate);
        var schedule = new CosineAnnealingLr(optimizer, settings.Epochs);
        var history = Trainer.Fit(model, optimizer, new DataLoader(train, settings.BatchSize, shuffle: true, seed: settings.Seed),
            new DataLoader(validation, 500), settings.Epochs, classes: 10, label: "LeNet", schedule);
        var result = Classification.Evaluate(model, new DataLoader(test, 500), 10);

        var output = new RunOutput(settings.OutputFolder);
        output.SaveModel(model);
        output.SavePredictions(model, test);
        output.WritePng("loss.png", Charts.LossCurve(history, $"LeNet-5 on {title}: loss"));
        output.WritePng("accuracy.png", Charts.AccuracyCurve(history, $"LeNet-5 on {title}: accuracy"));
        var hyperparameters = settings.ToJson();
        hyperparameters["data"] = data;
        hyperparameters["optimizer"] = "Adam";
        hyperparameters["schedule"] = "cosine annealing to 0";
        output.WriteMetrics("lenet", hyperparameters, history, result.Accuracy);
        AnsiConsole.MarkupLine($"Test accuracy [bold]{result.Accuracy:P2}[/] on {result.Confusion.Total} images; wrote metrics.json, charts, model.safetensors and predictions.npy / logits.npy to [blue]{output.Folder}[/]");
        AnsiConsole.WriteLine(result.Confusion.ToString());
        return 0;
    }
}
