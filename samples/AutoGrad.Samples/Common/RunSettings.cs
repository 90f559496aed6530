using System.Text.Json.Nodes;

namespace AutoGrad.Samples.Common;

/// <summary>The options every command takes: --epochs, --batch-size, --lr, --seed, --out, plus where data lives.</summary>
public sealed record RunSettings(int Epochs, int BatchSize, float LearningRate, long Seed, string OutputFolder, string? DataFolder, int? Limit)
{
    /// <summary>The hyperparameters as the "hyperparameters" object of metrics.json.</summary>
    public JsonObject ToJson() => new()
    {
        ["epochs"] = Epochs,
        ["batch_size"] = BatchSize,
        ["lr"] = LearningRate,
        ["seed"] = Seed,
        ["limit"] = Limit,
    };
}
