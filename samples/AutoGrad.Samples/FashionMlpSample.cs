using System.Text;
using System.Text.Json.Nodes;
using AutoGrad.Data;
using AutoGrad.IO;
using AutoGrad.Metrics;
using AutoGrad.Nn;
using AutoGrad.Optim;
using AutoGrad.Samples.Common;
using Spectre.Console;

namespace AutoGrad.Samples;

/// <summary>
/// Fashion-MNIST with a 784-256-128-10 ReLU MLP and Adam: 48,000 training and 12,000 validation images from the
/// 60,000, tested on the 10,000 test images. --sweep retrains with other hidden sizes and compares them.
/// </summary>
public static class FashionMlpSample
{
    /// <summary>The sweep: (name, hidden sizes) with the first or second hidden size changed, or the second removed.</summary>
    public static IReadOnlyList<(string Name, int[] Hidden)> SweepVariants { get; } =
    [
        ("256-128 (baseline)", [256, 128]),
        ("8-128", [8, 128]), ("16-128", [16, 128]), ("64-128", [64, 128]), ("1024-128", [1024, 128]),
        ("256-8", [256, 8]), ("256-16", [256, 16]), ("256-64", [256, 64]), ("256-1024", [256, 1024]),
        ("256 (one hidden layer)", [256]),
    ];

    public static int Run(RunSettings settings, bool sweep)
    {
        var (fullTrain, fullTest) = DataSources.FashionMnist(DataSources.FindDataFolder(settings.DataFolder), settings.DataFolder is null);
        var allTrain = DataSources.Limit(fullTrain, settings.Limit);
        var test = DataSources.Limit(fullTest, settings.Limit);
        var (trainIndices, validationIndices) = Split.TrainValidation(allTrain, 0.2f, settings.Seed);
        var train = allTrain.Select(trainIndices);
        var validation = allTrain.Select(validationIndices);
        // Like torchvision's Normalize((0.2860,), (0.3530,)): one mean and std, measured on the training part.
        var (mean, std) = PixelStatistics(train.Features);
        foreach (var part in new[] { train, validation, test })
        {
            Transforms.Normalize(part.Features, [mean], [std]);
        }
        AnsiConsole.MarkupLine($"Fashion-MNIST: {train.Count} training, {validation.Count} validation, {test.Count} test images");

        var output = new RunOutput(settings.OutputFolder);
        var variants = sweep ? SweepVariants : SweepVariants.Take(1).ToList();
        var rows = new List<(string Name, int[] Hidden, History History, float TestAccuracy, Module Model)>();
        foreach (var (name, hidden) in variants)
        {
            var (history, model, testAccuracy) = TrainOne(settings, hidden, train, validation, test, name);
            rows.Add((name, hidden, history, testAccuracy, model));
        }

        var baseline = rows[0];
        output.SaveModel(baseline.Model);
        output.WritePng("loss.png", Charts.LossCurve(baseline.History, "Fashion-MNIST MLP 784-256-128-10: training loss"));
        output.WritePng("accuracy.png", Charts.AccuracyCurve(baseline.History, "Fashion-MNIST MLP 784-256-128-10: validation accuracy"));
        var extra = new JsonObject();
        if (sweep)
        {
            var table = new Table().AddColumns("hidden sizes", "parameters", "test accuracy", "training seconds");
            var markdown = new StringBuilder("| hidden sizes | parameters | test accuracy | training seconds |\n|---|---|---|---|\n");
            var json = new JsonArray();
            foreach (var r in rows)
            {
                long parameters = r.Model.ParameterCount;
                table.AddRow(r.Name, $"{parameters:N0}", $"{r.TestAccuracy:P2}", $"{r.History.TotalSeconds:F1}");
                markdown.Append($"| {r.Name} | {parameters:N0} | {r.TestAccuracy:P2} | {r.History.TotalSeconds:F1} |\n");
                json.Add(new JsonObject
                {
                    ["variant"] = r.Name, ["hidden"] = new JsonArray(r.Hidden.Select(h => (JsonNode)h).ToArray()), ["parameters"] = parameters,
                    ["test_accuracy"] = r.TestAccuracy, ["training_seconds"] = Math.Round(r.History.TotalSeconds, 3),
                });
            }
            AnsiConsole.Write(table);
            AtomicFile.WriteAllText(output.PathOf("sweep.md"), markdown.ToString());
            extra["sweep"] = json;
        }
        var hyperparameters = settings.ToJson();
        hyperparameters["layers"] = "784-256-128-10";
        hyperparameters["optimizer"] = "Adam";
        hyperparameters["schedule"] = "cosine annealing to 0";
        hyperparameters["normalize"] = "(x - mean) / std of the training pixels";
        output.WriteMetrics("fashion-mlp", hyperparameters, baseline.History, baseline.TestAccuracy, extra);
        AnsiConsole.MarkupLine($"Test accuracy [bold]{baseline.TestAccuracy:P2}[/]; wrote results to [blue]{output.Folder}[/]");
        return 0;
    }

    public static (float Mean, float Std) PixelStatistics(Tensor pixels)
    {
        var v = pixels.AsReadOnlySpan();
        float mean = System.Numerics.Tensors.TensorPrimitives.Sum(v) / v.Length;
        double squares = 0;
        foreach (float x in v)
        {
            squares += (x - mean) * (double)(x - mean);
        }
        return (mean, (float)Math.Sqrt(squares / v.Length));
    }

    private static (History History, Module Model, float TestAccuracy) TrainOne(RunSettings settings, int[] hidden, TensorDataset train,
        TensorDataset validation, TensorDataset test, string name)
    {
        var model = new Sequential(new Flatten()).Add(Mlp.Create([784, .. hidden, 10], generator: new Generator(settings.Seed), weightInit: Init.XavierUniform(), biasInit: Init.Zeros()));
        var optimizer = new Adam(model.Parameters(), settings.LearningRate);
        // The rate starts at --lr and anneals to zero over the run, which settles the last epochs.
        var schedule = new CosineAnnealingLr(optimizer, settings.Epochs);
        var history = Trainer.Fit(model, optimizer, new DataLoader(train, settings.BatchSize, shuffle: true, seed: settings.Seed),
            new DataLoader(validation, 1000), settings.Epochs, classes: 10, label: name, schedule);
        var result = Classification.Evaluate(model, new DataLoader(test, 1000), 10);
        return (history, model, result.Accuracy);
    }
}
