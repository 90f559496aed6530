using System.Globalization;
using AutoGrad.Nn;
using AutoGrad.Optim;

namespace AutoGrad.IO;

/// <summary>
/// Everything needed to resume training exactly, in one safetensors file written atomically: the model's and the
/// optimizer's state dicts, the schedule's position, the states of the random generators that shuffle and drop out,
/// and the number of epochs done. Training resumed from it ends with bitwise the same weights as a run that was
/// never interrupted.
/// </summary>
public static class TrainingCheckpoint
{
    private const string FormatTag = "autograd-training-checkpoint/1";

    /// <summary>Saves the training state after <paramref name="epoch"/> completed epochs.</summary>
    /// <param name="path">The checkpoint file; replaced atomically, so a crash leaves the previous one intact.</param>
    /// <param name="model">The model.</param>
    /// <param name="optimizer">The optimizer (its per-parameter state and learning rates).</param>
    /// <param name="scheduler">The learning-rate schedule, if any.</param>
    /// <param name="epoch">Completed epochs.</param>
    /// <param name="generators">Named generators to restore on load (e.g. the loader's and <see cref="Generator.Default"/>).</param>
    public static void Save(string path, Module model, Optimizer optimizer, LrScheduler? scheduler, int epoch,
        IReadOnlyDictionary<string, Generator>? generators = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        var tensors = new StateDict();
        Add(tensors, "model.", model.StateDict());
        Add(tensors, "optimizer.", optimizer.StateDict());
        if (scheduler is not null)
        {
            Add(tensors, "scheduler.", scheduler.StateDict());
        }
        var metadata = new Dictionary<string, string>
        {
            ["format"] = FormatTag,
            ["epoch"] = epoch.ToString(CultureInfo.InvariantCulture),
        };
        foreach (var (name, generator) in generators ?? new Dictionary<string, Generator>())
        {
            metadata["rng." + name] = string.Join(",", generator.GetState().Select(s => s.ToString("x16", CultureInfo.InvariantCulture)));
        }
        Safetensors.Save(path, tensors, metadata);
    }

    /// <summary>Restores a checkpoint written by <see cref="Save"/> into existing objects; returns the completed epochs.</summary>
    /// <exception cref="InvalidDataException">The file is not a training checkpoint, or is corrupt.</exception>
    public static int Load(string path, Module model, Optimizer optimizer, LrScheduler? scheduler,
        IReadOnlyDictionary<string, Generator>? generators = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        var tensors = Safetensors.Load(path, out var metadata);
        if (!metadata.TryGetValue("format", out var format) || format != FormatTag)
        {
            throw new InvalidDataException($"Training checkpoint '{path}': not a training checkpoint (format '{format ?? "none"}', expected '{FormatTag}').");
        }
        if (!metadata.TryGetValue("epoch", out var epochText) || !int.TryParse(epochText, NumberStyles.None, CultureInfo.InvariantCulture, out int epoch))
        {
            throw new InvalidDataException($"Training checkpoint '{path}': missing or invalid epoch '{epochText}'.");
        }
        var states = new List<(string Name, ulong[] State)>();
        foreach (var (name, generator) in generators ?? new Dictionary<string, Generator>())
        {
            if (!metadata.TryGetValue("rng." + name, out var text))
            {
                throw new InvalidDataException($"Training checkpoint '{path}': no state for generator '{name}'.");
            }
            var parts = text.Split(',');
            var state = new ulong[parts.Length];
            for (int i = 0; i < parts.Length; i++)
            {
                if (!ulong.TryParse(parts[i], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out state[i]))
                {
                    throw new InvalidDataException($"Training checkpoint '{path}': generator '{name}' has an invalid state '{text}'.");
                }
            }
            if (state.Length != 4 || state.All(s => s == 0))
            {
                throw new InvalidDataException($"Training checkpoint '{path}': generator '{name}' needs 4 state words, not all zero; got '{text}'.");
            }
            states.Add((name, state));
        }
        model.LoadStateDict(Part(tensors, "model."));
        optimizer.LoadStateDict(Part(tensors, "optimizer."));
        if (scheduler is not null)
        {
            scheduler.LoadStateDict(Part(tensors, "scheduler."));
        }
        foreach (var (name, state) in states)
        {
            generators![name].SetState(state);
        }
        return epoch;
    }

    private static void Add(StateDict target, string prefix, StateDict source)
    {
        foreach (var (key, tensor) in source)
        {
            target.Add(prefix + key, tensor);
        }
    }

    private static StateDict Part(StateDict all, string prefix)
    {
        var part = new StateDict();
        foreach (var (key, tensor) in all)
        {
            if (key.StartsWith(prefix, StringComparison.Ordinal))
            {
                part.Add(key[prefix.Length..], tensor);
            }
        }
        return part;
    }
}
