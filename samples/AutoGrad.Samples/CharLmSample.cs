using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using AutoGrad.Metrics;
using AutoGrad.Nn;
using AutoGrad.Optim;
using AutoGrad.Samples.Common;
using ScottPlot;
using Spectre.Console;

namespace AutoGrad.Samples;

/// <summary>
/// A character-level transformer (GPT-style: token and position embeddings, pre-norm blocks of causal multi-head
/// self-attention and a GELU MLP, a final norm and a linear head) trained on the State of the Union addresses of
/// 1790-1860 (data/sotu, public domain). Reports the validation loss in bits per character, plots it, and prints a
/// generated sample. Its PyTorch twin, tests/reference/charlm_torch.py, uses the same data, split, batches and recipe.
/// </summary>
public static class CharLmSample
{
    public const int DefaultSteps = 2000;
    public const int DefaultBatch = 32;
    public const float DefaultLearningRate = 1e-3f;

    /// <summary>The model's shape: 4 layers, 4 heads, 128 wide, context 64.</summary>
    public const int Layers = 4, Heads = 4, Width = 128, Context = 64;

    private const int EvalEvery = 200, EvalBatches = 8, SampleLength = 300;

    public static int Run(RunSettings settings)
    {
        string path = Path.Combine(DataSources.FindDataFolder(settings.DataFolder), "sotu", "sotu-1790-1860.txt.gz");
        var corpus = CharCorpus.Load(path);
        var (train, validation) = corpus.Split(0.9);
        var model = new CharTransformer(corpus.Vocabulary.Length, new Generator(settings.Seed));
        var optimizer = new AdamW(model.Parameters(), settings.LearningRate, weightDecay: 0.01f);
        int steps = settings.Epochs, batch = settings.BatchSize;
        AnsiConsole.MarkupLine($"charlm: {corpus.Text.Length:N0} characters ({corpus.Vocabulary.Length} distinct), train {train.Length:N0} / validation {validation.Length:N0}; "
            + $"{Layers} layers, {Heads} heads, width {Width}, context {Context}; {model.Parameters().Sum(p => p.Value.Length):N0} parameters; {steps} steps of {batch}");

        var history = new History();
        var curve = new List<(int Step, double Bits)>();
        var clock = Stopwatch.StartNew();
        double trainSeconds = 0;
        float loss = float.NaN;
        for (int step = 1; step <= steps; step++)
        {
            var started = clock.Elapsed.TotalSeconds;
            var (inputs, targets) = Batches.Take(train, step, batch);
            loss = Train(model, optimizer, inputs, targets);
            trainSeconds += clock.Elapsed.TotalSeconds - started;
            if (step % EvalEvery == 0 || step == steps)
            {
                double bits = Evaluate(model, validation);
                curve.Add((step, bits));
                history.Add(new EpochRecord(step, loss, null, null, null, trainSeconds));
                AnsiConsole.MarkupLine($"  step {step,5}: train {loss / MathF.Log(2):F3} bits/char, validation [bold]{bits:F3}[/] bits/char, {1000 * trainSeconds / step:F1} ms/step");
            }
        }
        double final = curve[^1].Bits;
        string sample = Generate(model, corpus, "The ", SampleLength, new Generator(settings.Seed + 1));
        AnsiConsole.MarkupLine($"Validation loss {final:F3} bits/char after {steps} steps, {1000 * trainSeconds / steps:F1} ms per training step");
        AnsiConsole.WriteLine(sample);

        var output = new RunOutput(settings.OutputFolder);
        output.WritePng("validation.png", Plot(curve));
        File.WriteAllText(Path.Combine(output.Folder, "sample.txt"), sample);
        var hyperparameters = settings.ToJson();
        hyperparameters["layers"] = Layers;
        hyperparameters["heads"] = Heads;
        hyperparameters["width"] = Width;
        hyperparameters["context"] = Context;
        hyperparameters["optimizer"] = "AdamW, weight decay 0.01";
        output.WriteMetrics("charlm", hyperparameters, history, null, new JsonObject
        {
            ["validation_bits_per_char"] = final,
            ["ms_per_step"] = Math.Round(1000 * trainSeconds / steps, 2),
            ["train_seconds"] = Math.Round(trainSeconds, 2),
        });
        AnsiConsole.MarkupLine($"Wrote metrics.json, validation.png and sample.txt to [blue]{output.Folder}[/]");
        return 0;
    }

    private static float Train(CharTransformer model, Optimizer optimizer, Tensor inputs, int[] targets)
    {
        var logits = model.Call(new Variable(inputs));
        var loss = F.CrossEntropy(F.Reshape(logits, -1, logits.Shape[^1]), targets);
        optimizer.ZeroGrad();
        loss.Backward();
        optimizer.Step();
        return loss.Item();
    }

    /// <summary>The mean validation loss in bits per character over fixed batches.</summary>
    private static double Evaluate(CharTransformer model, int[] validation)
    {
        model.Eval();
        double total = 0;
        using (GradMode.NoGrad())
        {
            for (int b = 0; b < EvalBatches; b++)
            {
                var (inputs, targets) = Batches.Take(validation, -(b + 1), DefaultBatch);
                var logits = model.Call(new Variable(inputs));
                total += F.CrossEntropy(F.Reshape(logits, -1, logits.Shape[^1]), targets).Item();
            }
        }
        model.Train();
        return total / EvalBatches / Math.Log(2);
    }

    private static string Generate(CharTransformer model, CharCorpus corpus, string prompt, int length, Generator generator)
    {
        var tokens = prompt.Select(c => corpus.Index(c)).ToList();
        model.Eval();
        using (GradMode.NoGrad())
        {
            for (int i = 0; i < length; i++)
            {
                var window = tokens.Skip(Math.Max(0, tokens.Count - Context)).Select(t => (float)t).ToArray();
                var logits = model.Call(new Variable(Tensor.FromArray(window, 1, window.Length))).Value;
                var last = logits.AsReadOnlySpan().Slice((window.Length - 1) * corpus.Vocabulary.Length, corpus.Vocabulary.Length);
                tokens.Add(SampleFrom(last, generator));
            }
        }
        model.Train();
        return new string(tokens.Select(t => corpus.Vocabulary[t]).ToArray());
    }

    private static int SampleFrom(ReadOnlySpan<float> logits, Generator generator)
    {
        float max = float.NegativeInfinity;
        foreach (float v in logits)
        {
            max = MathF.Max(max, v);
        }
        var weights = new double[logits.Length];
        double sum = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            sum += weights[i] = Math.Exp(logits[i] - max);
        }
        double pick = generator.NextDouble() * sum;
        for (int i = 0; i < weights.Length; i++)
        {
            if ((pick -= weights[i]) <= 0)
            {
                return i;
            }
        }
        return weights.Length - 1;
    }

    private static byte[] Plot(List<(int Step, double Bits)> curve)
    {
        var plot = new Plot();
        var line = plot.Add.Scatter(curve.Select(c => (double)c.Step).ToArray(), curve.Select(c => c.Bits).ToArray());
        line.LegendText = "validation";
        plot.Title("charlm: validation loss");
        plot.XLabel("step");
        plot.YLabel("bits per character");
        return plot.GetImageBytes(800, 500, ImageFormat.Png);
    }
}

/// <summary>A text as character indices, its sorted vocabulary, and a split into training and validation parts.</summary>
public sealed class CharCorpus
{
    private readonly Dictionary<char, int> _index;

    private CharCorpus(string text)
    {
        Text = text;
        Vocabulary = [.. text.Distinct().Order()];
        _index = Vocabulary.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i);
        Encoded = [.. text.Select(c => _index[c])];
    }

    public string Text { get; }

    public char[] Vocabulary { get; }

    public int[] Encoded { get; }

    public int Index(char c) => _index.TryGetValue(c, out int i) ? i : 0;

    /// <summary>Reads a gzip-compressed ASCII text.</summary>
    public static CharCorpus Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"charlm: the text {path} is missing; rebuild it with bash data/sotu/get-sotu.sh.", path);
        }
        using var gzip = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var reader = new StreamReader(gzip, Encoding.ASCII);
        return new CharCorpus(reader.ReadToEnd());
    }

    /// <summary>The first <paramref name="fraction"/> of the text for training, the rest for validation.</summary>
    public (int[] Train, int[] Validation) Split(double fraction)
    {
        int cut = (int)(Encoded.Length * fraction);
        return (Encoded[..cut], Encoded[cut..]);
    }
}

/// <summary>
/// Batches of windows whose start offsets come from a fixed integer hash of (step, row), the same in the PyTorch twin,
/// so both sides see the same characters in the same order.
/// </summary>
public static class Batches
{
    public static (Tensor Inputs, int[] Targets) Take(int[] data, int step, int batch)
    {
        var inputs = new float[batch * CharLmSample.Context];
        var targets = new int[batch * CharLmSample.Context];
        int span = data.Length - CharLmSample.Context - 1;
        for (int row = 0; row < batch; row++)
        {
            int start = (int)(Hash((ulong)(uint)step * 1_000_003UL + (ulong)row) % (ulong)span);
            for (int t = 0; t < CharLmSample.Context; t++)
            {
                inputs[row * CharLmSample.Context + t] = data[start + t];
                targets[row * CharLmSample.Context + t] = data[start + t + 1];
            }
        }
        return (Tensor.FromArray(inputs, batch, CharLmSample.Context), targets);
    }

    /// <summary>splitmix64's finalizer.</summary>
    public static ulong Hash(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }
}

/// <summary>The GPT-style model of the sample, a Module of its own as a PyTorch user writes it.</summary>
public sealed class CharTransformer : Module
{
    private readonly Embedding _tokens, _positions;
    private readonly Sequential _blocks;
    private readonly LayerNorm _final;
    private readonly Linear _head;

    public CharTransformer(int vocabulary, Generator generator)
    {
        _tokens = RegisterModule("tok_emb", new Embedding(vocabulary, CharLmSample.Width, generator: generator));
        _positions = RegisterModule("pos_emb", new Embedding(CharLmSample.Context, CharLmSample.Width, generator: generator));
        _blocks = RegisterModule("blocks", new Sequential([.. Enumerable.Range(0, CharLmSample.Layers).Select(_ => (Module)new Block(generator))]));
        _final = RegisterModule("ln_f", new LayerNorm(CharLmSample.Width));
        _head = RegisterModule("head", new Linear(CharLmSample.Width, vocabulary, generator: generator));
    }

    public override Variable Forward(Variable input)
    {
        int length = input.Shape[1];
        var positions = Tensor.Arange(length);
        var x = _tokens.Call(input) + _positions.Call(new Variable(positions));
        return _head.Call(_final.Call(_blocks.Call(x)));
    }

    /// <summary>Pre-norm block: x + attention(norm(x)), then x + mlp(norm(x)).</summary>
    private sealed class Block : Module
    {
        private readonly LayerNorm _norm1, _norm2;
        private readonly Linear _qkv, _projection, _up, _down;

        public Block(Generator generator)
        {
            int w = CharLmSample.Width;
            _norm1 = RegisterModule("ln1", new LayerNorm(w));
            _qkv = RegisterModule("qkv", new Linear(w, 3 * w, generator: generator));
            _projection = RegisterModule("proj", new Linear(w, w, generator: generator));
            _norm2 = RegisterModule("ln2", new LayerNorm(w));
            _up = RegisterModule("fc1", new Linear(w, 4 * w, generator: generator));
            _down = RegisterModule("fc2", new Linear(4 * w, w, generator: generator));
        }

        public override Variable Forward(Variable x)
        {
            int batch = x.Shape[0], length = x.Shape[1], w = CharLmSample.Width, heads = CharLmSample.Heads;
            var qkv = F.Reshape(_qkv.Call(_norm1.Call(x)), batch, length, 3, heads, w / heads);
            Variable Part(int i) => F.Permute(F.Reshape(F.Slice(qkv, 2, i, i + 1), batch, length, heads, w / heads), 0, 2, 1, 3);
            var attended = F.ScaledDotProductAttention(Part(0), Part(1), Part(2), isCausal: true);
            var merged = F.Reshape(F.Permute(attended, 0, 2, 1, 3), batch, length, w);
            x = x + _projection.Call(merged);
            return x + _down.Call(F.Gelu(_up.Call(_norm2.Call(x)), GeluApproximation.Tanh));
        }
    }
}
