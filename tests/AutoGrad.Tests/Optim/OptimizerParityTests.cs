using System.Text.Json;
using AutoGrad.Optim;
using AutoGrad.Tests.Ops;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Optim;

/// <summary>
/// Ten steps of every optimizer and option on a fixed least-squares problem, and 20 epochs of every schedule, against
/// PyTorch (fixture: tests/reference/generate_optim.py). Gradients come from our own engine, so this checks both.
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
            var k => throw new InvalidDataException($"optim.json: unknown optimizer kind '{k}'."),
        };
    }

    [TestMethod]
    [DynamicData(nameof(ScheduleCases))]
    public void ScheduleMatchesPyTorch(string name)
    {
        var c = Root.GetProperty("schedules").EnumerateArray().Single(e => e.GetProperty("name").GetString() == name);
        var o = c.GetProperty("options");
        float Opt(string key, float fallback) => o.TryGetProperty(key, out var v) ? v.GetSingle() : fallback;
        var optimizer = new Sgd([new Variable(Tensor.Zeros(1), requiresGrad: true)], c.GetProperty("base_lr").GetSingle());
        LrScheduler scheduler = c.GetProperty("kind").GetString() switch
        {
            "constant" => new ConstantLr(optimizer, Opt("factor", 1f / 3f), (int)Opt("total_iters", 5)),
            "exponential" => new ExponentialLr(optimizer, Opt("gamma", 0f)),
            "step" => new StepLr(optimizer, (int)Opt("step_size", 0), Opt("gamma", 0.1f)),
            "cosine" => new CosineAnnealingLr(optimizer, (int)Opt("t_max", 0), Opt("eta_min", 0f)),
            var k => throw new InvalidDataException($"optim.json: unknown schedule kind '{k}'."),
        };
        int epoch = 0;
        foreach (var expected in c.GetProperty("lrs").EnumerateArray())
        {
            Assert.AreEqual(expected.GetDouble(), scheduler.CurrentLearningRate, 1e-7 + 1e-6 * expected.GetDouble(), $"{name} epoch {epoch}");
            Assert.AreEqual(scheduler.CurrentLearningRate, optimizer.LearningRate);
            optimizer.Step();
            scheduler.Step();
            epoch++;
        }
        Assert.AreEqual(20, epoch);
    }
}
