using System.Globalization;
using AutoGrad.Nn;
using AutoGrad.Optim;

namespace AutoGrad.IO;

/// <summary>
/// Everything needed to resume training exactly, in one safetensors file written atomically: the model's and the
/// optimizer's state dicts, the schedule's position and base rates, the states of the random generators that shuffle
/// and drop out, and the number of epochs done. Training resumed from it ends with bitwise the same weights as a run
/// that was never interrupted.
/// </summary>
/// <remarks>
/// Resuming restores what PyTorch's <c>load_state_dict</c> calls restore: each group's current rate (lr), initial_lr
/// and weight decay, every parameter's state (step counts included), the schedule's last_epoch and base_lrs; so the
/// rates the optimizer and the schedule were constructed with do not matter. The other hyperparameters (betas, eps,
/// momentum, ...) are the constructor's, as in the code that resumes. <see cref="Load"/> checks the whole file (the
/// model's keys and shapes, the optimizer's kind, state names, shapes and value ranges, the schedule, the generators)
/// before it changes anything: when it throws, model, optimizer, schedule and generators are exactly as they were.
/// </remarks>
public static class TrainingCheckpoint
{
    private const string FormatTag = "autograd-training-checkpoint/1";
    private const string Format = "training checkpoint";

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
        if (scheduler is not null && !ReferenceEquals(scheduler.Optimizer, optimizer))
        {
            throw new ArgumentException("TrainingCheckpoint.Save: the scheduler belongs to another optimizer.", nameof(scheduler));
        }
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
            ["optimizer"] = optimizer.Name,
        };
        if (scheduler is not null)
        {
            metadata["scheduler"] = scheduler.GetType().Name;
        }
        foreach (var (name, generator) in generators ?? new Dictionary<string, Generator>())
        {
            metadata["rng." + name] = string.Join(",", generator.GetState().Select(s => s.ToString("x16", CultureInfo.InvariantCulture)));
        }
        Safetensors.Save(path, tensors, metadata);
    }

    /// <summary>
    /// Restores a checkpoint written by <see cref="Save"/> into existing objects; returns the completed epochs. All or
    /// nothing: every part is checked first, and a failed load changes nothing.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is not a training checkpoint, is corrupt, or does not fit the
    /// model, the optimizer (another kind, other parameters, state out of range), the schedule or the generators;
    /// the message names the file and every problem.</exception>
    public static int Load(string path, Module model, Optimizer optimizer, LrScheduler? scheduler,
        IReadOnlyDictionary<string, Generator>? generators = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        if (scheduler is not null && !ReferenceEquals(scheduler.Optimizer, optimizer))
        {
            throw new ArgumentException("TrainingCheckpoint.Load: the scheduler belongs to another optimizer.", nameof(scheduler));
        }
        var tensors = Safetensors.Load(path, out var metadata);
        if (!metadata.TryGetValue("format", out var format) || format != FormatTag)
        {
            throw Corrupt.File(path, Format, $"not a training checkpoint (format '{format ?? "none"}', expected '{FormatTag}').");
        }
        if (!metadata.TryGetValue("epoch", out var epochText) || !int.TryParse(epochText, NumberStyles.None, CultureInfo.InvariantCulture, out int epoch))
        {
            throw Corrupt.File(path, Format, $"missing or invalid epoch '{epochText}'.");
        }
        foreach (var key in tensors.Keys)
        {
            if (!key.StartsWith("model.", StringComparison.Ordinal) && !key.StartsWith("optimizer.", StringComparison.Ordinal)
                && !key.StartsWith("scheduler.", StringComparison.Ordinal))
            {
                throw Corrupt.File(path, Format, $"unexpected tensor '{key}' (expected model., optimizer. and scheduler. entries).");
            }
        }
        var states = ReadGenerators(path, metadata, generators);

        var problems = new List<string>();
        var modelState = Part(tensors, "model.");
        CheckModel(model, modelState, problems);
        if (metadata.TryGetValue("optimizer", out var kind) && kind != optimizer.Name)
        {
            problems.Add($"the optimizer was {kind}, not {optimizer.Name}");
        }
        var optimizerState = Part(tensors, "optimizer.");
        var loadOptimizer = optimizer.PrepareLoadStateDict(optimizerState, out var optimizerProblems);
        if (loadOptimizer is null)
        {
            problems.Add($"optimizer: {optimizerProblems}");
        }
        Action? loadScheduler = null;
        var schedulerState = Part(tensors, "scheduler.");
        if (scheduler is not null)
        {
            if (schedulerState.Count == 0)
            {
                problems.Add($"the checkpoint has no schedule state, but a {scheduler.GetType().Name} was given (pass null to keep the saved rates)");
            }
            else if (metadata.TryGetValue("scheduler", out var schedulerKind) && schedulerKind != scheduler.GetType().Name)
            {
                problems.Add($"the schedule was {schedulerKind}, not {scheduler.GetType().Name}");
            }
            else
            {
                var initialRates = Enumerable.Range(0, optimizer.ParamGroups.Count)
                    .Select(g => optimizerState.TryGetValue($"param_groups.{g}.initial_lr", out var t) && t.Length == 1 ? t.AsReadOnlySpan()[0] : 0f)
                    .ToArray();
                loadScheduler = scheduler.PrepareLoadStateDict(schedulerState, initialRates, out var schedulerProblems);
                if (loadScheduler is null)
                {
                    problems.Add($"scheduler: {schedulerProblems}");
                }
            }
        }
        if (problems.Count > 0)
        {
            throw Corrupt.File(path, Format, $"does not fit: {string.Join("; ", problems)}.");
        }

        // Everything was checked: from here on nothing can fail halfway.
        model.LoadStateDict(modelState);
        loadOptimizer!();
        loadScheduler?.Invoke();
        foreach (var (name, state) in states)
        {
            generators![name].SetState(state);
        }
        return epoch;
    }

    // The checks Module.LoadStateDict makes (strict), made before anything is copied: the same keys, each of its parameter's shape.
    private static void CheckModel(Module model, StateDict state, List<string> problems)
    {
        var own = model.StateDict();
        var missing = own.Keys.Where(k => !state.ContainsKey(k)).ToList();
        var unexpected = state.Keys.Where(k => !own.ContainsKey(k)).ToList();
        var mismatched = own.Where(p => state.TryGetValue(p.Key, out var t) && !t.Shape.SequenceEqual(p.Value.Shape))
            .Select(p => $"{p.Key}: checkpoint {Shapes.Format(state[p.Key].Shape)}, model {Shapes.Format(p.Value.Shape)}").ToList();
        if (missing.Count > 0)
        {
            problems.Add($"model: missing keys {string.Join(", ", missing)}");
        }
        if (unexpected.Count > 0)
        {
            problems.Add($"model: unexpected keys {string.Join(", ", unexpected)}");
        }
        if (mismatched.Count > 0)
        {
            problems.Add($"model: shape mismatches {string.Join("; ", mismatched)}");
        }
    }

    private static List<(string Name, ulong[] State)> ReadGenerators(string path, IReadOnlyDictionary<string, string> metadata,
        IReadOnlyDictionary<string, Generator>? generators)
    {
        var states = new List<(string Name, ulong[] State)>();
        foreach (var (name, generator) in generators ?? new Dictionary<string, Generator>())
        {
            ArgumentNullException.ThrowIfNull(generator, name);
            if (!metadata.TryGetValue("rng." + name, out var text))
            {
                throw Corrupt.File(path, Format, $"no state for generator '{name}'.");
            }
            var parts = text.Split(',');
            var state = new ulong[parts.Length];
            for (int i = 0; i < parts.Length; i++)
            {
                if (parts[i].Length is 0 or > 16
                    || !ulong.TryParse(parts[i], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out state[i]))
                {
                    throw Corrupt.File(path, Format, $"generator '{name}' has an invalid state '{Abbreviate(text)}'.");
                }
            }
            if (state.Length != 4 || state.All(s => s == 0))
            {
                throw Corrupt.File(path, Format, $"generator '{name}' needs 4 state words, not all zero; got '{Abbreviate(text)}'.");
            }
            states.Add((name, state));
        }
        return states;
    }

    private static string Abbreviate(string text) => text.Length <= 100 ? text : text[..100] + "...";

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
