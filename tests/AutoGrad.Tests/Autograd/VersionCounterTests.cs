using AutoGrad.Nn;
using AutoGrad.Optim;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Autograd;

/// <summary>
/// PyTorch's "modified by an inplace operation": every op that saves a tensor for its backward refuses to run it once
/// that tensor was written in place after the forward, through every write path, and ops that save nothing keep
/// working. Without the check each of these backward passes would silently compute a gradient from the new values.
/// </summary>
[TestClass]
public sealed class VersionCounterTests
{
    /// <summary>Which tensor of the op the write hits.</summary>
    public enum Target
    {
        Input,
        Weight,
        Output,
    }

    // op name -> (the op on a [2, 3] input x and a second operand w, which of them (or the output) it saves)
    private static readonly Dictionary<string, (Func<Variable, Variable, Variable> Op, Target[] Saved)> Ops = new()
    {
        ["Mul"] = ((x, w) => x * w, [Target.Input, Target.Weight]),
        ["Div"] = ((x, w) => x / w, [Target.Weight, Target.Output]),
        ["RDivScalar"] = ((x, _) => F.Div(2f, x), [Target.Input, Target.Output]),
        ["MatMul"] = ((x, w) => x.MatMul(w.Reshape(3, 2)), [Target.Input, Target.Weight]),
        ["Linear"] = ((x, w) => F.Linear(x, w), [Target.Input, Target.Weight]),
        ["Conv2d"] = ((x, w) => F.Conv2d(x.Reshape(1, 1, 2, 3), w.Reshape(3, 1, 1, 2)), [Target.Input, Target.Weight]),
        ["Relu"] = ((x, _) => F.Relu(x), [Target.Output]),
        ["Tanh"] = ((x, _) => F.Tanh(x), [Target.Output]),
        ["Sigmoid"] = ((x, _) => F.Sigmoid(x), [Target.Output]),
        ["Exp"] = ((x, _) => F.Exp(x), [Target.Output]),
        ["Sqrt"] = ((x, _) => F.Sqrt(F.Abs(x) + 1f), [Target.Output]),
        ["Softmax"] = ((x, _) => F.Softmax(x, 1), [Target.Output]),
        ["LogSoftmax"] = ((x, _) => F.LogSoftmax(x, 1), [Target.Output]),
        ["Log"] = ((x, _) => F.Log(x), [Target.Input]),
        ["Pow"] = ((x, _) => F.Pow(x, 3f), [Target.Input]),
        ["Abs"] = ((x, _) => F.Abs(x), [Target.Input]),
        ["Clamp"] = ((x, _) => F.Clamp(x, 0.2f, 0.8f), [Target.Input]),
        ["LeakyRelu"] = ((x, _) => F.LeakyRelu(x, 0.1f), [Target.Input]),
        ["Gelu"] = ((x, _) => F.Gelu(x), [Target.Input]),
        ["Max"] = ((x, _) => F.Max(x, 1), [Target.Input, Target.Output]),
        ["BinaryCrossEntropy"] = ((x, w) => F.BinaryCrossEntropy(F.Sigmoid(x), w), [Target.Weight]),
        ["BinaryCrossEntropyWithLogits"] = ((x, w) => F.BinaryCrossEntropyWithLogits(x, w), [Target.Input, Target.Weight]),
    };

    /// <summary>The ways a tensor is written in place.</summary>
    private static readonly Dictionary<string, Action<Tensor>> Writes = new()
    {
        ["AsSpan"] = t => t.AsSpan()[0] += 1f,
        ["indexer under NoGrad"] = t =>
        {
            using var _ = GradMode.NoGrad();
            t[Enumerable.Repeat(0, t.Rank).ToArray()] = 7f;
        },
    };

    public static IEnumerable<object[]> SavedTensorWrites()
        => from op in Ops from target in op.Value.Saved from write in Writes.Keys select new object[] { op.Key, target, write };

    private static (Variable X, Variable W) Leaves()
    {
        var x = new Variable(Tensor.FromArray([0.3f, 0.6f, 0.9f, 0.4f, 0.5f, 0.7f], 2, 3), requiresGrad: true);
        var w = new Variable(Tensor.FromArray([0.5f, 0.25f, 0.75f, 0.6f, 0.2f, 0.4f], 2, 3), requiresGrad: true);
        return (x, w);
    }

    [TestMethod]
    [DynamicData(nameof(SavedTensorWrites))]
    public void WritingASavedTensorAfterTheForward_MakesBackwardThrow(string op, Target target, string write)
    {
        var (x, w) = Leaves();
        var y = Ops[op].Op(x, w);
        var loss = F.Sum(y * 1f);
        var written = target switch { Target.Input => x.Value, Target.Weight => w.Value, _ => y.Value };
        Writes[write](written);
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => loss.Backward());
        StringAssert.Contains(error.Message, "modified in place");
        StringAssert.Contains(error.Message, "version");
    }

    [TestMethod]
    public void OpsThatSaveNothing_StillBackpropagateAfterAWrite()
    {
        // x + w, x - w and a reshape need neither value for their gradients, as in PyTorch
        var (x, w) = Leaves();
        var loss = F.Sum((x + w - w * 1f).Reshape(3, 2));
        x.Value.AsSpan()[0] = 100f;
        loss.Backward();
        CollectionAssert.AreEqual(Enumerable.Repeat(1f, 6).ToArray(), x.Grad!.ToArray());
    }

    [TestMethod]
    public void TheMessageNamesTheOpAndTheShape()
    {
        var (x, w) = Leaves();
        var loss = F.Sum(x * w);
        w.Value.AsSpan()[0] = 1000f;
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => loss.Backward());
        StringAssert.Contains(error.Message, "Mul");
        StringAssert.Contains(error.Message, "[2, 3]");
        StringAssert.Contains(error.Message, "version");
    }

    [TestMethod]
    public void AnOptimizerStepBetweenForwardAndBackward_IsRefused()
    {
        var model = new Linear(3, 2, generator: new Generator(1));
        var optimizer = new Sgd(model.Parameters(), 0.1f);
        var x = new Variable(Tensor.Rand(new Generator(2), 4, 3));
        F.Sum(model.Call(x)).Backward();
        var loss = F.Sum(model.Call(x));
        optimizer.Step(); // changes the weight the pending graph saved
        Assert.ThrowsExactly<InvalidOperationException>(() => loss.Backward());
    }

    [TestMethod]
    public void LoadStateDictBetweenForwardAndBackward_IsRefused()
    {
        var model = new Linear(3, 2, generator: new Generator(1));
        var state = new Linear(3, 2, generator: new Generator(9)).StateDict();
        var x = new Variable(Tensor.Rand(new Generator(2), 4, 3));
        var loss = F.Sum(model.Call(x));
        model.LoadStateDict(state);
        Assert.ThrowsExactly<InvalidOperationException>(() => loss.Backward());
    }

    [TestMethod]
    public void ReadingDoesNotCountAsAWrite()
    {
        var (x, w) = Leaves();
        var loss = F.Sum(x * w);
        _ = w.Value.AsReadOnlySpan()[0] + w.Value[0, 1] + w.Value.ToArray()[2];
        loss.Backward();
        CollectionAssert.AreEqual(w.Value.ToArray(), x.Grad!.ToArray());
    }

    [TestMethod]
    public void WritingAfterBackward_IsFine()
    {
        // the usual loop: forward, backward, step, then the next forward saves the new versions
        var model = new Linear(3, 2, generator: new Generator(1));
        var optimizer = new Sgd(model.Parameters(), 0.1f);
        var x = new Variable(Tensor.Rand(new Generator(2), 4, 3));
        for (int i = 0; i < 3; i++)
        {
            optimizer.ZeroGrad();
            F.Sum(model.Call(x)).Backward();
            optimizer.Step();
        }
    }
}

/// <summary>Errors from Backward and Reshape name the caller's line, like the other shape errors.</summary>
[TestClass]
public sealed class CallerLineTests
{
    [TestMethod]
    public void BackwardAndReshapeErrors_NameTheCallersLine()
    {
        var x = new Variable(Tensor.Ones(2, 3), requiresGrad: true);
        var y = x * 2f;
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => y.Backward());
        StringAssert.Contains(error.Message, "VersionCounterTests.cs:line");
        var reshape = Assert.ThrowsExactly<ArgumentException>(() => x.Reshape(4, 2));
        StringAssert.Contains(reshape.Message, "VersionCounterTests.cs:line");
        var tensorReshape = Assert.ThrowsExactly<ArgumentException>(() => Tensor.Ones(6).Reshape(-1, -1));
        StringAssert.Contains(tensorReshape.Message, "VersionCounterTests.cs:line");
    }
}

/// <summary>Training steps reuse gradient and dropout buffers instead of allocating new ones.</summary>
[TestClass]
[DoNotParallelize]
public sealed class StepBufferTests
{
    private sealed class DropoutNet : Module
    {
        private readonly AutoGrad.Nn.Linear _fc1, _fc2;

        public DropoutNet()
        {
            _fc1 = RegisterModule("fc1", new AutoGrad.Nn.Linear(256, 512, generator: new Generator(1)));
            _fc2 = RegisterModule("fc2", new AutoGrad.Nn.Linear(512, 10, generator: new Generator(2)));
        }

        public override Variable Forward(Variable input) => _fc2.Call(F.Dropout(F.Relu(_fc1.Call(input)), 0.5f, Training));
    }

    [TestMethod]
    public void ZeroGradToNullAndDropout_AllocateNoLargeBuffersPerStep()
    {
        // ZeroGrad() (to null) gave every parameter a fresh gradient each step (4.7 MB for a 9216 x 128 weight), and
        // dropout built its mask outside the pool
        var model = new DropoutNet();
        var optimizer = new Sgd(model.Parameters(), 0.01f);
        var x = Tensor.Rand(new Generator(3), 32, 256);
        int[] labels = Enumerable.Range(0, 32).Select(i => i % 10).ToArray();
        void Step()
        {
            optimizer.ZeroGrad();
            F.CrossEntropy(model.Call(x), labels).Backward();
            optimizer.Step();
        }
        for (int i = 0; i < 3; i++)
        {
            Step();
        }
        var kept = model.Parameters().First().Grad!;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++)
        {
            Step();
        }
        long perStep = (GC.GetAllocatedBytesForCurrentThread() - before) / 10;
        Assert.IsTrue(perStep < 16 * 1024, $"a step allocated {perStep} bytes (the 512 x 256 weight's gradient alone is 512 KB)");
        Assert.ThrowsExactly<InvalidOperationException>(() => kept.ToArray(), "a gradient kept past ZeroGrad() went back to the pool");
    }
}
