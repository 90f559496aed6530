using System.Text.Json;
using AutoGrad.Optim;
using AutoGrad.Tests.Ops;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Autograd;

// this namespace is also called Autograd: the alias makes Autograd.X the public API, as in user code
using Autograd = global::AutoGrad.Autograd;

/// <summary>
/// The WGAN-GP critic loss, the classic use of createGraph: mean(D(fake)) - mean(D(real)) + lambda * mean((|dD/dx_hat|_2 - 1)^2)
/// at points x_hat between real and fake samples, where dD/dx_hat comes from Autograd.Grad(createGraph: true) and the
/// loss is then trained. The first step's parameter gradients must equal PyTorch's (fixture "gradient_penalty" of
/// tests/reference/generate_functional.py), and training must pull the input-gradient norm towards 1.
/// </summary>
[TestClass]
[TestCategory("Parity")]
public sealed class GradientPenaltyTests
{
    private static JsonElement Fixture => FunctionalFixture.Root.GetProperty("gradient_penalty");

    private static Tensor Read(string key) => ParityFixture.ReadTensor(Fixture.GetProperty(key));

    /// <summary>A 2-16-1 tanh critic, the twin of critic() in the generator script.</summary>
    private static Variable Critic(Variable x, Variable[] p) => F.Linear(F.Linear(x, p[0], p[1]).Tanh(), p[2], p[3]);

    private static (Variable Loss, Variable Penalty) CriticLoss(Variable[] p, Tensor real, Tensor fake, Tensor alpha, float lambda)
    {
        var a = new Variable(alpha);
        var xHat = new Variable((a * new Variable(real) + (1f - a) * new Variable(fake)).Value, requiresGrad: true);
        var gradient = Autograd.Grad(F.Sum(Critic(xHat, p)), xHat, createGraph: true);
        var norm = F.Sqrt(F.Sum(gradient * gradient, 1));
        var penalty = F.Mean((norm - 1f).Pow(2f));
        var loss = F.Mean(Critic(new Variable(fake), p)) - F.Mean(Critic(new Variable(real), p)) + lambda * penalty;
        return (loss, penalty);
    }

    [TestMethod]
    public void FirstStepMatchesPyTorchAndThePenaltyDecreases()
    {
        var parameters = Fixture.GetProperty("params").EnumerateArray()
            .Select(t => new Variable(ParityFixture.ReadTensor(t), requiresGrad: true)).ToArray();
        var (real, fake, alpha) = (Read("real"), Read("fake"), Read("alpha"));
        float lambda = (float)Fixture.GetProperty("lambda").GetDouble();

        var (loss, penalty) = CriticLoss(parameters, real, fake, alpha, lambda);
        Assert.AreEqual(Fixture.GetProperty("penalty").GetDouble(), penalty.Item(), 1e-5);
        Assert.AreEqual(Fixture.GetProperty("loss").GetDouble(), loss.Item(), 1e-4);
        loss.Backward();
        var expected = Fixture.GetProperty("grads").EnumerateArray().Select(ParityFixture.ReadTensor).ToArray();
        for (int i = 0; i < parameters.Length; i++)
        {
            TestUtil.AssertClose(expected[i], parameters[i].Grad!, 1e-5, 1e-4, $"gradient of parameter {i}");
        }

        var optimizer = new Adam(parameters, lr: 0.01f);
        float first = penalty.Item(), last = first;
        optimizer.Step();
        for (int step = 1; step < 30; step++)
        {
            optimizer.ZeroGrad();
            (loss, penalty) = CriticLoss(parameters, real, fake, alpha, lambda);
            loss.Backward();
            optimizer.Step();
            last = penalty.Item();
        }
        // PyTorch goes from 0.638 to 0.023 in these 30 steps
        Assert.IsLessThan(0.1f * first, last, $"the penalty should shrink: {first} -> {last}");
    }
}
