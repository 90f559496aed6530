using AutoGrad.Nn;
using AutoGrad.Optim;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Optim;

/// <summary>Optimizer and schedule state is checked when loaded, hyperparameters when set, and resuming restores PyTorch's state.</summary>
[TestClass]
public sealed class StateLoadingTests
{
    private static Variable[] Parameters() => [new Variable(Tensor.FromArray([1f, -2f], 2), requiresGrad: true)];

    private static StateDict Stepped(Optimizer optimizer, int steps = 2)
    {
        for (int i = 0; i < steps; i++)
        {
            optimizer.ZeroGrad();
            var p = optimizer.ParamGroups[0].Parameters[0];
            F.Sum(p * p).Backward();
            optimizer.Step();
        }
        var copy = new StateDict();
        foreach (var (key, tensor) in optimizer.StateDict())
        {
            copy.Add(key, tensor.Clone());
        }
        return copy;
    }

    private static StateDict With(StateDict state, string key, Tensor? value, string? renameTo = null)
    {
        var result = new StateDict();
        foreach (var (k, t) in state)
        {
            if (k != key)
            {
                result.Add(k, t);
            }
            else if (value is not null || renameTo is not null)
            {
                result.Add(renameTo ?? k, value ?? t);
            }
        }
        return result;
    }

    private static string Fingerprint(Optimizer optimizer)
        => string.Join(";", optimizer.StateDict().Select(kv => kv.Key + "=" + string.Join(",", kv.Value.ToArray().Select(BitConverter.SingleToInt32Bits))));

    private static void AssertRejectedAndUnchanged(Optimizer target, StateDict state, string expected)
    {
        string before = Fingerprint(target);
        var e = Assert.ThrowsExactly<ArgumentException>(() => target.LoadStateDict(state));
        StringAssert.Contains(e.Message, expected);
        Assert.AreEqual(before, Fingerprint(target), "a rejected load changes nothing");
    }

    public static IEnumerable<object[]> EveryOptimizer =>
    [
        ["Sgd", (Func<Variable[], Optimizer>)(p => new Sgd(p, 0.1f))],
        ["Sgd momentum", (Func<Variable[], Optimizer>)(p => new Sgd(p, 0.1f, momentum: 0.9f, weightDecay: 0.01f))],
        ["Sgd Nesterov", (Func<Variable[], Optimizer>)(p => new Sgd(p, 0.1f, momentum: 0.9f, nesterov: true))],
        ["RmsProp", (Func<Variable[], Optimizer>)(p => new RmsProp(p))],
        ["RmsProp centered momentum", (Func<Variable[], Optimizer>)(p => new RmsProp(p, momentum: 0.5f, centered: true))],
        ["Adam", (Func<Variable[], Optimizer>)(p => new Adam(p))],
        ["Adam amsgrad", (Func<Variable[], Optimizer>)(p => new Adam(p, amsgrad: true))],
        ["AdamW", (Func<Variable[], Optimizer>)(p => new AdamW(p))],
        ["Adagrad", (Func<Variable[], Optimizer>)(p => new Adagrad(p, lrDecay: 0.1f, initialAccumulatorValue: 0.5f))],
        ["Adadelta", (Func<Variable[], Optimizer>)(p => new Adadelta(p, weightDecay: 0.1f))],
        ["NAdam", (Func<Variable[], Optimizer>)(p => new NAdam(p))],
    ];

    // The state names each optimizer declares must be exactly what it keeps: its own state always loads back, and the
    // loaded copy continues bitwise like the original.
    [TestMethod]
    [DynamicData(nameof(EveryOptimizer))]
    public void EveryOptimizersOwnStateLoadsBackAndContinuesBitwise(string name, Func<Variable[], Optimizer> create)
    {
        var original = create(Parameters());
        var state = Stepped(original, 3);
        var resumed = create(Parameters());
        resumed.ParamGroups[0].Parameters[0].Value.AsSpan().Clear();
        original.ParamGroups[0].Parameters[0].Value.AsSpan().CopyTo(resumed.ParamGroups[0].Parameters[0].Value.AsSpan());
        resumed.LoadStateDict(state);
        Assert.AreEqual(Fingerprint(original), Fingerprint(resumed), name);
        Stepped(original, 2);
        Stepped(resumed, 2);
        CollectionAssert.AreEqual(
            original.ParamGroups[0].Parameters[0].Value.ToArray().Select(BitConverter.SingleToInt32Bits).ToArray(),
            resumed.ParamGroups[0].Parameters[0].Value.ToArray().Select(BitConverter.SingleToInt32Bits).ToArray(), name);
        // A never-stepped optimizer's (empty) state loads too.
        create(Parameters()).LoadStateDict(create(Parameters()).StateDict());
    }

    [TestMethod]
    public void AnotherOptimizersStateIsRejected()
    {
        var sgd = Stepped(new Sgd(Parameters(), 0.1f, momentum: 0.9f));
        var rmsprop = Stepped(new RmsProp(Parameters()));
        var adam = new Adam(Parameters());
        Stepped(adam, 1);
        AssertRejectedAndUnchanged(adam, sgd, "unexpected key 'state.0.momentum_buffer' (Adam keeps step, exp_avg, exp_avg_sq)");
        AssertRejectedAndUnchanged(adam, rmsprop, "unexpected key 'state.0.square_avg'");
        AssertRejectedAndUnchanged(new Adam(Parameters(), amsgrad: true), Stepped(new Adam(Parameters())), "lacks max_exp_avg_sq");
    }

    [TestMethod]
    public void RenamedOrMissingStateIsRejected()
    {
        var state = Stepped(new Adam(Parameters()));
        var adam = new Adam(Parameters());
        AssertRejectedAndUnchanged(adam, With(state, "state.0.exp_avg", null, renameTo: "state.0.exp_avg_renamed"), "unexpected key 'state.0.exp_avg_renamed'");
        AssertRejectedAndUnchanged(adam, With(state, "state.0.step", null), "parameter 0 has state exp_avg, exp_avg_sq but lacks step");
        AssertRejectedAndUnchanged(adam, With(state, "param_groups.0.initial_lr", null), "missing or non-scalar 'param_groups.0.initial_lr'");
    }

    [TestMethod]
    [DataRow("param_groups.0.lr", float.NaN, "must be finite and >= 0")]
    [DataRow("param_groups.0.lr", -1f, "must be finite and >= 0")]
    [DataRow("param_groups.0.lr", float.PositiveInfinity, "must be finite and >= 0")]
    [DataRow("param_groups.0.weight_decay", float.NaN, "must be finite and >= 0")]
    [DataRow("param_groups.0.initial_lr", -0.5f, "must be finite and >= 0")]
    [DataRow("state.0.step", -3f, "a step count is an integer")]
    [DataRow("state.0.step", 0.5f, "a step count is an integer")]
    public void OutOfRangeScalarsAreRejected(string key, float value, string expected)
    {
        var state = Stepped(new Adam(Parameters()));
        AssertRejectedAndUnchanged(new Adam(Parameters()), With(state, key, Tensor.Scalar(value)), $"'{key}'");
        AssertRejectedAndUnchanged(new Adam(Parameters()), With(state, key, Tensor.Scalar(value)), expected);
    }

    [TestMethod]
    public void NegativeOrNonFiniteMomentsAreRejected()
    {
        var state = Stepped(new Adam(Parameters()));
        AssertRejectedAndUnchanged(new Adam(Parameters()), With(state, "state.0.exp_avg_sq", Tensor.FromArray([0.1f, -0.1f], 2)),
            "'state.0.exp_avg_sq' holds -0.1 at element 1; it must be finite and >= 0");
        AssertRejectedAndUnchanged(new Adam(Parameters()), With(state, "state.0.exp_avg", Tensor.FromArray([float.NaN, 0f], 2)),
            "'state.0.exp_avg' holds NaN at element 0");
    }

    [TestMethod]
    public void HyperparametersAreValidatedWhenSet()
    {
        var group = new Sgd(Parameters(), 0.1f).ParamGroups[0];
        foreach (float bad in new[] { float.NaN, -1f, float.PositiveInfinity })
        {
            Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => group.LearningRate = bad);
            Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => group.WeightDecay = bad);
        }
        Assert.AreEqual(0.1f, group.LearningRate);
        group.LearningRate = 0f;
        Assert.AreEqual(0f, group.LearningRate);
    }

    [TestMethod]
    public void ResumingRestoresTheSavedBaseRatesNotTheConstructorsOnes()
    {
        // Saved: lr 0.01, halved each epoch, after one epoch (0.005). Resumed into an optimizer built with lr 0.5.
        var first = new Adam(Parameters(), lr: 0.01f);
        var firstSchedule = new StepLr(first, stepSize: 1, gamma: 0.5f);
        var optimizerState = Stepped(first);
        firstSchedule.Step();
        optimizerState = Stepped(first, 0);
        var scheduleState = firstSchedule.StateDict();

        var resumed = new Adam(Parameters(), lr: 0.5f);
        var schedule = new StepLr(resumed, stepSize: 1, gamma: 0.5f);
        resumed.LoadStateDict(optimizerState);
        schedule.LoadStateDict(scheduleState);
        Assert.AreEqual(0.005f, resumed.LearningRate);
        CollectionAssert.AreEqual(new[] { 0.01f }, schedule.BaseLearningRates.ToArray());
        schedule.Step();
        Assert.AreEqual(0.0025f, resumed.LearningRate, "the next epoch continues the saved schedule (was 0.25)");

        // A schedule state saved before base_lrs were kept takes them from the optimizer's restored initial_lr.
        var old = new Adam(Parameters(), lr: 0.5f);
        var oldSchedule = new StepLr(old, stepSize: 1, gamma: 0.5f);
        old.LoadStateDict(optimizerState);
        var lastEpochOnly = new StateDict();
        lastEpochOnly.Add("last_epoch", Tensor.Scalar(1));
        oldSchedule.LoadStateDict(lastEpochOnly);
        Assert.AreEqual(0.005f, old.LearningRate);
    }

    [TestMethod]
    public void ScheduleStateIsCheckedBeforeItIsApplied()
    {
        var sgd = new Sgd(Parameters(), 0.1f);
        var schedule = new ExponentialLr(sgd, 0.5f);
        var state = new StateDict();
        state.Add("last_epoch", Tensor.Scalar(2.5f));
        state.Add("base_lrs.0", Tensor.Scalar(-1f));
        var e = Assert.ThrowsExactly<ArgumentException>(() => schedule.LoadStateDict(state));
        StringAssert.Contains(e.Message, "last_epoch");
        StringAssert.Contains(e.Message, "'base_lrs.0' is -1");
        Assert.AreEqual(0, schedule.Epoch);
        Assert.AreEqual(0.1f, sgd.LearningRate);
    }
}
