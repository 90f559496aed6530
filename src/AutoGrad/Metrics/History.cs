using System.Text.Json;
using System.Text.Json.Serialization;

namespace AutoGrad.Metrics;

/// <summary>What one training epoch measured; accuracies and validation loss are null when not measured.</summary>
public sealed record EpochRecord(
    [property: JsonPropertyName("epoch")] int Epoch,
    [property: JsonPropertyName("train_loss")] float TrainLoss,
    [property: JsonPropertyName("train_accuracy")] float? TrainAccuracy,
    [property: JsonPropertyName("val_loss")] float? ValidationLoss,
    [property: JsonPropertyName("val_accuracy")] float? ValidationAccuracy,
    [property: JsonPropertyName("seconds")] double Seconds);

/// <summary>The per-epoch record of a training run (Keras' History): losses, accuracies and wall time.</summary>
public sealed class History
{
    private readonly List<EpochRecord> _epochs = [];

    /// <summary>The epochs recorded so far, in order.</summary>
    public IReadOnlyList<EpochRecord> Epochs => _epochs;

    /// <summary>Appends an epoch.</summary>
    public void Add(EpochRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        _epochs.Add(record);
    }

    /// <summary>The total training seconds.</summary>
    public double TotalSeconds => _epochs.Sum(e => e.Seconds);

    /// <summary>The epochs as a JSON array of objects with snake_case keys (epoch, train_loss, val_accuracy, seconds, ...).</summary>
    public string ToJson() => JsonSerializer.Serialize(_epochs, new JsonSerializerOptions { WriteIndented = true });
}
