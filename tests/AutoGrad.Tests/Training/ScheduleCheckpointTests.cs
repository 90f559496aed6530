using AutoGrad.IO;
using AutoGrad.Nn;
using AutoGrad.Optim;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Training;

/// <summary>
/// The newer optimizers and schedules through TrainingCheckpoint: NAdam under OneCycleLr resumes bitwise like an
/// uninterrupted run (the cycled beta1 included); ReduceLrOnPlateau's own state round-trips and is validated.
/// </summary>
[TestClass]
public sealed class ScheduleCheckpointTests
{
    private sealed class Run
    {
        public Run(long seed)
        {
            Model = Mlp.Create([3, 5, 2], generator: new Generator(seed));
            Optimizer = new NAdam(Model.Parameters(), lr: 0.01f, weightDecay: 0.01f);
            Scheduler = new OneCycleLr(Optimizer, 0.05f, totalSteps: 12, threePhase: true);
        }

        public Sequential Model { get; }

        public NAdam Optimizer { get; }

        public OneCycleLr Scheduler { get; }

        public void Train(int steps)
        {
            for (int i = 0; i < steps; i++)
            {
                Optimizer.ZeroGrad();
                int step = Scheduler.Epoch;
                F.CrossEntropy(Model.Call(Tensor.Randn(new Generator(step), 4, 3)), [0, 1, 1, 0]).Backward();
                Optimizer.Step();
                Scheduler.Step();
            }
        }

        public int[] Bits() => Model.StateDict().Values.SelectMany(t => t.ToArray()).Select(BitConverter.SingleToInt32Bits).ToArray();
    }

    [TestMethod]
    public void NAdamUnderOneCycleResumesBitwiseLikeAnUninterruptedRun()
    {
        var uninterrupted = new Run(1);
        uninterrupted.Train(12);

        var first = new Run(1);
        first.Train(5);
        string path = Path.Combine(TestUtil.TempFolder("onecycle-resume"), "nadam.safetensors");
        TrainingCheckpoint.Save(path, first.Model, first.Optimizer, first.Scheduler, epoch: 5);

        var resumed = new Run(7); // other weights, and a schedule at step 0 with another beta1 until the load
        Assert.AreEqual(5, TrainingCheckpoint.Load(path, resumed.Model, resumed.Optimizer, resumed.Scheduler));
        Assert.AreEqual(first.Optimizer.ParamGroups[0].Momentum, resumed.Optimizer.ParamGroups[0].Momentum, "the cycled beta1 is restored");
        Assert.AreEqual(first.Optimizer.LearningRate, resumed.Optimizer.LearningRate);
        resumed.Train(7);
        CollectionAssert.AreEqual(uninterrupted.Bits(), resumed.Bits(), "resumed NAdam + OneCycleLr ends bitwise equal");
        Assert.ThrowsExactly<InvalidOperationException>(() => resumed.Scheduler.Step(), "the cycle has 12 steps");
    }

    [TestMethod]
    public void AOneCycleCheckpointPastItsStepsIsRejected()
    {
        var run = new Run(1);
        var state = new StateDict();
        state.Add("last_epoch", Tensor.Scalar(13));
        state.Add("base_lrs.0", Tensor.Scalar(0.002f));
        var e = Assert.ThrowsExactly<ArgumentException>(() => run.Scheduler.LoadStateDict(state));
        StringAssert.Contains(e.Message, "last_epoch 13 is past the schedule's 12 steps");
        Assert.AreEqual(0, run.Scheduler.Epoch);
    }

    private static (Sequential Model, Adagrad Optimizer, ReduceLrOnPlateau Scheduler) Plateau(long seed)
    {
        var model = Mlp.Create([3, 2], generator: new Generator(seed));
        var optimizer = new Adagrad(model.Parameters(), lr: 0.1f);
        return (model, optimizer, new ReduceLrOnPlateau(optimizer, factor: 0.5f, patience: 1, cooldown: 2));
    }

    [TestMethod]
    public void ReduceLrOnPlateauRoundTripsThroughACheckpoint()
    {
        var (model, optimizer, plateau) = Plateau(1);
        foreach (float metric in new[] { 1f, 0.9f, 0.95f, 0.95f, 0.97f })
        {
            plateau.Step(metric);
        }
        Assert.AreEqual(0.05f, optimizer.LearningRate, "one cut after two bad epochs");
        string path = Path.Combine(TestUtil.TempFolder("plateau"), "plateau.safetensors");
        TrainingCheckpoint.Save(path, model, optimizer, plateau, epoch: 5);

        var (model2, optimizer2, plateau2) = Plateau(2);
        TrainingCheckpoint.Load(path, model2, optimizer2, plateau2);
        Assert.AreEqual(0.05f, optimizer2.LearningRate);
        Assert.AreEqual((plateau.Epoch, plateau.Best, plateau.BadEpochs, plateau.CooldownCounter),
            (plateau2.Epoch, plateau2.Best, plateau2.BadEpochs, plateau2.CooldownCounter));
        foreach (float metric in new[] { 0.99f, 0.99f, 0.99f, 0.99f })
        {
            plateau.Step(metric);
            plateau2.Step(metric);
            Assert.AreEqual(optimizer.LearningRate, optimizer2.LearningRate);
        }
        Assert.AreEqual(0.025f, optimizer2.LearningRate, "cooldown, then the next cut");
    }

    [TestMethod]
    public void OutOfRangePlateauStateIsRejectedAndChangesNothing()
    {
        var (_, optimizer, plateau) = Plateau(1);
        plateau.Step(1f);
        var good = plateau.StateDict();
        foreach (var (key, value, expected) in new (string, float, string)[]
        {
            ("num_bad_epochs", 5f, "integer in [0, patience 1]"),
            ("cooldown_counter", 0.5f, "integer in [0, cooldown 2]"),
            ("best", float.NaN, "'best' is NaN"),
            ("best", float.NegativeInfinity, "it must be finite, or Infinity before the first step in Min mode"),
        })
        {
            var bad = new StateDict();
            foreach (var (k, t) in good)
            {
                bad.Add(k, k == key ? Tensor.Scalar(value) : t);
            }
            var e = Assert.ThrowsExactly<ArgumentException>(() => plateau.LoadStateDict(bad), key);
            StringAssert.Contains(e.Message, expected);
            Assert.AreEqual(1f, plateau.Best);
            Assert.AreEqual(1, plateau.Epoch);
        }
        var missing = new StateDict();
        missing.Add("last_epoch", Tensor.Scalar(1));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => plateau.LoadStateDict(missing)).Message, "missing or non-scalar 'best'");
        Assert.ThrowsExactly<InvalidOperationException>(() => plateau.Step(), "the plateau schedule needs its metric");
        Assert.AreEqual(0.1f, optimizer.LearningRate);
    }
}
