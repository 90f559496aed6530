using System.Text.Json.Nodes;
using AutoGrad.Data;
using AutoGrad.Interpret;
using AutoGrad.IO;
using AutoGrad.Metrics;
using AutoGrad.Samples.Common;
using Spectre.Console;

namespace AutoGrad.Samples;

/// <summary>
/// What does the classifier think a class looks like? Loads a LeNet checkpoint (training one first when there is
/// none), then grows one image per class from noise by gradient ascent on that class's logit, and checks that the
/// model gives each image its class with probability at least 0.99. --saliency instead draws, over real test
/// images, how strongly each pixel moves the class score.
/// </summary>
public static class VisualizeSample
{
    public const string DefaultOutput = "runs/visualize";

    public static int Run(RunSettings settings, string data, string? checkpoint, bool saliency)
    {
        checkpoint ??= Path.Combine(Path.GetDirectoryName(Path.GetFullPath(settings.OutputFolder))!, "lenet", "model.safetensors");
        if (!File.Exists(checkpoint))
        {
            AnsiConsole.MarkupLine($"No checkpoint at [blue]{checkpoint}[/]: training LeNet first.");
            int code = LeNetSample.Run(settings with { OutputFolder = Path.GetDirectoryName(checkpoint)!, LearningRate = LeNetSample.DefaultLearningRate }, data);
            if (code != 0)
            {
                return code;
            }
        }
        var model = LeNetSample.CreateModel(new Generator(settings.Seed));
        model.LoadStateDict(Safetensors.Load(checkpoint));
        model.Eval();
        var test = LeNetSample.TestSet(settings, data);
        var testAccuracy = Classification.Evaluate(model, new DataLoader(test, 500), 10).Accuracy;
        var names = LeNetSample.ClassNames(data);
        // Saliency maps go to their own folder unless --out says otherwise, so they never overwrite the class images.
        var output = new RunOutput(saliency && settings.OutputFolder == DefaultOutput ? "runs/saliency" : settings.OutputFolder);
        var hyperparameters = settings.ToJson();
        hyperparameters["data"] = data;
        hyperparameters["checkpoint"] = Path.GetFullPath(checkpoint);
        hyperparameters["mode"] = saliency ? "saliency" : "class-visualization";

        return saliency
            ? Saliency(model, test, names, output, hyperparameters, testAccuracy)
            : Visualize(model, settings, names, output, hyperparameters, testAccuracy);
    }

    private static int Visualize(Nn.Module model, RunSettings settings, string[] names, RunOutput output, JsonObject hyperparameters, float testAccuracy)
    {
        var options = new ClassVisualizationOptions { LearningRate = settings.LearningRate };
        var generator = new Generator(settings.Seed);
        var results = new List<ClassVisualization>();
        AnsiConsole.Progress().AutoClear(false).Start(context =>
        {
            var task = context.AddTask("Visualizing classes", maxValue: names.Length);
            for (int c = 0; c < names.Length; c++)
            {
                results.Add(ClassVisualizer.Visualize(model, [1, 28, 28], c, options, generator));
                task.Description = $"Visualizing classes: {names[c]} p={results[^1].Probability:F4}";
                task.Increment(1);
            }
        });
        output.WritePng("classes.png", Charts.ImageGrid(
            results.Select(r => r.Image).ToList(),
            results.Select(r => $"{names[r.Class]}  p={r.Probability:F3}").ToList(),
            columns: 5, title: "What LeNet-5 thinks each class looks like"));
        var table = new Table().AddColumns("class", "probability", "steps");
        var classes = new JsonArray();
        foreach (var r in results)
        {
            table.AddRow(names[r.Class], $"{r.Probability:F4}", $"{r.Steps}");
            classes.Add(new JsonObject { ["class"] = names[r.Class], ["probability"] = r.Probability, ["steps"] = r.Steps });
        }
        AnsiConsole.Write(table);
        bool allConfident = results.All(r => r.Probability >= options.TargetProbability);
        output.WriteMetrics("visualize", hyperparameters, new History(), testAccuracy,
            new JsonObject { ["classes"] = classes, ["all_above_0_99"] = allConfident });
        AnsiConsole.MarkupLine($"Wrote classes.png and metrics.json to [blue]{output.Folder}[/]");
        if (!allConfident)
        {
            AnsiConsole.MarkupLine("[red]Some images stayed below probability 0.99; try another --seed, or a better-trained checkpoint.[/]");
            return 3;
        }
        return 0;
    }

    private static int Saliency(Nn.Module model, TensorDataset test, string[] names, RunOutput output, JsonObject hyperparameters, float testAccuracy)
    {
        // The first test image of each class.
        var picks = Enumerable.Range(0, names.Length).Select(c => Array.IndexOf(test.Labels, c)).Where(i => i >= 0).ToArray();
        var images = test.Select(picks);
        var maps = InputGradients.Saliency(model, images.Features, images.Labels);
        var imageList = new List<Tensor>();
        var mapList = new List<Tensor>();
        for (int i = 0; i < picks.Length; i++)
        {
            imageList.Add(Row(images.Features.Reshape(picks.Length, 28, 28), i));
            var map = Row(maps, i);
            float max = map.AsReadOnlySpan().ToArray().Max();
            System.Numerics.Tensors.TensorPrimitives.Divide(map.AsSpan(), max > 0 ? max : 1f, map.AsSpan());
            mapList.Add(map);
        }
        output.WritePng("saliency.png", Charts.ImageGrid(imageList, images.Labels.Select(l => names[l]).ToList(), columns: 5,
            title: "Saliency: |d class score / d pixel| over the input", overlays: mapList));
        output.WriteMetrics("visualize", hyperparameters, new History(), testAccuracy);
        AnsiConsole.MarkupLine($"Wrote saliency.png and metrics.json to [blue]{output.Folder}[/]");
        return 0;
    }

    private static Tensor Row(Tensor stack, int index)
    {
        int h = stack.Shape[^2], w = stack.Shape[^1];
        return Tensor.FromArray(stack.AsReadOnlySpan().Slice(index * h * w, h * w).ToArray(), h, w);
    }
}
