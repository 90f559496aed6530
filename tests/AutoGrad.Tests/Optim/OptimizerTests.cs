using AutoGrad.Nn;
using AutoGrad.Optim;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Optim;

[TestClass]
public sealed class OptimizerTests
{
    private static (Sequential Model, Tensor X, int[] Y) Problem(long seed)
    {
        var g = new Generator(seed);
        return (Mlp.Create([3, 5, 2], generator: g), Tensor.Randn(g, 8, 3), [0, 1, 1, 0, 1, 0, 0, 1]);
    }

    private static void TrainSteps(Module model, Optimizer optimizer, Tensor x, int[] y, int steps)
    {
        for (int i = 0; i < steps; i++)
        {
            optimizer.ZeroGrad();
            F.CrossEntropy(model.Call(x), y).Backward();
            optimizer.Step();
        }
    }

    public static IEnumerable<object[]> Factories()
    {
        yield return [(Func<IEnumerable<Variable>, Optimizer>)(p => new Sgd(p, 0.1f, momentum: 0.9f, nesterov: true)), "SGD"];
        yield return [(Func<IEnumerable<Variable>, Optimizer>)(p => new Adam(p, 0.01f, amsgrad: true)), "Adam"];
        yield return [(Func<IEnumerable<Variable>, Optimizer>)(p => new AdamW(p, 0.01f)), "AdamW"];
        yield return [(Func<IEnumerable<Variable>, Optimizer>)(p => new RmsProp(p, 0.01f, momentum: 0.5f, centered: true)), "RMSprop"];
    }

    [TestMethod]
    [DynamicData(nameof(Factories))]
    public void StateDictResumesExactly(Func<IEnumerable<Variable>, Optimizer> create, string name)
    {
        var (a, x, y) = Problem(1);
        var optA = create(a.Parameters());
        TrainSteps(a, optA, x, y, 3);

        // Clone model and optimizer state, continue both for 4 steps: bitwise equal.
        var (b, _, _) = Problem(2);
        var optB = create(b.Parameters());
        b.LoadStateDict(a.StateDict());
        var saved = new StateDict();
        foreach (var (key, tensor) in optA.StateDict())
        {
            saved.Add(key, tensor.Clone());
        }
        optB.LoadStateDict(saved);
        Assert.AreEqual(optA.Name, name);
        TrainSteps(a, optA, x, y, 4);
        TrainSteps(b, optB, x, y, 4);
        foreach (var ((key, pa), (_, pb)) in a.NamedParameters().Zip(b.NamedParameters()))
        {
            CollectionAssert.AreEqual(pa.Value.ToArray(), pb.Value.ToArray(), $"{name} {key}");
        }
    }

    [TestMethod]
    public void AdamStateIsNamedAfterTheMath()
    {
        var p = new Variable(Tensor.Ones(2), requiresGrad: true);
        var adam = new Adam([p], amsgrad: true);
        F.Sum(p * p).Backward();
        adam.Step();
        var keys = adam.StateDict().Keys.ToArray();
        CollectionAssert.IsSubsetOf(new[] { "state.0.step", "state.0.exp_avg", "state.0.exp_avg_sq", "state.0.max_exp_avg_sq", "param_groups.0.lr" }, keys);
        Assert.AreEqual(1f, adam.StateDict()["state.0.step"].Item());
    }

    [TestMethod]
    public void LoadStateDictRejectsForeignState()
    {
        var p = new Variable(Tensor.Ones(2), requiresGrad: true);
        var adam = new Adam([p]);
        F.Sum(p * p).Backward();
        adam.Step();
        var other = new Adam([new Variable(Tensor.Ones(3), requiresGrad: true)]);
        var e = Assert.ThrowsExactly<ArgumentException>(() => other.LoadStateDict(adam.StateDict()));
        StringAssert.Contains(e.Message, "state.0.exp_avg");
        StringAssert.Contains(e.Message, "[2]");
        var extra = new StateDict();
        foreach (var (k, t) in adam.StateDict())
        {
            extra.Add(k, t);
        }
        extra.Add("state.5.exp_avg", Tensor.Zeros(2));
        e = Assert.ThrowsExactly<ArgumentException>(() => new Adam([p]).LoadStateDict(extra));
        StringAssert.Contains(e.Message, "unexpected key 'state.5.exp_avg'");
    }

    [TestMethod]
    public void StepSkipsParametersWithoutGradient()
    {
        var used = new Variable(Tensor.Ones(2), requiresGrad: true);
        var unused = new Variable(Tensor.Ones(2), requiresGrad: true);
        var sgd = new Sgd([used, unused], 0.5f);
        F.Sum(used * 2f).Backward();
        sgd.Step();
        CollectionAssert.AreEqual(new[] { 0f, 0f }, used.Value.ToArray());
        CollectionAssert.AreEqual(new[] { 1f, 1f }, unused.Value.ToArray());
        sgd.ZeroGrad();
        Assert.IsNull(used.Grad);
    }

    [TestMethod]
    public void GroupsHaveTheirOwnHyperparameters()
    {
        var a = new Variable(Tensor.Ones(1), requiresGrad: true);
        var b = new Variable(Tensor.Ones(1), requiresGrad: true);
        var sgd = new Sgd([new ParamGroup([a]), new ParamGroup([b], learningRate: 0.01f, weightDecay: 1f)], lr: 0.1f);
        F.Sum(a + b).Backward();
        sgd.Step();
        Assert.AreEqual(0.9f, a.Value[0], 1e-7f);
        Assert.AreEqual(1f - 0.01f * 2f, b.Value[0], 1e-7f);
        var scheduler = new StepLr(sgd, stepSize: 1, gamma: 0.5f);
        scheduler.Step();
        CollectionAssert.AreEqual(new[] { 0.05f, 0.005f }, scheduler.LastLearningRates.ToArray());
    }

    [TestMethod]
    public void HyperparametersAreValidated()
    {
        Variable[] p = [new Variable(Tensor.Ones(1), requiresGrad: true)];
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new Sgd(p, -0.1f));
        Assert.ThrowsExactly<ArgumentException>(() => new Sgd(p, 0.1f, nesterov: true));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new Adam(p, beta1: 1f));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new Adam(p, eps: float.NaN));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new RmsProp(p, momentum: -1f));
        Assert.ThrowsExactly<ArgumentException>(() => new Sgd(Array.Empty<Variable>(), 0.1f));
        Assert.ThrowsExactly<ArgumentException>(() => new Sgd([new Variable(Tensor.Ones(1))], 0.1f));
        Assert.ThrowsExactly<ArgumentException>(() => new Sgd([p[0], p[0]], 0.1f));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new StepLr(new Sgd(p, 0.1f), 0));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new CosineAnnealingLr(new Sgd(p, 0.1f), 0));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => GradClip.ClipGradNorm(p, 0f));
    }

    [TestMethod]
    public void SchedulerStateRoundTrips()
    {
        Variable[] p = [new Variable(Tensor.Ones(1), requiresGrad: true)];
        var a = new CosineAnnealingLr(new Sgd(p, 0.1f), 10);
        for (int i = 0; i < 4; i++)
        {
            a.Step();
        }
        var b = new CosineAnnealingLr(new Sgd(p, 0.1f), 10);
        b.LoadStateDict(a.StateDict());
        Assert.AreEqual(4, b.Epoch);
        Assert.AreEqual(a.CurrentLearningRate, b.CurrentLearningRate);
    }
}
