using AutoGrad.Nn;
using AutoGrad.Tests.Ops;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace AutoGrad.Tests.Nn;

/// <summary>
/// RNN (tanh, ReLU), LSTM and GRU against PyTorch 1.13 (fixture tests/reference/generate_recurrent.py): PyTorch's
/// parameters loaded by name into the module, then the output sequence, the final states and the gradients of the
/// input, the initial states and every weight within 1e-5 + 1e-4 |x|.
/// </summary>
[TestClass]
[TestCategory("Parity")]
public sealed class RecurrentParityTests
{
    private const string File = "recurrent.json";

    public static IEnumerable<object[]> CaseNames => ParityFixture.Load(File).Select(c => new object[] { c.Name });

    [TestMethod]
    [DynamicData(nameof(CaseNames))]
    public void OutputsStatesAndGradientsMatchPyTorch(string name)
    {
        var c = ParityFixture.Load(File).Single(x => x.Name == name);
        string kind = c.StringAttr("kind");
        int layers = c.IntAttr("layers"), hidden = c.IntAttr("hidden"), inputSize = c.IntAttr("input_size");
        bool bias = c.BoolAttr("bias"), batchFirst = c.BoolAttr("batch_first"), initial = c.BoolAttr("initial");
        Recurrent module = kind switch
        {
            "rnn" => new Rnn(inputSize, hidden, layers, c.StringAttr("nonlinearity") == "relu", bias, batchFirst),
            "lstm" => new Lstm(inputSize, hidden, layers, bias, batchFirst),
            _ => new Gru(inputSize, hidden, layers, bias, batchFirst),
        };
        int stateCount = initial ? (kind == "lstm" ? 2 : 1) : 0;
        var names = c.Attrs.GetProperty("names").EnumerateArray().Select(n => n.GetString()!).ToArray();
        CollectionAssert.AreEqual(names, module.StateDict().Keys.ToArray(), "PyTorch's parameter names, in PyTorch's order");
        module.LoadStateDict(names.Select((n, i) => (n, c.Inputs[1 + stateCount + i])).ToDictionary(p => p.n, p => p.Item2.Clone()));

        var x = new Variable(c.Inputs[0].Clone(), requiresGrad: true);
        var states = Enumerable.Range(0, stateCount).Select(i => new Variable(c.Inputs[1 + i].Clone(), requiresGrad: true)).ToArray();
        var (output, finals) = Run(module, x, states);
        var folds = c.Attrs.GetProperty("fold").EnumerateArray().Select(f => f.EnumerateArray().Select(v => v.GetSingle()).ToArray()).ToArray();
        var folded = F.Sum(F.Stack(finals.Select((s, i) => F.Sum(s * new Variable(Tensor.FromArray(folds[i], s.Shape.ToArray())))).ToArray()));
        var result = output + folded / output.Value.Length;
        TestUtil.AssertClose(c.Output, result.Value, ParityRunner.Atol, ParityRunner.Rtol, $"{name} output");
        result.Backward(c.GradOutput);
        TestUtil.AssertClose(c.Grads[0]!, x.Grad!, ParityRunner.Atol, ParityRunner.Rtol, $"{name} input gradient");
        for (int i = 0; i < stateCount; i++)
        {
            TestUtil.AssertClose(c.Grads[1 + i]!, states[i].Grad!, ParityRunner.Atol, ParityRunner.Rtol, $"{name} initial state {i} gradient");
        }
        var parameters = module.NamedParameters().ToDictionary(p => p.Key, p => p.Value);
        for (int i = 0; i < names.Length; i++)
        {
            TestUtil.AssertClose(c.Grads[1 + stateCount + i]!, parameters[names[i]].Grad!, ParityRunner.Atol, ParityRunner.Rtol, $"{name} {names[i]} gradient");
        }
    }

    [TestMethod]
    public void ShapesUnbatchedInputsAndErrors()
    {
        var lstm = new Lstm(3, 4, numLayers: 2, generator: new Generator(1));
        var (output, (h, cell)) = lstm.Forward(new Variable(Tensor.Randn(new Generator(2), 5, 3)), null);
        CollectionAssert.AreEqual(new[] { 5, 4 }, output.Shape.ToArray());
        CollectionAssert.AreEqual(new[] { 2, 4 }, h.Shape.ToArray());
        CollectionAssert.AreEqual(new[] { 2, 4 }, cell.Shape.ToArray());
        var error = Assert.ThrowsExactly<ArgumentException>(() => lstm.Call(new Variable(Tensor.Zeros(5, 2, 7))));
        StringAssert.Contains(error.Message, "expected input [L, N, 3]");
        var gru = new Gru(3, 4);
        Assert.ThrowsExactly<ArgumentException>(() => gru.Forward(new Variable(Tensor.Zeros(5, 2, 3)), new Variable(Tensor.Zeros(2, 2, 4))));
    }

    [TestMethod]
    public void AnLstmIsTwiceDifferentiable()
    {
        var lstm = new Lstm(2, 3, generator: new Generator(4));
        GradGradCheck.Assert(a => lstm.Call(a[0]), [new Variable(Tensor.Randn(new Generator(5), 3, 2, 2), requiresGrad: true)], null);
    }

    private static (Variable Output, Variable[] Finals) Run(Recurrent module, Variable x, Variable[] states) => module switch
    {
        Lstm lstm => lstm.Forward(x, states.Length == 0 ? null : (states[0], states[1])) is var (o, (h, cell)) ? (o, [h, cell]) : default,
        Gru gru => gru.Forward(x, states.FirstOrDefault()) is var (o, h) ? (o, [h]) : default,
        Rnn rnn => rnn.Forward(x, states.FirstOrDefault()) is var (o, h) ? (o, [h]) : default,
        _ => throw new NotSupportedException(),
    };
}
