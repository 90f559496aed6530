using System.Text;
using AutoGrad.Data;
using AutoGrad.IO;
using AutoGrad.Nn;
using AutoGrad.Onnx;
using AutoGrad.Onnx.Protos;
using AutoGrad.Optim;

namespace AutoGrad.Fuzz;

/// <summary>
/// One fuzz target per reader, shared by the coverage-guided fuzzer (Program.cs, under libFuzzer) and the test suite
/// (which replays the committed corpus). Each target writes the input to a file, reads it, and fails (throws
/// <see cref="FuzzFailure"/>) when a promise of the README's error table is broken: an exception other than
/// <see cref="InvalidDataException"/> (or, for ONNX, <see cref="NotSupportedException"/>), a message that does not
/// name the file, more bytes allocated than <see cref="Target.BytesPerInputByte"/> times the input plus 1 MiB, or (for
/// training checkpoints) a failed load that changed the model, the optimizer, the schedule or a generator. The ONNX
/// target also runs the loaded graph once (see <see cref="LoadAndRunOnnx"/>).
/// </summary>
public static class FuzzTargets
{
    /// <summary>The readers, by target name.</summary>
    public static IReadOnlyList<string> Names { get; } = ["safetensors", "npy", "idx", "idx-gz", "csv", "cifar10", "checkpoint", "onnx"];

    /// <summary>
    /// A reader under test: its file extension, allocation budget and the read itself; <paramref name="MayBeUnsupported"/>
    /// allows <see cref="NotSupportedException"/> (a valid file using what the reader lacks) besides InvalidDataException.
    /// </summary>
    public sealed record Target(string Name, string Extension, long BytesPerInputByte, Action<string> Read, bool MayBeUnsupported = false);

    /// <summary>
    /// Bytes the current thread allocated outside the read itself (the ONNX target's forward pass, whose size the
    /// graph decides, not the file's length): left out of the allocation budget. Read and reset by <see cref="TakeUnbudgeted"/>.
    /// </summary>
    [ThreadStatic]
    private static long t_unbudgeted;

    /// <summary>Returns the bytes allocated outside the budget since the last call, and starts counting again.</summary>
    public static long TakeUnbudgeted()
    {
        long bytes = t_unbudgeted;
        t_unbudgeted = 0;
        return bytes;
    }

    /// <summary>The target <paramref name="name"/>, whose inputs are written into <paramref name="folder"/>.</summary>
    public static Action<ReadOnlySpan<byte>> Create(string name, string folder)
    {
        var target = Describe(name);
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, "input" + target.Extension);
        return data => Run(target, path, data);
    }

    /// <summary>The target's description (the budgets are the README's documented bounds).</summary>
    public static Target Describe(string name) => name switch
    {
        "safetensors" => new(name, ".safetensors", 32, p => Safetensors.Load(p)),
        "npy" => new(name, ".npy", 48, p => Npy.Load(p).ToTensor()),
        "idx" => new(name, ".idx", 16, p => Idx.Read(p)),
        // At most 100 inflated bytes per compressed byte, at most 8 bytes allocated per inflated byte.
        "idx-gz" => new(name, ".idx.gz", 8 * Idx.DefaultMaxCompressionRatio + 64, p => Idx.Read(p)),
        "csv" => new(name, ".csv", 64, p => Csv.ReadClassification(p)),
        "cifar10" => new(name, ".bin", 8, p => Cifar10.ReadBatch(p)),
        "checkpoint" => new(name, ".safetensors", 48, new CheckpointTarget().Load),
        "onnx" => new(name, ".onnx", 64, LoadAndRunOnnx, MayBeUnsupported: true),
        _ => throw new ArgumentException($"unknown fuzz target '{name}'; targets are {string.Join(", ", Names)}."),
    };

    private static void Run(Target target, string path, ReadOnlySpan<byte> data)
    {
        using (var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read))
        {
            file.Write(data);
        }
        TakeUnbudgeted();
        long before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            target.Read(path);
        }
        catch (InvalidDataException e) when (e.Message.Contains(path, StringComparison.Ordinal))
        {
        }
        catch (NotSupportedException e) when (target.MayBeUnsupported && e.Message.Contains(path, StringComparison.Ordinal))
        {
        }
        catch (FuzzFailure)
        {
            throw;
        }
        catch (Exception e)
        {
            string allowed = target.MayBeUnsupported ? "InvalidDataException or NotSupportedException" : "InvalidDataException";
            throw new FuzzFailure($"{target.Name}: {e.GetType().Name} (only {allowed} naming the file is allowed): {e.Message}", e);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before - TakeUnbudgeted();
        long budget = target.BytesPerInputByte * data.Length + (1 << 20);
        if (allocated > budget)
        {
            throw new FuzzFailure($"{target.Name}: allocated {allocated} bytes for a {data.Length}-byte input (allowed {budget}).");
        }
    }

    /// <summary>
    /// Loads an ONNX model (the part under the allocation budget), then runs it once in eval mode without gradients on
    /// inputs of its declared shapes (a named or missing dim is 1), so that every operator handler sees fuzzed
    /// attributes, constants and input values: the run too may fail only with InvalidDataException or
    /// NotSupportedException naming the file. Inputs of over 4,096 elements or an undeclared rank are not run (the
    /// load alone is checked).
    /// </summary>
    public static void LoadAndRunOnnx(string path)
    {
        var module = OnnxImporter.Load(path);
        long before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            // The loaded file parsed, so it parses again; the importer keeps the declarations internal.
            var bytes = File.ReadAllBytes(path);
            var graph = ModelProto.Parser.ParseFrom(bytes).Graph;
            // The input values follow from the file's bytes (FNV-1a), so the fuzzer varies them as well as the model.
            ulong hash = 14695981039346656037;
            foreach (byte b in bytes)
            {
                hash = (hash ^ b) * 1099511628211;
            }
            var generator = new Generator((long)hash);
            var inputs = new Variable[module.InputNames.Count];
            for (int i = 0; i < inputs.Length; i++)
            {
                var shape = graph.Input.First(input => input.Name == module.InputNames[i]).Type?.TensorType?.Shape;
                if (shape is null)
                {
                    return;
                }
                var dims = shape.Dim.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? d.DimValue : 1).ToArray();
                if (dims.Length > Tensor.MaxRank || dims.Any(d => d is < 0 or > 4096) || dims.Aggregate(1L, (a, d) => Math.Min(a * d, 1L << 20)) > 4096)
                {
                    return;
                }
                // Whole numbers from -3 to 3: valid as floats, as (negative) indices into small axes and as integer inputs.
                var values = Enumerable.Range(0, (int)dims.Aggregate(1L, (a, d) => a * d)).Select(_ => (float)(int)(generator.NextUInt64() % 7) - 3).ToArray();
                inputs[i] = new Variable(dims.Length == 0 ? Tensor.Scalar(values[0]) : Tensor.FromArray(values, [.. dims.Select(d => (int)d)]));
            }
            module.Eval();
            using (GradMode.NoGrad())
            {
                module.Run(inputs);
            }
        }
        finally
        {
            t_unbudgeted += GC.GetAllocatedBytesForCurrentThread() - before;
        }
    }

    /// <summary>Loads checkpoints into one small model, optimizer, schedule and generator; a failed load must change none of them.</summary>
    private sealed class CheckpointTarget
    {
        private readonly Sequential _model = Mlp.Create([3, 4, 2], generator: new Generator(1));
        private readonly Adam _optimizer;
        private readonly StepLr _scheduler;
        private readonly Generator _generator = new(5);

        public CheckpointTarget()
        {
            _optimizer = new Adam(_model.Parameters(), 0.01f);
            _scheduler = new StepLr(_optimizer, stepSize: 1, gamma: 0.5f);
        }

        public void Load(string path)
        {
            string before = Snapshot();
            try
            {
                TrainingCheckpoint.Load(path, _model, _optimizer, _scheduler, new Dictionary<string, Generator> { ["g"] = _generator });
            }
            catch (InvalidDataException)
            {
                if (Snapshot() != before)
                {
                    throw new FuzzFailure("checkpoint: a failed load changed the model, the optimizer, the schedule or the generator.");
                }
                throw;
            }
        }

        // Every bit of the training state, as text (fuzz inputs are tiny, so this is cheap enough).
        private string Snapshot()
        {
            var text = new StringBuilder();
            foreach (var (key, tensor) in _model.StateDict().Concat(_optimizer.StateDict()).Concat(_scheduler.StateDict()))
            {
                text.Append(key).Append(':');
                foreach (float v in tensor.AsReadOnlySpan())
                {
                    text.Append(BitConverter.SingleToInt32Bits(v)).Append(',');
                }
            }
            text.Append(_scheduler.Epoch).Append(string.Join(",", _generator.GetState()));
            return text.ToString();
        }
    }

    /// <summary>Writes one small valid file per target into <paramref name="corpus"/>/{target}/ (the fuzzers' seeds).</summary>
    public static void WriteSeeds(string corpus)
    {
        string Folder(string name) => Directory.CreateDirectory(Path.Combine(corpus, name)).FullName;
        var model = Mlp.Create([3, 4, 2], generator: new Generator(1));
        Safetensors.Save(Path.Combine(Folder("safetensors"), "mlp.safetensors"), model.StateDict(),
            new Dictionary<string, string> { ["format"] = "pt", ["note"] = "seed" });
        Npy.Save(Path.Combine(Folder("npy"), "f4.npy"), Tensor.Randn(new Generator(2), 3, 5));
        Npy.Save(Path.Combine(Folder("npy"), "i8.npy"), new long[] { 1, -2, 3, 4, 5, 6 }, 2, 3);
        File.WriteAllBytes(Path.Combine(Folder("npy"), "fortran-f8.npy"), FortranSeed());
        var pixels = Enumerable.Range(0, 2 * 5 * 4).Select(i => (byte)(i * 7)).ToArray();
        Idx.WriteBytes(Path.Combine(Folder("idx"), "images.idx"), pixels, 2, 5, 4);
        Idx.WriteBytes(Path.Combine(Folder("idx"), "labels.idx"), [3, 1, 4, 1, 5], 5);
        File.WriteAllBytes(Path.Combine(Folder("idx"), "f4.idx"), [0, 0, 0x0D, 1, 0, 0, 0, 2, 0x3F, 0xC0, 0, 0, 0xC0, 0, 0, 0]);
        Idx.WriteBytes(Path.Combine(Folder("idx-gz"), "images.idx.gz"), pixels, 2, 5, 4);
        Idx.WriteBytes(Path.Combine(Folder("idx-gz"), "labels.idx.gz"), [3, 1, 4, 1, 5], 5);
        File.WriteAllText(Path.Combine(Folder("csv"), "named.csv"), "a,b,c,label\n1.5,2,3e2,setosa\n-4,5.25,6,virginica\n7,8,9,setosa\n");
        File.WriteAllText(Path.Combine(Folder("csv"), "quoted.csv"), "\"x, y\",z,class\n\"1\",2,\"say \"\"hi\"\"\"\r\n3,4,b\r\n");
        File.WriteAllText(Path.Combine(Folder("csv"), "numeric.csv"), "2,1.5,-3\n0,2.5,4e1\n\n1,0,0\n");
        var record = new byte[2 * 3073];
        record[0] = 3;
        record[3073] = 9;
        for (int i = 1; i < 3073; i++)
        {
            record[i] = (byte)i;
        }
        File.WriteAllBytes(Path.Combine(Folder("cifar10"), "two-records.bin"), record);
        var optimizer = new Adam(model.Parameters(), 0.01f);
        var scheduler = new StepLr(optimizer, stepSize: 1, gamma: 0.5f);
        F.CrossEntropy(model.Call(Tensor.Randn(new Generator(3), 2, 3)), [0, 1]).Backward();
        optimizer.Step();
        scheduler.Step();
        TrainingCheckpoint.Save(Path.Combine(Folder("checkpoint"), "adam-steplr.safetensors"), model, optimizer, scheduler, epoch: 1,
            new Dictionary<string, Generator> { ["g"] = new Generator(9) });
        foreach (var (file, bytes) in OnnxSeeds())
        {
            File.WriteAllBytes(Path.Combine(Folder("onnx"), file), bytes);
        }
    }

    /// <summary>Small models written by <see cref="OnnxExporter"/> (each under libFuzzer's 16 KiB -max_len).</summary>
    public static IEnumerable<(string File, byte[] Bytes)> OnnxSeeds()
    {
        var g = new Generator(4);
        var cnn = new Sequential(
            new Conv2d(1, 2, 3, padding: 1, generator: g), new BatchNorm2d(2), new ReLU(), new MaxPool2d(2),
            new Flatten(), new Linear(8, 3, generator: g), new LogSoftmax());
        yield return ("cnn.onnx", OnnxExporter.Export(cnn, Tensor.Randn(g, 2, 1, 4, 4)));
        var mlp = new Sequential(new Linear(4, 4, generator: g), new LayerNorm(4), new GELU(), new Dropout(0.5f), new Linear(4, 2, generator: g), new Softmax(1));
        yield return ("mlp.onnx", OnnxExporter.Export(mlp, Tensor.Randn(g, 2, 4)));
        var attention = new MultiheadAttention(4, 2, batchFirst: true, generator: g);
        yield return ("attention.onnx", OnnxExporter.Export(attention, Tensor.Randn(g, 2, 3, 4)));
    }

    private static byte[] FortranSeed()
    {
        string header = "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }";
        header = header.PadRight(64 - 10 - 1) + "\n";
        var bytes = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)header.Length, 0 };
        bytes.AddRange(Encoding.ASCII.GetBytes(header));
        for (int i = 0; i < 6; i++)
        {
            bytes.AddRange(BitConverter.GetBytes((double)i));
        }
        return [.. bytes];
    }
}

/// <summary>A broken promise found by a fuzz target (libFuzzer reports it as a crash).</summary>
public sealed class FuzzFailure(string message, Exception? inner = null) : Exception(message, inner);
