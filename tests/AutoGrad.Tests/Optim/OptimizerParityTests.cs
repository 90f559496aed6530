using System.Text.Json;
using AutoGrad.Optim;
using AutoGrad.Tests.Ops;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Optim;

/// <summary>
/// Ten steps of every optimizer and option on a fixed least-squares problem (some under a OneCycleLr), and 20 epochs of
/// every schedule (30 steps of OneCycleLr, ReduceLrOnPlateau fed a fixed metric sequence), against PyTorch (fixture:
/// tests/reference/generate_optim.py). Gradients come from our own engine, so this checks both.
/// </summary>
[TestClass]
[TestCategory("Parity")]
public sealed class OptimizerParityTests
{
    private static readonly Lazy<JsonDocument> Fixture = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "optim.json"))));

    private static JsonElement Root => Fixture.Value.RootElement;

    public static IEnumerable<object[]> OptimizerCases()
        => Root.GetProperty("optimizers").EnumerateArray().Select(c => new object[] { c.GetProperty("name").GetString()! });

    public static IEnumerable<object[]> ScheduleCases()
        => Root.GetProperty("schedules").EnumerateArray().Select(c => new object[] { c.GetProperty("name").GetString()! });

    [TestMethod]
    [DynamicData(nameof(OptimizerCases))]
    public void TrajectoryMatchesPyTorch(string name)
    {
        var c = Root.GetProperty("optimizers").EnumerateArray().Single(e => e.GetProperty("name").GetString() == name);
        var problem = Root.GetProperty("problem");
        var x = new Variable(ParityFixture.ReadTensor(problem.GetProperty("x")));
        var y = new Variable(ParityFixture.ReadTensor(problem.GetProperty("y")));
        var w = new Variable(ParityFixture.ReadTensor(problem.GetProperty("weight")), requiresGrad: true);
        var b = new Variable(ParityFixture.ReadTensor(problem.GetProperty("bias")), requiresGrad: true);
        var optimizer = Create(c, w, b);
        float? clip = c.GetProperty("clip").ValueKind == JsonValueKind.Null ? null : c.GetProperty("clip").GetSingle();
        var schedule = c.TryGetProperty("onecycle", out var cycle) ? CreateOneCycle(optimizer, cycle, totalSteps: 10) : null;

        int step = 0;
        foreach (var expected in c.GetProperty("steps").EnumerateArray())
        {
            optimizer.ZeroGrad();
            var loss = F.Mean(F.Pow(F.Linear(x, w, b) - y, 2));
            loss.Backward();
            Assert.AreEqual(expected.GetProperty("loss").GetDouble(), loss.Item(), 1e-5, $"{name} step {step}: loss");
            if (clip is { } maxNorm)
            {
                float norm = GradClip.ClipGradNorm([w, b], maxNorm);
                Assert.AreEqual(expected.GetProperty("norm").GetDouble(), norm, 1e-5, $"{name} step {step}: norm");
            }
            optimizer.Step();
            schedule?.Step();
            TestUtil.AssertClose(ParityFixture.ReadTensor(expected.GetProperty("weight")), w.Value, 1e-5, 0, $"{name} step {step}: weight");
            TestUtil.AssertClose(ParityFixture.ReadTensor(expected.GetProperty("bias")), b.Value, 1e-5, 0, $"{name} step {step}: bias");
            step++;
        }
        Assert.AreEqual(10, step);
    }

    private static Optimizer Create(JsonElement c, Variable w, Variable b)
    {
        var o = c.GetProperty("options");
        float Opt(string key, float fallback) => o.TryGetProperty(key, out var v) ? v.GetSingle() : fallback;
        bool Flag(string key) => o.TryGetProperty(key, out var v) && v.GetBoolean();
        float lr = Opt("lr", 0f);
        IEnumerable<ParamGroup> groups = c.GetProperty("groups").GetBoolean()
            ? [new ParamGroup([w]), new ParamGroup([b], learningRate: lr * 0.1f, weightDecay: 0.2f)]
            : [new ParamGroup([w, b])];
        return c.GetProperty("kind").GetString() switch
        {
            "sgd" => new Sgd(groups, lr, Opt("momentum", 0f), Opt("dampening", 0f), Opt("weight_decay", 0f), Flag("nesterov")),
            "adam" => new Adam(groups, lr, Opt("beta1", 0.9f), Opt("beta2", 0.999f), Opt("eps", 1e-8f), Opt("weight_decay", 0f), Flag("amsgrad")),
            "adamw" => new AdamW(groups, lr, Opt("beta1", 0.9f), Opt("beta2", 0.999f), Opt("eps", 1e-8f), Opt("weight_decay", 1e-2f), Flag("amsgrad")),
            "rmsprop" => new RmsProp(groups, lr, Opt("alpha", 0.99f), Opt("eps", 1e-8f), Opt("weight_decay", 0f), Opt("momentum", 0f), Flag("centered")),
            "adagrad" => new Adagrad(groups, lr, Opt("lr_decay", 0f), Opt("weight_decay", 0f), Opt("initial_accumulator_value", 0f), Opt("eps", 1e-10f), Flag("maximize")),
            "adadelta" => new Adadelta(groups, lr, Opt("rho", 0.9f), Opt("eps", 1e-6f), Opt("weight_decay", 0f), Flag("maximize")),
            "nadam" => new NAdam(groups, lr, Opt("beta1", 0.9f), Opt("beta2", 0.999f), Opt("eps", 1e-8f), Opt("weight_decay", 0f), Opt("momentum_decay", 4e-3f)),
            var k => throw new InvalidDataException($"optim.json: unknown optimizer kind '{k}'."),
        };
    }

    private static OneCycleLr CreateOneCycle(Optimizer optimizer, JsonElement o, int? totalSteps)
    {
        // a value of PyTorch's that may be one for all groups or a list of one per group
        float[]? List(string key) => o.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Array ? v.EnumerateArray().Select(e => e.GetSingle()).ToArray() : null;
        float Opt(string key, float fallback) => o.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetSingle() : fallback;
        int? Int(string key) => o.TryGetProperty(key, out var v) ? v.GetInt32() : null;
        bool Flag(string key, bool fallback) => o.TryGetProperty(key, out var v) ? v.GetBoolean() : fallback;
        var maxRates = List("max_lr") ?? Enumerable.Repeat(Opt("max_lr", 0f), optimizer.ParamGroups.Count).ToArray();
        return new OneCycleLr(optimizer, maxRates, Int("total_steps") ?? totalSteps, Int("epochs"), Int("steps_per_epoch"),
            Opt("pct_start", 0.3f), Flag("linear", false) ? AnnealStrategy.Linear : AnnealStrategy.Cos, Flag("cycle_momentum", true),
            Opt("base_momentum", 0.85f), Opt("max_momentum", 0.95f), Opt("div_factor", 25f), Opt("final_div_factor", 1e4f),
            Flag("three_phase", false), List("base_momentum"), List("max_momentum"));
    }

    // The fixture's LambdaLR lambdas, by name (code cannot travel in JSON).
    private static Func<int, float> Lambda(string name) => name switch
    {
        "power" => e => (float)Math.Pow(0.9, e),
        "warmup" => e => MathF.Min(1f, (e + 1) / 6f),
        _ => throw new InvalidDataException($"optim.json: unknown lambda '{name}'."),
    };

    private static ReduceLrOnPlateau CreatePlateau(Optimizer optimizer, JsonElement o)
    {
        float Opt(string key, float fallback) => o.TryGetProperty(key, out var v) ? v.GetSingle() : fallback;
        string Text(string key, string fallback) => o.TryGetProperty(key, out var v) ? v.GetString()! : fallback;
        return new ReduceLrOnPlateau(optimizer, Text("mode", "min") == "max" ? PlateauMode.Max : PlateauMode.Min, Opt("factor", 0.1f),
            (int)Opt("patience", 10), Opt("threshold", 1e-4f), Text("threshold_mode", "rel") == "abs" ? ThresholdMode.Abs : ThresholdMode.Rel,
            (int)Opt("cooldown", 0), Opt("min_lr", 0f), Opt("eps", 1e-8f));
    }

    [TestMethod]
    [DynamicData(nameof(ScheduleCases))]
    public void ScheduleMatchesPyTorch(string name)
    {
        var c = Root.GetProperty("schedules").EnumerateArray().Single(e => e.GetProperty("name").GetString() == name);
        var o = c.GetProperty("options");
        float Opt(string key, float fallback) => o.TryGetProperty(key, out var v) ? v.GetSingle() : fallback;
        float baseLr = c.GetProperty("base_lr").GetSingle();
        Variable[] p = [new Variable(Tensor.Zeros(1), requiresGrad: true)];
        Optimizer optimizer = c.TryGetProperty("optimizer", out var kind) && kind.GetString() == "adam"
            ? new Adam(p, baseLr)
            : new Sgd(p, baseLr, momentum: c.TryGetProperty("optimizer", out _) ? 0.9f : 0f);
        var metrics = c.TryGetProperty("metrics", out var m) ? m.EnumerateArray().Select(v => v.GetSingle()).ToArray() : null;
        LrScheduler scheduler = c.GetProperty("kind").GetString() switch
        {
            "constant" => new ConstantLr(optimizer, Opt("factor", 1f / 3f), (int)Opt("total_iters", 5)),
            "exponential" => new ExponentialLr(optimizer, Opt("gamma", 0f)),
            "step" => new StepLr(optimizer, (int)Opt("step_size", 0), Opt("gamma", 0.1f)),
            "cosine" => new CosineAnnealingLr(optimizer, (int)Opt("t_max", 0), Opt("eta_min", 0f)),
            "lambda" => new LambdaLr(optimizer, Lambda(o.GetProperty("lambda").GetString()!)),
            "linear" => new LinearLr(optimizer, Opt("start_factor", 1f / 3f), Opt("end_factor", 1f), (int)Opt("total_iters", 5)),
            "onecycle" => CreateOneCycle(optimizer, o, totalSteps: null),
            "plateau" => CreatePlateau(optimizer, o),
            var k => throw new InvalidDataException($"optim.json: unknown schedule kind '{k}'."),
        };
        var momenta = c.TryGetProperty("momenta", out var mo) ? mo.EnumerateArray().Select(v => v.GetDouble()).ToArray() : null;
        int epoch = 0;
        foreach (var expected in c.GetProperty("lrs").EnumerateArray())
        {
            Assert.AreEqual(expected.GetDouble(), scheduler.CurrentLearningRate, 1e-7 + 1e-6 * expected.GetDouble(), $"{name} epoch {epoch}");
            Assert.AreEqual(scheduler.CurrentLearningRate, optimizer.LearningRate);
            if (momenta is not null)
            {
                // Without cycling the group keeps the optimizer's own momentum (beta1 for Adam).
                float momentum = optimizer.ParamGroups[0].Momentum ?? (optimizer is Adam adam ? adam.Beta1 : ((Sgd)optimizer).Momentum);
                Assert.AreEqual(momenta[epoch], momentum, 1e-6, $"{name} epoch {epoch}: momentum");
            }
            if (metrics is not null && epoch == metrics.Length)
            {
                break;
            }
            optimizer.Step();
            if (metrics is not null)
            {
                ((ReduceLrOnPlateau)scheduler).Step(metrics[epoch]);
            }
            else
            {
                scheduler.Step();
            }
            epoch++;
        }
        Assert.AreEqual(metrics?.Length ?? momenta?.Length ?? 20, epoch);
    }
}
