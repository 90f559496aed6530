using AutoGrad.Nn;
using AutoGrad.Optim;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Buffers;

/// <summary>
/// The buffer pool behind op outputs and gradients: a training step through Sequential gives every large buffer back,
/// and recycling never changes a value anyone can still see (the pool's counters are global, so no parallel classes).
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class BufferRecyclingTests
{
    // Every activation and gradient of this model at batch 8 is above the pool's 16-float threshold.
    private static Sequential SmallLeNet(Generator g) => new(
        new Conv2d(1, 6, 5, padding: 2, generator: g), new ReLU(), new MaxPool2d(2), new Flatten(),
        new Linear(6 * 14 * 14, 128, generator: g), new ReLU(), new Linear(128, 10, generator: g));

    /// <summary>
    /// The pool's report once the garbage collector has taken what nobody holds: buffers dropped to the GC (outputs
    /// handed to the caller) stop counting as live when their storage is collected.
    /// </summary>
    private static MemoryReport Collected()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return Memory.Report();
    }

    private static int[] Labels(int n) => Enumerable.Range(0, n).Select(i => i % 10).ToArray();

    private static void Step(Module model, Optimizer optimizer, Tensor images, int[] labels)
    {
        optimizer.ZeroGrad(setToNull: false);
        F.CrossEntropy(model.Call(images), labels).Backward();
        optimizer.Step();
    }

    [TestMethod]
    public void TrainingSteps_AfterWarmUp_AllocateNoLargeBuffers()
    {
        var g = new Generator(3);
        var model = SmallLeNet(g);
        var optimizer = new Sgd(model.Parameters(), 0.01f, momentum: 0.9f);
        var images = Tensor.Rand(g, 8, 1, 28, 28);
        var labels = Labels(8);
        for (int i = 0; i < 3; i++)
        {
            Step(model, optimizer, images, labels);
        }
        var before = Collected();
        for (int i = 0; i < 20; i++)
        {
            Step(model, optimizer, images, labels);
        }
        var after = Collected();

        Assert.IsTrue(after.Rents - before.Rents > 20 * 10, $"the steps should rent their large buffers: {before} -> {after}");
        // Every rent after warm-up is served from the pool except at most one per step: the logits the model hands to the
        // caller, who may keep them, so that buffer never comes back (the pool is shared: earlier tests may have left spares).
        long misses = (after.Rents - before.Rents) - (after.Reuses - before.Reuses);
        Assert.IsTrue(misses <= 20, $"{misses} rents missed the pool in 20 steps: {before} -> {after}");
        Assert.AreEqual(before.LiveTensorBuffers, after.LiveTensorBuffers, $"no buffer stays out: {before} -> {after}");
    }

    /// <summary>48 tanh layers over one [rows, width] input: as many same-sized activations alive at the end of a forward.</summary>
    private sealed class DeepChain : Module
    {
        public Parameter Scale { get; }

        public DeepChain() => Scale = RegisterParameter("scale", new Parameter(Tensor.Ones(64)));

        public override Variable Forward(Variable input)
        {
            var x = input * Scale;
            for (int i = 0; i < 48; i++)
            {
                x = F.Tanh(x);
            }
            return x;
        }
    }

    [TestMethod]
    public void MoreSameSizedBuffersThanTheClassCap_AreAllServedFromThePoolAfterWarmUp()
    {
        // A transformer holds dozens of equal activations at once; the pool keeps as many as were in use together.
        var model = new DeepChain();
        var optimizer = new Sgd(model.Parameters(), 0.01f);
        var input = Tensor.Randn(new Generator(4), 8, 64);
        void ChainStep()
        {
            optimizer.ZeroGrad(setToNull: false);
            F.Mean(model.Call(input)).Backward();
            optimizer.Step();
        }
        ChainStep();
        ChainStep();
        var before = Collected();
        for (int i = 0; i < 10; i++)
        {
            ChainStep();
        }
        var after = Collected();
        long misses = (after.Rents - before.Rents) - (after.Reuses - before.Reuses);
        Assert.IsTrue(after.Rents - before.Rents > 10 * 48, $"the steps should rent their buffers: {before} -> {after}");
        Assert.IsTrue(misses <= 10, $"{misses} rents missed the pool in 10 steps: {before} -> {after}");
    }

    [TestMethod]
    public void TrainingStep_AllocatesOnlySmallObjects()
    {
        // A regression guard, not the goal: what is left per step is graph nodes, variables, tensor objects, shapes and
        // the logits handed to the caller (about 6 KB for this model); every other array comes from the pool.
        var g = new Generator(4);
        var model = SmallLeNet(g);
        var optimizer = new Sgd(model.Parameters(), 0.01f, momentum: 0.9f);
        var images = Tensor.Rand(g, 8, 1, 28, 28);
        var labels = Labels(8);
        int threads = Parallelism.MaxThreads;
        Parallelism.MaxThreads = 1;
        try
        {
            for (int i = 0; i < 5; i++)
            {
                Step(model, optimizer, images, labels);
            }
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 100; i++)
            {
                Step(model, optimizer, images, labels);
            }
            long perStep = (GC.GetAllocatedBytesForCurrentThread() - before) / 100;
            Assert.IsTrue(perStep < 8 * 1024, $"a step allocated {perStep} bytes");
        }
        finally
        {
            Parallelism.MaxThreads = threads;
        }
    }

    /// <summary>SmallLeNet as a user writes it: a Module whose Forward calls F and its children.</summary>
    private sealed class CustomLeNet : Module
    {
        private readonly Conv2d _conv;
        private readonly Linear _hidden, _output;

        public Variable? Kept { get; private set; }

        public bool KeepIntermediate { get; set; }

        public CustomLeNet(Generator g)
        {
            _conv = RegisterModule("conv", new Conv2d(1, 6, 5, padding: 2, generator: g));
            _hidden = RegisterModule("hidden", new Linear(6 * 14 * 14, 128, generator: g));
            _output = RegisterModule("output", new Linear(128, 10, generator: g));
        }

        public override Variable Forward(Variable input)
        {
            var x = F.MaxPool2d(F.Relu(_conv.Call(input)), 2);
            var h = F.Relu(_hidden.Call(F.Flatten(x)));
            if (KeepIntermediate)
            {
                Kept = h;
            }
            return _output.Call(h);
        }
    }

    [TestMethod]
    public void ACustomModule_GivesItsIntermediatesBack_LikeItsSequentialTwin()
    {
        var model = new CustomLeNet(new Generator(3));
        var optimizer = new Sgd(model.Parameters(), 0.01f, momentum: 0.9f);
        var images = Tensor.Rand(new Generator(4), 8, 1, 28, 28);
        var labels = Labels(8);
        for (int i = 0; i < 3; i++)
        {
            Step(model, optimizer, images, labels);
        }
        var before = Collected();
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++)
        {
            Step(model, optimizer, images, labels);
        }
        long perStep = (GC.GetAllocatedBytesForCurrentThread() - allocated) / 20;
        var after = Collected();
        long misses = (after.Rents - before.Rents) - (after.Reuses - before.Reuses);
        Assert.IsTrue(misses <= 20, $"{misses} rents missed the pool in 20 steps (only the logits may): {before} -> {after}");
        Assert.AreEqual(before.LiveTensorBuffers, after.LiveTensorBuffers, $"no buffer stays out: {before} -> {after}");
        Assert.IsTrue(perStep < 16 * 1024, $"a step allocated {perStep} bytes");
    }

    [TestMethod]
    public void AnIntermediateKeptPastBackward_ThrowsWhenRead_TheOutputAndDetachedCopiesDoNot()
    {
        var model = new CustomLeNet(new Generator(3)) { KeepIntermediate = true };
        var images = Tensor.Rand(new Generator(4), 8, 1, 28, 28);
        var logits = model.Call(images);
        var detached = model.Kept!.Detach();
        var clone = model.Kept.Value.Clone();
        var kept = model.Call(images); // a second forward: its intermediate is not detached
        var keptIntermediate = model.Kept;
        F.CrossEntropy(kept, Labels(8)).Backward();
        F.CrossEntropy(logits, Labels(8)).Backward();
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => keptIntermediate.Value.ToArray());
        StringAssert.Contains(error.Message, "Clone()");
        Assert.AreEqual(10, logits.Value.ToArray().Length / 8, "the model's output stays the caller's");
        Assert.AreEqual(10, kept.Value.ToArray().Length / 8);
        CollectionAssert.AreEqual(clone.ToArray(), detached.Value.ToArray(), "a detached intermediate is the caller's too");
    }

    [TestMethod]
    public void Recycling_GivesTheSameParametersAsAModelThatCannotRecycle()
    {
        // A forward hook (even one that does nothing) makes a layer's tensors visible to user code, which turns
        // recycling off for it; both models must train to bitwise identical weights.
        var recycled = SmallLeNet(new Generator(5));
        var plain = SmallLeNet(new Generator(5));
        for (int i = 0; i < plain.Count; i++)
        {
            plain[i].RegisterForwardHook((_, _, _) => null);
        }
        var optRecycled = new Sgd(recycled.Parameters(), 0.05f, momentum: 0.9f);
        var optPlain = new Sgd(plain.Parameters(), 0.05f, momentum: 0.9f);
        var g = new Generator(9);
        for (int i = 0; i < 6; i++)
        {
            var images = Tensor.Rand(g, 8, 1, 28, 28);
            Step(recycled, optRecycled, images, Labels(8));
            Step(plain, optPlain, images, Labels(8));
        }
        foreach (var ((name, a), (_, b)) in recycled.NamedParameters().Zip(plain.NamedParameters()))
        {
            CollectionAssert.AreEqual(b.Value.ToArray(), a.Value.ToArray(), name);
        }
    }

    [TestMethod]
    public void IntermediateSeenByAHook_KeepsItsValuesAfterBackward()
    {
        var model = SmallLeNet(new Generator(7));
        Tensor? seen = null;
        float[]? copy = null;
        model[1].RegisterForwardHook((_, _, output) =>
        {
            seen = output.Value;
            copy = output.Value.ToArray();
            return null;
        });
        F.CrossEntropy(model.Call(Tensor.Rand(new Generator(8), 8, 1, 28, 28)), Labels(8)).Backward();
        // later steps would reuse a recycled buffer; run some to give them the chance
        for (int i = 0; i < 3; i++)
        {
            F.CrossEntropy(model.Call(Tensor.Rand(new Generator(10 + i), 8, 1, 28, 28)), Labels(8)).Backward();
            using (GradMode.NoGrad())
            {
                model.Call(Tensor.Rand(new Generator(20 + i), 8, 1, 28, 28));
            }
        }
        Assert.IsNotNull(seen);
        CollectionAssert.AreEqual(copy, seen!.ToArray());
    }

    [TestMethod]
    public void OutputOfTheLastLayer_IsNeverRecycled()
    {
        var model = new Sequential(new Linear(64, 2048, generator: new Generator(1)), new ReLU());
        var input = Tensor.Rand(new Generator(2), 4, 64);
        var output = model.Call(input);
        var copy = output.Value.ToArray();
        F.Sum(output).Backward();
        for (int i = 0; i < 3; i++)
        {
            F.Sum(model.Call(Tensor.Rand(new Generator(3 + i), 4, 64))).Backward();
        }
        CollectionAssert.AreEqual(copy, output.Value.ToArray());
    }

    [TestMethod]
    public void RetainedGraph_SecondBackwardGivesTheSameGradients()
    {
        var model = SmallLeNet(new Generator(11));
        var loss = F.CrossEntropy(model.Call(Tensor.Rand(new Generator(12), 8, 1, 28, 28)), Labels(8));
        loss.Backward(retainGraph: true);
        var first = model.Parameters().Select(p => p.Grad!.ToArray()).ToList();
        foreach (var p in model.Parameters())
        {
            p.Grad = null;
        }
        loss.Backward();
        var second = model.Parameters().Select(p => p.Grad!.ToArray()).ToList();
        for (int i = 0; i < first.Count; i++)
        {
            CollectionAssert.AreEqual(first[i], second[i], $"parameter {i}");
        }
    }

    [TestMethod]
    public void SharedGradientBuffers_AreRecycledOnlyAfterTheirLastUse()
    {
        // y = h + h hands the same gradient tensor to both inputs, and reshapes pass views of it on;
        // z = sum(y * y) + sum(view of y), so dz/dx = 8 x + 2 where x > 0.
        var g = new Generator(13);
        var x = new Variable(Tensor.Randn(g, 64, 64), requiresGrad: true);
        var h = F.Relu(x);
        var y = h + h;
        var viewed = F.Reshape(F.Reshape(y, 4096), 64, 64);
        var z = F.Sum(y * y) + F.Sum(viewed);
        z.Backward();
        var xs = x.Value.AsReadOnlySpan();
        var expected = new float[xs.Length];
        for (int i = 0; i < xs.Length; i++)
        {
            expected[i] = xs[i] > 0 ? 8 * xs[i] + 2 : 0;
        }
        TestUtil.AssertClose([64, 64], expected, x.Grad!, atol: 1e-5, rtol: 1e-6, what: "dz/dx");
    }

    [TestMethod]
    public void EvaluationUnderNoGrad_GivesIntermediatesBackAtOnce()
    {
        var model = SmallLeNet(new Generator(15));
        var images = Tensor.Rand(new Generator(16), 8, 1, 28, 28);
        using var _ = GradMode.NoGrad();
        var reference = model.Call(images).Value.ToArray();
        var before = Collected();
        CallRepeatedly(model, images, reference, 10);
        var after = Collected();
        long misses = (after.Rents - before.Rents) - (after.Reuses - before.Reuses);
        Assert.IsTrue(misses <= 10, $"{misses} rents missed the pool; only the 10 outputs may: {before} -> {after}");
        Assert.AreEqual(before.LiveTensorBuffers, after.LiveTensorBuffers, $"the outputs the caller dropped are no longer live: {before} -> {after}");
    }

    /// <summary>
    /// The same for a Module of one's own under NoGrad: its ops' outputs go back when the module call that made them
    /// returns (without it they were left to the GC, and a residual network's evaluation grew to gigabytes), the output
    /// stays the caller's, and an intermediate kept in a field is loud.
    /// </summary>
    [TestMethod]
    public void ACustomModuleUnderNoGrad_GivesItsIntermediatesBack_AndAKeptOneIsLoud()
    {
        var model = new CustomLeNet(new Generator(15));
        var images = Tensor.Rand(new Generator(16), 8, 1, 28, 28);
        using (GradMode.NoGrad())
        {
            var reference = model.Call(images).Value.ToArray();
            var before = Collected();
            CallRepeatedly(model, images, reference, 10);
            var after = Collected();
            long misses = (after.Rents - before.Rents) - (after.Reuses - before.Reuses);
            Assert.IsTrue(misses <= 10, $"{misses} rents missed the pool; only the 10 outputs may: {before} -> {after}");
            model.KeepIntermediate = true;
            var output = model.Call(images);
            var error = Assert.ThrowsExactly<InvalidOperationException>(() => model.Kept!.Value.ToArray());
            StringAssert.Contains(error.Message, "Clone()");
            CollectionAssert.AreEqual(reference, output.Value.ToArray());
        }
    }

    // A method of its own, so that no output stays reachable from a Debug build's locals once it returns.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void CallRepeatedly(Module model, Tensor images, float[] reference, int count)
    {
        for (int i = 0; i < count; i++)
        {
            CollectionAssert.AreEqual(reference, model.Call(images).Value.ToArray());
        }
    }

    [TestMethod]
    public void NestedSequentials_KeepTheLiveCountFlat()
    {
        // The output leaves AutoGrad once, at the outermost Sequential: a nested one's output is given back by the one
        // around it, never twice.
        var g = new Generator(21);
        Sequential Inner() => new(new Linear(784, 64, generator: g), new ReLU(), new Linear(64, 32, generator: g));
        var last = new Sequential(new Flatten(), Inner());
        var middle = new Sequential(new Flatten(), Inner(), new ReLU(), new Linear(32, 10, generator: g));
        var images = Tensor.Rand(g, 8, 1, 28, 28);
        foreach (var model in new[] { last, middle })
        {
            var (before, after) = LiveBeforeAndAfterSteps(model, images);
            Assert.AreEqual(before.LiveTensorBuffers, after.LiveTensorBuffers, $"{before} -> {after}: {model}");
        }
    }

    // A method of its own, so that the optimizer (and its state) is unreachable once it returns, also in Debug builds.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static (MemoryReport Before, MemoryReport After) LiveBeforeAndAfterSteps(Module model, Tensor images)
    {
        var optimizer = new Adam(model.Parameters(), 1e-3f);
        Step(model, optimizer, images, Labels(8));
        var before = Collected();
        for (int i = 0; i < 5; i++)
        {
            Step(model, optimizer, images, Labels(8));
        }
        return (before, Collected());
    }

    [TestMethod]
    public void ARecycledTensorAndItsViewsThrowWhenUsed_AndGoBackOnlyOnce()
    {
        var tensor = AutoGrad.Buffers.BufferPool.Rent([4, 8]);
        var view = tensor.Reshape(32);
        tensor.AsSpan().Fill(3f);
        AutoGrad.Buffers.BufferPool.Return(tensor);
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => tensor.AsReadOnlySpan().ToArray());
        StringAssert.Contains(error.Message, "Clone()");
        Assert.ThrowsExactly<InvalidOperationException>(() => _ = view[0]);
        Assert.ThrowsExactly<InvalidOperationException>(() => tensor.AsSpan());
        Assert.ThrowsExactly<InvalidOperationException>(() => view.ToString());
        AutoGrad.Buffers.BufferPool.Return(view); // the same storage: not pooled twice
        var first = AutoGrad.Buffers.BufferPool.Rent([4, 8]);
        var second = AutoGrad.Buffers.BufferPool.Rent([4, 8]);
        Assert.AreNotSame(first.Buffer, second.Buffer, "one buffer handed out twice at once");
        AutoGrad.Buffers.BufferPool.Return(first);
        AutoGrad.Buffers.BufferPool.Return(second);
    }

    [TestMethod]
    public void BuffersTheCallerDropped_StopCountingAsLiveOnceCollected()
    {
        // the earlier pool counted every handed-out buffer the GC took as live forever (12 GB "live" beside a 1.2 GB heap)
        var before = Collected();
        DropOutputs(new Linear(64, 512, generator: new Generator(5)), 50);
        var after = Collected();
        Assert.AreEqual(before.LiveTensorBuffers, after.LiveTensorBuffers, $"{before} -> {after}");
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void DropOutputs(Module model, int count)
    {
        var x = Tensor.Rand(new Generator(6), 16, 64);
        for (int i = 0; i < count; i++)
        {
            _ = model.Call(x); // a [16, 512] output from the pool, dropped at once
        }
    }

    [TestMethod]
    public void Report_CountsPooledBytesAndPeak()
    {
        var report = Memory.Report();
        Assert.IsTrue(report.PeakBytes >= report.PooledBytes, report.ToString());
        Assert.IsTrue(report.ManagedHeapBytes > 0, report.ToString());
        StringAssert.Contains(report.ToString(), "pooled");
    }
}
