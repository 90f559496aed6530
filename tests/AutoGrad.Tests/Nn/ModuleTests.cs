using AutoGrad.Nn;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Nn;

[TestClass]
public sealed class ModuleTests
{
    private sealed class Net : Module
    {
        public Net(Generator g)
        {
            Features = RegisterModule("features", new Sequential(new Conv2d(1, 2, 3, generator: g), new ReLU(), new Flatten()));
            Head = RegisterModule("head", new Linear(2 * 4 * 4, 3, generator: g));
            Scale = RegisterParameter("scale", new Parameter(Tensor.Ones(1)));
        }

        public Sequential Features { get; }

        public Linear Head { get; }

        public Parameter Scale { get; }

        public override Variable Forward(Variable input) => Head.Call(Features.Call(input)) * Scale;
    }

    [TestMethod]
    public void NamedParametersUseDottedNamesInRegistrationOrder()
    {
        var net = new Net(new Generator(1));
        CollectionAssert.AreEqual(
            new[] { "scale", "features.0.weight", "features.0.bias", "head.weight", "head.bias" },
            net.NamedParameters().Select(p => p.Key).ToArray());
        Assert.AreEqual(1 + 2 * 9 + 2 + 32 * 3 + 3, net.ParameterCount);
        Assert.AreEqual(2, net.Children().Count());
        Assert.AreSame(net.Head.Weight, net.Parameters().ElementAt(3));
    }

    [TestMethod]
    public void SharedParameterIsListedOnce()
    {
        var shared = new Linear(2, 2);
        var model = new Sequential(shared, new ReLU(), shared);
        CollectionAssert.AreEqual(new[] { "0.weight", "0.bias" }, model.NamedParameters().Select(p => p.Key).ToArray());
    }

    [TestMethod]
    public void TrainAndEvalReachEveryDescendant()
    {
        var net = new Net(new Generator(1));
        net.Eval();
        Assert.IsFalse(net.Training);
        Assert.IsFalse(net.Features[1].Training);
        net.Train();
        Assert.IsTrue(net.Features[0].Training);
    }

    [TestMethod]
    public void EvalModeScopeRestoresTheMode()
    {
        var net = new Net(new Generator(1));
        using (net.EvalMode())
        {
            Assert.IsFalse(net.Features[0].Training);
        }
        Assert.IsTrue(net.Features[0].Training);
        net.Eval();
        using (net.EvalMode())
        {
        }
        Assert.IsFalse(net.Training, "a model that was in evaluation mode stays there");
    }

    [TestMethod]
    public void DropoutIsIdentityInEvalMode()
    {
        var model = new Sequential(new Dropout(0.5f, new Generator(3)));
        var x = new Variable(Tensor.Ones(1000));
        var train = model.Call(x).Value.ToArray();
        Assert.IsTrue(train.Count(v => v == 0f) is > 400 and < 600, "about half dropped");
        Assert.IsTrue(train.All(v => v == 0f || v == 2f), "kept values scaled by 1/(1-p)");
        model.Eval();
        CollectionAssert.AreEqual(x.Value.ToArray(), model.Call(x).Value.ToArray());
    }

    [TestMethod]
    public void ZeroGradClearsToNullOrZeros()
    {
        var net = new Net(new Generator(1));
        F.Sum(net.Call(Tensor.Randn(new Generator(2), 2, 1, 6, 6))).Backward();
        Assert.IsTrue(net.Parameters().All(p => p.Grad is not null));
        net.ZeroGrad(setToNull: false);
        Assert.IsTrue(net.Parameters().All(p => p.Grad!.ToArray().All(v => v == 0f)));
        net.ZeroGrad();
        Assert.IsTrue(net.Parameters().All(p => p.Grad is null));
    }

    [TestMethod]
    public void StateDictRoundTripGivesIdenticalOutputs()
    {
        var a = new Net(new Generator(1));
        var b = new Net(new Generator(2));
        var x = Tensor.Randn(new Generator(3), 2, 1, 6, 6);
        var weightBefore = b.Head.Weight.Value;
        b.LoadStateDict(a.StateDict());
        CollectionAssert.AreEqual(a.Call(x).Value.ToArray(), b.Call(x).Value.ToArray());
        Assert.AreSame(weightBefore, b.Head.Weight.Value, "loading copies in place so optimizers keep their references");
    }

    [TestMethod]
    public void LoadStateDictListsEveryProblemAtOnce()
    {
        var net = new Net(new Generator(1));
        var state = new StateDict();
        foreach (var (name, tensor) in net.StateDict())
        {
            if (name == "head.bias")
            {
                continue;
            }
            state.Add(name, name == "head.weight" ? Tensor.Zeros(3, 5) : tensor);
        }
        state.Add("extra.weight", Tensor.Zeros(1));
        var e = Assert.ThrowsExactly<ArgumentException>(() => net.LoadStateDict(state));
        StringAssert.Contains(e.Message, "missing keys: head.bias");
        StringAssert.Contains(e.Message, "unexpected keys: extra.weight");
        StringAssert.Contains(e.Message, "head.weight: checkpoint [3, 5], model [3, 32]");

        // Non-strict ignores the key differences but never a wrong shape.
        e = Assert.ThrowsExactly<ArgumentException>(() => net.LoadStateDict(state, strict: false));
        Assert.IsFalse(e.Message.Contains("missing", StringComparison.Ordinal));
        StringAssert.Contains(e.Message, "head.weight");
    }

    [TestMethod]
    public void RegisteringTwiceOrDottedNamesIsRejected()
    {
        Assert.ThrowsExactly<ArgumentException>(() => new BadModule("a", "a"));
        Assert.ThrowsExactly<ArgumentException>(() => new BadModule("a.b", "c"));
    }

    private sealed class BadModule : Module
    {
        public BadModule(string first, string second)
        {
            RegisterParameter(first, new Parameter(Tensor.Zeros(1)));
            RegisterModule(second, new ReLU());
        }

        public override Variable Forward(Variable input) => input;
    }

    [TestMethod]
    public void SequentialIndexesAndPrints()
    {
        var model = Mlp.Create([4, 8, 3], () => new Tanh(), new Generator(0));
        Assert.AreEqual(3, model.Count);
        Assert.IsInstanceOfType<Tanh>(model[1]);
        Assert.IsInstanceOfType<Linear>(model[-1]);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => model[3]);
        StringAssert.Contains(model.ToString(), "(0): Linear(in_features=4, out_features=8, bias=True)");
        CollectionAssert.AreEqual(new[] { 5, 3 }, model.Call(Tensor.Zeros(5, 4)).Shape.ToArray());
    }
}

/// <summary>A forgotten RegisterModule / RegisterParameter is refused at the first Call, Parameters() or Train().</summary>
[TestClass]
public sealed class RegistrationCheckTests
{
    private sealed class Forgetful : Module
    {
        private readonly AutoGrad.Nn.Linear _registered;
        private readonly AutoGrad.Nn.Linear _forgotten; // the bug: never registered

        public Forgetful()
        {
            _registered = RegisterModule("registered", new AutoGrad.Nn.Linear(3, 3, generator: new Generator(1)));
            _forgotten = new AutoGrad.Nn.Linear(3, 2, generator: new Generator(2));
        }

        public override Variable Forward(Variable input) => _forgotten.Call(_registered.Call(input));
    }

    private sealed class ForgottenParameter : Module
    {
        public ForgottenParameter() => Scale = new Parameter(Tensor.Ones(3));

        public Parameter Scale { get; }

        public override Variable Forward(Variable input) => input * Scale;
    }

    private sealed class ForgottenInAList : Module
    {
        private readonly List<AutoGrad.Nn.Linear> _blocks = [];

        public ForgottenInAList()
        {
            _blocks.Add(RegisterModule("0", new AutoGrad.Nn.Linear(3, 3, generator: new Generator(3))));
            _blocks.Add(new AutoGrad.Nn.Linear(3, 3, generator: new Generator(4)));
        }

        public override Variable Forward(Variable input) => _blocks.Aggregate(input, (x, b) => b.Call(x));
    }

    private sealed class WithSharedAndMarked : Module
    {
        private readonly AutoGrad.Nn.Linear _encoder;
        private readonly Parameter _tied; // the encoder's weight, registered in the child: fine
        [Unregistered]
        private readonly AutoGrad.Nn.Linear _teacher = new(3, 3, generator: new Generator(6)); // deliberately not ours

        public WithSharedAndMarked()
        {
            _encoder = RegisterModule("encoder", new AutoGrad.Nn.Linear(3, 3, generator: new Generator(5)));
            _tied = _encoder.Weight;
        }

        public override Variable Forward(Variable input) => F.Linear(_encoder.Call(input), _tied) + _teacher.Call(input).Detach();
    }

    [TestMethod]
    public void AForgottenChild_IsNamedAtTheFirstCall()
    {
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => new Forgetful().Call(Tensor.Ones(1, 3)));
        StringAssert.Contains(error.Message, "_forgotten");
        StringAssert.Contains(error.Message, "RegisterModule");
        Assert.ThrowsExactly<InvalidOperationException>(() => new Forgetful().Parameters().ToList());
        Assert.ThrowsExactly<InvalidOperationException>(() => new Forgetful().Eval());
    }

    [TestMethod]
    public void AForgottenParameterProperty_AndAForgottenListElement_AreNamed()
    {
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => new ForgottenParameter().StateDict());
        StringAssert.Contains(error.Message, "'Scale'");
        StringAssert.Contains(error.Message, "RegisterParameter");
        error = Assert.ThrowsExactly<InvalidOperationException>(() => new ForgottenInAList().Call(Tensor.Ones(1, 3)));
        StringAssert.Contains(error.Message, "_blocks");
    }

    [TestMethod]
    public void TiedParametersAndMarkedFields_Pass()
    {
        var model = new WithSharedAndMarked();
        Assert.AreEqual(2, model.Parameters().Count());
        Assert.AreEqual(3, model.Call(Tensor.Ones(1, 3)).Value.Shape[1]);
    }
}
