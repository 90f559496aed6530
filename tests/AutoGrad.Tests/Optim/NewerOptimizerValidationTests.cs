using AutoGrad.Optim;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Optim;

/// <summary>Adagrad, Adadelta, NAdam and the newer schedules reject bad hyperparameters with errors naming them.</summary>
[TestClass]
public sealed class NewerOptimizerValidationTests
{
    private static Variable[] Parameters() => [new Variable(Tensor.FromArray([1f, -2f], 2), requiresGrad: true)];

    private static void Rejects<TException>(Action create, string expected)
        where TException : Exception
        => StringAssert.Contains(Assert.ThrowsExactly<TException>(create).Message, expected);

    [TestMethod]
    public void OptimizerHyperparametersAreValidated()
    {
        Rejects<ArgumentOutOfRangeException>(() => new Adagrad(Parameters(), lr: -1f), "Adagrad: lr must be finite and >= 0");
        Rejects<ArgumentOutOfRangeException>(() => new Adagrad(Parameters(), lrDecay: -0.1f), "lr_decay");
        Rejects<ArgumentOutOfRangeException>(() => new Adagrad(Parameters(), initialAccumulatorValue: float.NaN), "initial_accumulator_value");
        Rejects<ArgumentOutOfRangeException>(() => new Adagrad(Parameters(), eps: -1e-10f), "eps");
        Rejects<ArgumentOutOfRangeException>(() => new Adagrad(Parameters(), weightDecay: -1f), "weight_decay");
        Rejects<ArgumentOutOfRangeException>(() => new Adadelta(Parameters(), rho: 1.5f), "Adadelta: rho must be in [0, 1]");
        Rejects<ArgumentOutOfRangeException>(() => new Adadelta(Parameters(), eps: float.PositiveInfinity), "eps");
        Rejects<ArgumentOutOfRangeException>(() => new NAdam(Parameters(), beta1: 1f), "NAdam: beta1 must be in [0, 1)");
        Rejects<ArgumentOutOfRangeException>(() => new NAdam(Parameters(), beta2: -0.1f), "beta2");
        Rejects<ArgumentOutOfRangeException>(() => new NAdam(Parameters(), momentumDecay: -1f), "momentum_decay");
        var group = new NAdam(Parameters()).ParamGroups[0];
        Rejects<ArgumentOutOfRangeException>(() => group.Momentum = 1f, "momentum (or beta1) must be in [0, 1)");
        group.Momentum = null;
    }

    [TestMethod]
    public void ScheduleHyperparametersAreValidated()
    {
        var sgd = new Sgd(Parameters(), 0.1f, momentum: 0.9f);
        Rejects<ArgumentOutOfRangeException>(() => new LinearLr(sgd, startFactor: 0f), "startFactor must be in (0, 1]");
        Rejects<ArgumentOutOfRangeException>(() => new LinearLr(sgd, endFactor: 1.5f), "endFactor must be in [0, 1]");
        Rejects<ArgumentOutOfRangeException>(() => new LinearLr(sgd, totalIters: 0), "totalIters must be > 0");
        Rejects<ArgumentException>(() => new LambdaLr(sgd, [e => 1f, e => 2f]), "expected 1 non-null lambdas (one per group), got 2");
        Rejects<ArgumentException>(() => new OneCycleLr(sgd, 0.1f), "give either totalSteps or both epochs and stepsPerEpoch");
        Rejects<ArgumentOutOfRangeException>(() => new OneCycleLr(sgd, 0.1f, totalSteps: 0), "totalSteps must be > 0");
        Rejects<ArgumentOutOfRangeException>(() => new OneCycleLr(sgd, 0.1f, epochs: 2, stepsPerEpoch: -1), "epochs and stepsPerEpoch must be > 0");
        Rejects<ArgumentOutOfRangeException>(() => new OneCycleLr(sgd, 0.1f, totalSteps: 10, pctStart: 1.1f), "pctStart must be in [0, 1]");
        Rejects<ArgumentOutOfRangeException>(() => new OneCycleLr(sgd, 0.1f, totalSteps: 10, annealStrategy: (AnnealStrategy)7), "Cos or Linear");
        Rejects<ArgumentOutOfRangeException>(() => new OneCycleLr(sgd, 0.1f, totalSteps: 10, baseMomentum: 0.96f), "0 <= baseMomentum <= maxMomentum < 1");
        Rejects<ArgumentOutOfRangeException>(() => new OneCycleLr(sgd, 0.1f, totalSteps: 10, divFactor: 0f), "divFactor and finalDivFactor must be finite and > 0");
        Rejects<ArgumentOutOfRangeException>(() => new OneCycleLr(sgd, -0.1f, totalSteps: 10), "every max rate must be finite and >= 0");
        Rejects<ArgumentException>(() => new OneCycleLr(new Adagrad(Parameters()), 0.1f, totalSteps: 10), "Adagrad has no momentum or beta1 to cycle");
        Rejects<ArgumentException>(() => new OneCycleLr(sgd, 0.1f, totalSteps: 10, baseMomenta: [0.8f, 0.8f]), "expected 1 values in baseMomenta (one per group), got 2");
        Rejects<ArgumentOutOfRangeException>(() => new OneCycleLr(sgd, 0.1f, totalSteps: 10, maxMomenta: [0.5f]), "got 0.85 and 0.5 for group 0");
        Rejects<ArgumentOutOfRangeException>(() => new ReduceLrOnPlateau(sgd, factor: 1f), "factor must be in [0, 1)");
        Rejects<ArgumentOutOfRangeException>(() => new ReduceLrOnPlateau(sgd, patience: -1), "patience must be >= 0");
        Rejects<ArgumentOutOfRangeException>(() => new ReduceLrOnPlateau(sgd, threshold: float.NaN), "threshold must be finite and >= 0");
        Rejects<ArgumentOutOfRangeException>(() => new ReduceLrOnPlateau(sgd, cooldown: -2), "cooldown must be >= 0");
        Rejects<ArgumentOutOfRangeException>(() => new ReduceLrOnPlateau(sgd, minLr: -1f), "every min rate must be finite and >= 0");
        Rejects<ArgumentOutOfRangeException>(() => new ReduceLrOnPlateau(sgd, eps: -1f), "eps must be finite and >= 0");
        Rejects<ArgumentException>(() => new ReduceLrOnPlateau(sgd).Step(float.NaN), "the metric is NaN");
        Assert.AreEqual(0.1f, sgd.LearningRate, "no rejected schedule changed the rate");
    }

    [TestMethod]
    public void LambdaLrTakesOneLambdaPerGroupAndOneCycleOneMaxRatePerGroup()
    {
        var sgd = new Sgd([new ParamGroup(Parameters()), new ParamGroup(Parameters(), learningRate: 0.5f)], 1f);
        var lambda = new LambdaLr(sgd, [e => 1f / (e + 1), e => 0.5f]);
        lambda.Step();
        CollectionAssert.AreEqual(new[] { 0.5f, 0.25f }, lambda.LastLearningRates.ToArray());

        var cycled = new Sgd([new ParamGroup(Parameters()), new ParamGroup(Parameters())], 1f, momentum: 0.9f);
        var oneCycle = new OneCycleLr(cycled, [1f, 2f], totalSteps: 10, cycleMomentum: false);
        CollectionAssert.AreEqual(new[] { 0.04f, 0.08f }, oneCycle.LastLearningRates.ToArray());
        Assert.AreEqual(0.04f, cycled.ParamGroups[0].InitialLearningRate, "initial_lr becomes max_lr / divFactor, as in PyTorch");
        Assert.IsNull(cycled.ParamGroups[0].Momentum);
    }
}
