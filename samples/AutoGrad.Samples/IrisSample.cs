using System.Text.Json.Nodes;
using AutoGrad.Data;
using AutoGrad.Metrics;
using AutoGrad.Nn;
using AutoGrad.Optim;
using AutoGrad.Samples.Common;
using Spectre.Console;

namespace AutoGrad.Samples;

/// <summary>
/// Iris: a one-hidden-layer MLP trained for several (learning rate, hidden size) pairs on a stratified
/// split (20% test, then 20% of the rest for validation); Xavier-uniform weights; the pair with the best validation accuracy is the result, and every pair's test accuracy is shown.
/// </summary>
public static class IrisSample
{
    public static readonly float[] LearningRates = [0.003f, 0.01f, 0.03f];
    public static readonly int[] HiddenSizes = [8, 32];

    public static int Run(RunSettings settings, float? learningRate)
    {
        var table = Csv.ReadClassification(DataSources.Iris(DataSources.FindDataFolder(settings.DataFolder)));
        var data = table.Dataset;
        var (rest, testIndices) = Split.TrainValidation(data, 0.2f, settings.Seed, stratified: true);
        var remaining = data.Select(rest);
        var (trainIndices, validationIndices) = Split.TrainValidation(remaining, 0.2f, settings.Seed + 1, stratified: true);
        var train = remaining.Select(trainIndices);
        var validation = remaining.Select(validationIndices);
        var test = data.Select(testIndices);
        var scaler = Standardizer.Fit(train.Features);   // statistics from the training part only
        scaler.Apply(train.Features);
        scaler.Apply(validation.Features);
        scaler.Apply(test.Features);
        AnsiConsole.MarkupLine($"Iris: {train.Count} training, {validation.Count} validation, {test.Count} test rows; classes {string.Join(", ", table.ClassNames)}");

        var results = new List<(float Lr, int Hidden, History History, EvaluationResult Validation, EvaluationResult Test, Module Model)>();
        foreach (float lr in learningRate is { } only ? [only] : LearningRates)
        {
            foreach (int hidden in learningRate is null ? HiddenSizes : [8, 16, 32])
            {
                var model = Mlp.Create([4, hidden, 3], generator: new Generator(settings.Seed), weightInit: Init.XavierUniform(), biasInit: Init.Zeros());
                var optimizer = new Adam(model.Parameters(), lr);
                var history = Trainer.Fit(model, optimizer, new DataLoader(train, settings.BatchSize, shuffle: true, seed: settings.Seed),
                    new DataLoader(validation, 256), settings.Epochs, classes: 3, label: $"lr {lr} hidden {hidden}");
                results.Add((lr, hidden, history, Classification.Evaluate(model, new DataLoader(validation, 256), 3),
                    Classification.Evaluate(model, new DataLoader(test, 256), 3), model));
            }
        }
        var best = results.OrderByDescending(r => r.Validation.Accuracy).ThenBy(r => r.Validation.Loss).First();

        var sweepTable = new Table().AddColumns("lr", "hidden", "val accuracy", "test accuracy", "seconds");
        var sweep = new JsonArray();
        foreach (var r in results)
        {
            string mark = ReferenceEquals(r.Model, best.Model) ? " (best)" : "";
            sweepTable.AddRow($"{r.Lr}", $"{r.Hidden}{mark}", $"{r.Validation.Accuracy:P1}", $"{r.Test.Accuracy:P1}", $"{r.History.TotalSeconds:F2}");
            sweep.Add(new JsonObject
            {
                ["lr"] = r.Lr, ["hidden"] = r.Hidden, ["val_accuracy"] = r.Validation.Accuracy, ["test_accuracy"] = r.Test.Accuracy,
                ["seconds"] = Math.Round(r.History.TotalSeconds, 3),
            });
        }
        AnsiConsole.Write(sweepTable);
        AnsiConsole.MarkupLine($"Best: lr {best.Lr}, hidden {best.Hidden}: test accuracy [bold]{best.Test.Accuracy:P2}[/]");
        AnsiConsole.WriteLine(best.Test.Confusion.ToString());

        var output = new RunOutput(settings.OutputFolder);
        output.SaveModel(best.Model);
        output.WritePng("loss.png", Charts.LossCurve(best.History, $"Iris MLP 4-{best.Hidden}-3, lr {best.Lr}"));
        var hyperparameters = settings.ToJson();
        hyperparameters["lr"] = best.Lr;
        hyperparameters["hidden"] = best.Hidden;
        hyperparameters["optimizer"] = "Adam";
        output.WriteMetrics("iris", hyperparameters, best.History, best.Test.Accuracy, new JsonObject { ["sweep"] = sweep });
        AnsiConsole.MarkupLine($"Wrote metrics.json, loss.png and model.safetensors to [blue]{output.Folder}[/]");
        return 0;
    }
}
