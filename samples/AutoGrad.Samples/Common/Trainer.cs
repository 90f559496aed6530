using System.Diagnostics;
using AutoGrad.Data;
using AutoGrad.Metrics;
using AutoGrad.Nn;
using AutoGrad.Optim;
using Spectre.Console;

namespace AutoGrad.Samples.Common;

/// <summary>
/// The epoch loop every sample shares: a pass over the training loader (forward, cross-entropy, backward, step) with a
/// live progress bar showing the running loss and accuracy, then an evaluation on the validation loader.
/// </summary>
public static class Trainer
{
    /// <remarks>
    /// <paramref name="scheduler"/> steps after every epoch, <paramref name="batchScheduler"/> after every optimizer step
    /// (OneCycleLr); <paramref name="augment"/> changes each training batch's features in place before the forward.
    /// </remarks>
    public static History Fit(Module model, Optimizer optimizer, DataLoader train, DataLoader validation, int epochs, int classes,
        string label, LrScheduler? scheduler = null, LrScheduler? batchScheduler = null, float labelSmoothing = 0f, Action<Tensor>? augment = null)
    {
        var history = new History();
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(context =>
            {
                for (int epoch = 1; epoch <= epochs; epoch++)
                {
                    var task = context.AddTask($"{label} epoch {epoch}/{epochs}", maxValue: train.BatchCount);
                    var record = RunEpoch(model, optimizer, train, validation, epoch, classes, (loss, accuracy) =>
                    {
                        task.Description = $"{label} epoch {epoch}/{epochs}  loss {loss:F4}  acc {accuracy:P1}";
                        task.Increment(1);
                    }, batchScheduler, labelSmoothing, augment);
                    scheduler?.Step();
                    task.Description = $"{label} epoch {epoch}/{epochs}  loss {record.TrainLoss:F4}  val acc {record.ValidationAccuracy:P2}  {record.Seconds:F1}s";
                    task.StopTask();
                    history.Add(record);
                }
            });
        return history;
    }

    /// <summary>One epoch: trains on every batch, then measures the validation set. Seconds cover the training pass only.</summary>
    public static EpochRecord RunEpoch(Module model, Optimizer optimizer, DataLoader train, DataLoader validation, int epoch, int classes,
        Action<float, float>? onBatch = null, LrScheduler? batchScheduler = null, float labelSmoothing = 0f, Action<Tensor>? augment = null)
    {
        model.Train();
        var clock = Stopwatch.StartNew();
        double lossSum = 0;
        long correct = 0, seen = 0;
        foreach (var batch in train)
        {
            optimizer.ZeroGrad(setToNull: false); // zeroed in place: no new gradient buffers per step
            augment?.Invoke(batch.Features);
            var logits = model.Call(batch.Features);
            var loss = F.CrossEntropy(logits, batch.Labels, labelSmoothing: labelSmoothing);
            loss.Backward();
            optimizer.Step();
            batchScheduler?.Step();
            lossSum += loss.Item() * batch.Count;
            correct += Classification.CountCorrect(Classification.ArgMax(logits.Value), batch.Labels);
            seen += batch.Count;
            onBatch?.Invoke((float)(lossSum / seen), (float)correct / seen);
        }
        double seconds = clock.Elapsed.TotalSeconds;
        var result = Classification.Evaluate(model, validation, classes);
        return new EpochRecord(epoch, (float)(lossSum / seen), (float)correct / seen, result.Loss, result.Accuracy, seconds);
    }
}
