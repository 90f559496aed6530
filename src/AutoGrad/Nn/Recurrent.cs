namespace AutoGrad.Nn;

/// <summary>The cell a recurrent layer runs at every step.</summary>
public enum RecurrentCell
{
    /// <summary>h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (PyTorch's RNN, nonlinearity='tanh').</summary>
    RnnTanh,

    /// <summary>h' = relu(...) (PyTorch's RNN, nonlinearity='relu').</summary>
    RnnRelu,

    /// <summary>PyTorch's LSTM: gates i, f, g, o in that order in the weights.</summary>
    Lstm,

    /// <summary>PyTorch's GRU: gates r, z, n in that order; n = tanh(W_in x + b_in + r * (W_hn h + b_hn)).</summary>
    Gru,
}

/// <summary>
/// A multi-layer recurrent layer with PyTorch's parameters (weight_ih_l{k} [G H, in], weight_hh_l{k} [G H, H],
/// bias_ih_l{k}, bias_hh_l{k}, gates stacked in PyTorch's order, U(-1/sqrt(H), 1/sqrt(H)) init), so PyTorch
/// checkpoints load. Input [L, N, in] (or [N, L, in] with batchFirst, or unbatched [L, in]). The input projection of
/// all steps is one matrix product per layer; each step adds one product with the hidden state that yields all gates.
/// Composed of differentiable ops, so it trains and is twice differentiable like any graph.
/// </summary>
public class Recurrent : Module
{
    private readonly Parameter[] _weightIh, _weightHh;
    private readonly Parameter?[] _biasIh, _biasHh;
    private readonly Generator? _generator;

    /// <summary>Creates the layer.</summary>
    public Recurrent(RecurrentCell cell, int inputSize, int hiddenSize, int numLayers = 1, bool bias = true, bool batchFirst = false, float dropout = 0f,
        Generator? generator = null)
    {
        if (inputSize <= 0 || hiddenSize <= 0 || numLayers <= 0)
        {
            throw new ArgumentException($"{cell}: input_size ({inputSize}), hidden_size ({hiddenSize}) and num_layers ({numLayers}) must be positive.");
        }
        if (!(dropout >= 0f && dropout <= 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(dropout), dropout, $"{cell}: dropout must be in [0, 1].");
        }
        (Cell, InputSize, HiddenSize, NumLayers, BatchFirst, Dropout, _generator) = (cell, inputSize, hiddenSize, numLayers, batchFirst, dropout, generator);
        int gates = Gates(cell) * hiddenSize;
        (_weightIh, _weightHh, _biasIh, _biasHh) = (new Parameter[numLayers], new Parameter[numLayers], new Parameter?[numLayers], new Parameter?[numLayers]);
        var g = generator ?? Generator.Default;
        var init = Init.PyTorchDefaultBias(hiddenSize); // U(-1/sqrt(H), 1/sqrt(H)) for every parameter, as PyTorch
        for (int k = 0; k < numLayers; k++)
        {
            _weightIh[k] = RegisterParameter($"weight_ih_l{k}", new Parameter(Tensor.Zeros(gates, k == 0 ? inputSize : hiddenSize)));
            _weightHh[k] = RegisterParameter($"weight_hh_l{k}", new Parameter(Tensor.Zeros(gates, hiddenSize)));
            if (bias)
            {
                _biasIh[k] = RegisterParameter($"bias_ih_l{k}", new Parameter(Tensor.Zeros(gates)));
                _biasHh[k] = RegisterParameter($"bias_hh_l{k}", new Parameter(Tensor.Zeros(gates)));
            }
        }
        foreach (var p in Parameters())
        {
            init(p.Value, g);
        }
    }

    /// <summary>The cell.</summary>
    public RecurrentCell Cell { get; }

    /// <summary>The input features.</summary>
    public int InputSize { get; }

    /// <summary>The hidden state size H.</summary>
    public int HiddenSize { get; }

    /// <summary>The stacked layers.</summary>
    public int NumLayers { get; }

    /// <summary>Whether inputs and outputs are [N, L, .] rather than [L, N, .].</summary>
    public bool BatchFirst { get; }

    /// <summary>Dropout on each layer's output but the last, in training.</summary>
    public float Dropout { get; }

    /// <summary>The output sequence of the last layer, from zero initial states.</summary>
    public override Variable Forward(Variable input) => Run(input, null, null).Output;

    /// <summary>
    /// Runs the sequence from initial states <paramref name="h0"/> (and <paramref name="c0"/> for an LSTM), each
    /// [num_layers, N, H] (zeros when null); returns the last layer's outputs and every layer's final states.
    /// </summary>
    protected (Variable Output, Variable HiddenState, Variable? CellState) Run(Variable input, Variable? h0, Variable? c0)
    {
        ArgumentNullException.ThrowIfNull(input);
        bool unbatched = input.Rank == 2;
        var x = unbatched ? F.Unsqueeze(input, 1) : BatchFirst ? F.Transpose(input, 0, 1) : input;
        if (x.Rank != 3 || x.Shape[2] != InputSize)
        {
            throw new ArgumentException($"{Cell}: expected input [L, N, {InputSize}]{(BatchFirst ? " (batch first: [N, L, ...])" : "")} or [L, {InputSize}]; got {Shapes.Format(input.Shape)}.");
        }
        int steps = x.Shape[0], batch = x.Shape[1];
        Variable? State(Variable? given, string name)
        {
            if (given is null)
            {
                return null;
            }
            var state = unbatched ? F.Unsqueeze(given, 1) : given;
            if (!state.Shape.SequenceEqual(new[] { NumLayers, batch, HiddenSize }))
            {
                throw new ArgumentException($"{Cell}: {name} must be [{NumLayers}, {batch}, {HiddenSize}]{(unbatched ? " (unbatched: without the batch dim)" : "")}; got {Shapes.Format(given.Shape)}.");
            }
            return state;
        }
        var (hInit, cInit) = (State(h0, "h0"), State(c0, "c0"));
        var finalH = new Variable[NumLayers];
        var finalC = new Variable[NumLayers];
        for (int k = 0; k < NumLayers; k++)
        {
            var zeros = new Variable(Tensor.Zeros(batch, HiddenSize));
            var h = hInit is null ? zeros : F.Reshape(F.Slice(hInit, 0, k, k + 1), batch, HiddenSize);
            var c = cInit is null ? zeros : F.Reshape(F.Slice(cInit, 0, k, k + 1), batch, HiddenSize);
            // all steps' input projections in one product: [L N, in] -> [L, N, G H]
            var projected = F.Reshape(F.Linear(F.Reshape(x, steps * batch, -1), _weightIh[k], _biasIh[k]), steps, batch, -1);
            var outputs = new Variable[steps];
            for (int t = 0; t < steps; t++)
            {
                var fromInput = F.Reshape(F.Slice(projected, 0, t, t + 1), batch, -1);
                (h, c) = Step(fromInput, F.Linear(h, _weightHh[k], _biasHh[k]), h, c);
                outputs[t] = h;
            }
            (finalH[k], finalC[k]) = (h, c);
            x = F.Stack(outputs, 0);
            if (k < NumLayers - 1 && Dropout > 0 && Training)
            {
                x = F.Dropout(x, Dropout, training: true, _generator);
            }
        }
        var output = unbatched ? F.Squeeze(x, 1) : BatchFirst ? F.Transpose(x, 0, 1) : x;
        var hN = F.Stack(finalH, 0);
        var cN = Cell == RecurrentCell.Lstm ? F.Stack(finalC, 0) : null;
        return unbatched ? (output, F.Squeeze(hN, 1), cN is null ? null : F.Squeeze(cN, 1)) : (output, hN, cN);
    }

    /// <summary>One step of the cell from the two projections (input's and hidden state's, biases included).</summary>
    private (Variable H, Variable C) Step(Variable fromInput, Variable fromHidden, Variable h, Variable c)
    {
        int size = HiddenSize;
        Variable Gate(Variable v, int i) => F.Slice(v, 1, i * size, (i + 1) * size);
        switch (Cell)
        {
            case RecurrentCell.RnnTanh:
                return (F.Tanh(fromInput + fromHidden), c);
            case RecurrentCell.RnnRelu:
                return (F.Relu(fromInput + fromHidden), c);
            case RecurrentCell.Lstm:
            {
                var gates = fromInput + fromHidden;
                var (i, f, g, o) = (F.Sigmoid(Gate(gates, 0)), F.Sigmoid(Gate(gates, 1)), F.Tanh(Gate(gates, 2)), F.Sigmoid(Gate(gates, 3)));
                var next = f * c + i * g;
                return (o * F.Tanh(next), next);
            }
            default:
            {
                var r = F.Sigmoid(Gate(fromInput, 0) + Gate(fromHidden, 0));
                var z = F.Sigmoid(Gate(fromInput, 1) + Gate(fromHidden, 1));
                var n = F.Tanh(Gate(fromInput, 2) + r * Gate(fromHidden, 2));
                return ((1f - z) * n + z * h, c);
            }
        }
    }

    private static int Gates(RecurrentCell cell) => cell switch { RecurrentCell.Lstm => 4, RecurrentCell.Gru => 3, _ => 1 };

    /// <inheritdoc/>
    protected override string Describe() => $"{InputSize}, {HiddenSize}, num_layers={NumLayers}, batch_first={BatchFirst}, dropout={Dropout}";
}

/// <summary>PyTorch's nn.RNN (tanh or ReLU).</summary>
public sealed class Rnn(int inputSize, int hiddenSize, int numLayers = 1, bool relu = false, bool bias = true, bool batchFirst = false, float dropout = 0f,
    Generator? generator = null)
    : Recurrent(relu ? RecurrentCell.RnnRelu : RecurrentCell.RnnTanh, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, generator)
{
    /// <summary>The output sequence and the final hidden states [num_layers, N, H].</summary>
    public (Variable Output, Variable HiddenState) Forward(Variable input, Variable? h0)
    {
        var (output, h, _) = Run(input, h0, null);
        return (output, h);
    }
}

/// <summary>PyTorch's nn.LSTM.</summary>
public sealed class Lstm(int inputSize, int hiddenSize, int numLayers = 1, bool bias = true, bool batchFirst = false, float dropout = 0f, Generator? generator = null)
    : Recurrent(RecurrentCell.Lstm, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, generator)
{
    /// <summary>The output sequence and the final hidden and cell states, each [num_layers, N, H].</summary>
    public (Variable Output, (Variable H, Variable C) State) Forward(Variable input, (Variable H, Variable C)? initial)
    {
        var (output, h, c) = Run(input, initial?.H, initial?.C);
        return (output, (h, c!));
    }
}

/// <summary>PyTorch's nn.GRU.</summary>
public sealed class Gru(int inputSize, int hiddenSize, int numLayers = 1, bool bias = true, bool batchFirst = false, float dropout = 0f, Generator? generator = null)
    : Recurrent(RecurrentCell.Gru, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, generator)
{
    /// <summary>The output sequence and the final hidden states [num_layers, N, H].</summary>
    public (Variable Output, Variable HiddenState) Forward(Variable input, Variable? h0)
    {
        var (output, h, _) = Run(input, h0, null);
        return (output, h);
    }
}
