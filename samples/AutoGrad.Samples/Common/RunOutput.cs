using System.Text.Json;
using System.Text.Json.Nodes;
using AutoGrad.IO;
using AutoGrad.Metrics;
using AutoGrad.Nn;

namespace AutoGrad.Samples.Common;

/// <summary>
/// Everything a command writes goes through here, atomically (temporary file + rename), so the output folder never
/// holds a half-written file: metrics.json, PNG charts and safetensors checkpoints.
/// </summary>
public sealed class RunOutput
{
    public RunOutput(string folder)
    {
        Folder = Path.GetFullPath(folder);
        Directory.CreateDirectory(Folder);
    }

    public string Folder { get; }

    public string PathOf(string fileName) => Path.Combine(Folder, fileName);

    /// <summary>Writes metrics.json with the keys command, hyperparameters, epochs, test_accuracy and any extras.</summary>
    public void WriteMetrics(string command, JsonObject hyperparameters, History history, float? testAccuracy, JsonObject? extra = null)
    {
        var epochs = new JsonArray();
        foreach (var e in history.Epochs)
        {
            epochs.Add(new JsonObject
            {
                ["epoch"] = e.Epoch,
                ["train_loss"] = e.TrainLoss,
                ["train_accuracy"] = e.TrainAccuracy,
                ["val_loss"] = e.ValidationLoss,
                ["val_accuracy"] = e.ValidationAccuracy,
                ["seconds"] = Math.Round(e.Seconds, 3),
            });
        }
        var root = new JsonObject
        {
            ["command"] = command,
            ["hyperparameters"] = hyperparameters,
            ["epochs"] = epochs,
            ["test_accuracy"] = testAccuracy,
            ["total_seconds"] = Math.Round(history.TotalSeconds, 3),
        };
        foreach (var (key, value) in extra ?? [])
        {
            root[key] = value?.DeepClone();
        }
        AtomicFile.WriteAllText(PathOf("metrics.json"), root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    /// <summary>Saves the model's parameters as model.safetensors (loadable by PyTorch's safetensors).</summary>
    public string SaveModel(Module model, string fileName = "model.safetensors")
    {
        string path = PathOf(fileName);
        Safetensors.Save(path, model.StateDict());
        return path;
    }

    /// <summary>Writes the model's test-set logits (logits.npy, float32 [N, classes]) and classes (predictions.npy, int32 [N]) for Python users.</summary>
    public void SavePredictions(Module model, Data.TensorDataset test)
    {
        var logits = Classification.Predict(model, new Data.DataLoader(test, 500));
        Npy.Save(PathOf("logits.npy"), logits);
        Npy.Save(PathOf("predictions.npy"), Classification.ArgMax(logits));
    }

    public void WritePng(string fileName, byte[] png) => AtomicFile.Write(PathOf(fileName), s => s.Write(png));
}
