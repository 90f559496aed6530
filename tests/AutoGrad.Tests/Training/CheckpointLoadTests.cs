using AutoGrad.IO;
using AutoGrad.Nn;
using AutoGrad.Optim;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Training;

/// <summary>TrainingCheckpoint.Load is all or nothing and throws only InvalidDataException for a file that does not fit.</summary>
[TestClass]
public sealed class CheckpointLoadTests
{
    private sealed class Setup
    {
        public Setup(long seed, int hidden = 4, bool adamW = false)
        {
            Model = Mlp.Create([3, hidden, 2], generator: new Generator(seed));
            Optimizer = adamW ? new AdamW(Model.Parameters(), 0.01f) : new Adam(Model.Parameters(), 0.01f);
            Scheduler = new StepLr(Optimizer, stepSize: 1, gamma: 0.5f);
            Rng = new Generator(seed + 100);
            Optimizer.ZeroGrad();
            F.CrossEntropy(Model.Call(Tensor.Randn(new Generator(seed + 1), 4, 3)), [0, 1, 1, 0]).Backward();
            Optimizer.Step();
            Scheduler.Step();
        }

        public Sequential Model { get; }

        public Adam Optimizer { get; }

        public StepLr Scheduler { get; }

        public Generator Rng { get; }

        public Dictionary<string, Generator> Generators => new() { ["rng"] = Rng };

        // Every bit of the state a load could change.
        public string Fingerprint() => string.Join(";",
            Model.StateDict().Concat(Optimizer.StateDict()).Concat(Scheduler.StateDict())
                .Select(kv => kv.Key + "=" + string.Join(",", kv.Value.ToArray().Select(BitConverter.SingleToInt32Bits))))
            + $";epoch={Scheduler.Epoch};rng={string.Join(",", Rng.GetState())}";
    }

    private static string Folder() => TestUtil.TempFolder("checkpoint-load");

    private static void AssertRejectedAndUnchanged(string path, Setup target, LrScheduler? scheduler, string expected)
    {
        string before = target.Fingerprint();
        var e = Assert.ThrowsExactly<InvalidDataException>(() => TrainingCheckpoint.Load(path, target.Model, target.Optimizer, scheduler, target.Generators));
        StringAssert.Contains(e.Message, path);
        StringAssert.Contains(e.Message, expected);
        Assert.AreEqual(before, target.Fingerprint(), "a failed load leaves model, optimizer, schedule and generators bitwise as they were");
    }

    [TestMethod]
    public void ACheckpointWithoutScheduleLoadedWithOneChangesNothing()
    {
        var saved = new Setup(1);
        string path = Path.Combine(Folder(), "no-schedule.safetensors");
        TrainingCheckpoint.Save(path, saved.Model, saved.Optimizer, null, epoch: 1, saved.Generators);
        var target = new Setup(2);
        AssertRejectedAndUnchanged(path, target, target.Scheduler, "no schedule state");
        Assert.AreEqual(1, TrainingCheckpoint.Load(path, target.Model, target.Optimizer, null, target.Generators));
    }

    [TestMethod]
    [DataRow(5, false, "model: shape mismatches", DisplayName = "another model")]
    [DataRow(4, true, "the optimizer was AdamW, not Adam", DisplayName = "another optimizer kind")]
    public void ACheckpointOfAnotherModelOrOptimizerIsInvalidDataAndChangesNothing(int hidden, bool adamW, string expected)
    {
        var saved = new Setup(1, hidden, adamW);
        string path = Path.Combine(Folder(), "other.safetensors");
        TrainingCheckpoint.Save(path, saved.Model, saved.Optimizer, saved.Scheduler, epoch: 1, saved.Generators);
        var target = new Setup(2);
        AssertRejectedAndUnchanged(path, target, target.Scheduler, expected);
    }

    [TestMethod]
    public void OutOfRangeOptimizerStateInAFileChangesNothing()
    {
        var saved = new Setup(1);
        var state = new StateDict();
        foreach (var (key, tensor) in saved.Optimizer.StateDict())
        {
            state.Add(key, key == "param_groups.0.lr" ? Tensor.Scalar(float.NaN) : tensor);
        }
        // Written as TrainingCheckpoint.Save would, with the optimizer part edited.
        var tensors = new StateDict();
        foreach (var (key, tensor) in saved.Model.StateDict())
        {
            tensors.Add("model." + key, tensor);
        }
        foreach (var (key, tensor) in state)
        {
            tensors.Add("optimizer." + key, tensor);
        }
        foreach (var (key, tensor) in saved.Scheduler.StateDict())
        {
            tensors.Add("scheduler." + key, tensor);
        }
        string path = Path.Combine(Folder(), "nan-lr.safetensors");
        Safetensors.Save(path, tensors, new Dictionary<string, string>
        {
            ["format"] = "autograd-training-checkpoint/1",
            ["epoch"] = "1",
            ["rng.rng"] = "1,2,3,4",
        });
        var target = new Setup(2);
        AssertRejectedAndUnchanged(path, target, target.Scheduler, "'param_groups.0.lr' is NaN");
    }

    [TestMethod]
    public void AMatchingCheckpointLoadsEverything()
    {
        var saved = new Setup(1);
        string path = Path.Combine(Folder(), "ok.safetensors");
        TrainingCheckpoint.Save(path, saved.Model, saved.Optimizer, saved.Scheduler, epoch: 3, saved.Generators);
        var target = new Setup(2);
        Assert.AreEqual(3, TrainingCheckpoint.Load(path, target.Model, target.Optimizer, target.Scheduler, target.Generators));
        Assert.AreEqual(saved.Fingerprint(), target.Fingerprint());
    }
}
