namespace AutoGrad.Nn;

/// <summary>Fills a parameter tensor in place from <paramref name="generator"/>.</summary>
public delegate void Initializer(Tensor tensor, Generator generator);

/// <summary>How Kaiming initialization picks the fan: from the inputs (preserves forward variance) or outputs (backward).</summary>
public enum FanMode
{
    /// <summary>fan_in: inputs per output unit (in_features, or in_channels * kh * kw).</summary>
    FanIn,

    /// <summary>fan_out: outputs per input unit (out_features, or out_channels * kh * kw).</summary>
    FanOut,
}

/// <summary>The nonlinearity after a layer, which sets the gain of Xavier and Kaiming initialization.</summary>
public enum Nonlinearity
{
    /// <summary>Gain 1 (also for sigmoid and identity).</summary>
    Linear,

    /// <summary>Gain 5/3.</summary>
    Tanh,

    /// <summary>Gain sqrt(2).</summary>
    Relu,

    /// <summary>Gain sqrt(2 / (1 + a^2)) for negative slope a.</summary>
    LeakyRelu,
}

/// <summary>
/// Initializers (torch.nn.init). Each returns an <see cref="Initializer"/> that layers accept, and can be applied
/// directly with <see cref="Apply"/>. Fans follow PyTorch: for weight [out, in, k...] fan_in = in * prod(k) and
/// fan_out = out * prod(k).
/// </summary>
public static class Init
{
    /// <summary>Applies <paramref name="initializer"/> to <paramref name="tensor"/> with the given or default generator.</summary>
    public static void Apply(Tensor tensor, Initializer initializer, Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ArgumentNullException.ThrowIfNull(initializer);
        initializer(tensor, generator ?? Generator.Default);
    }

    /// <summary>All zeros.</summary>
    public static Initializer Zeros() => (t, _) => t.AsSpan().Clear();

    /// <summary>All ones.</summary>
    public static Initializer Ones() => Constant(1f);

    /// <summary>Every element set to <paramref name="value"/>.</summary>
    public static Initializer Constant(float value) => (t, _) => t.AsSpan().Fill(value);

    /// <summary>U(low, high).</summary>
    public static Initializer Uniform(float low = 0f, float high = 1f)
    {
        if (!(low <= high))
        {
            throw new ArgumentException($"Init.Uniform: low ({low}) must not exceed high ({high}).");
        }
        return (t, g) => g.FillUniform(t.AsSpan(), low, high);
    }

    /// <summary>N(mean, std^2).</summary>
    public static Initializer Normal(float mean = 0f, float std = 1f)
    {
        CheckNonNegative(std, nameof(Normal), "std");
        return (t, g) => g.FillNormal(t.AsSpan(), mean, std);
    }

    /// <summary>Glorot uniform: U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out)).</summary>
    public static Initializer XavierUniform(float gain = 1f)
    {
        CheckNonNegative(gain, nameof(XavierUniform), "gain");
        return (t, g) =>
        {
            var (fanIn, fanOut) = Fans(t, nameof(XavierUniform));
            float bound = gain * MathF.Sqrt(6f / (fanIn + fanOut));
            g.FillUniform(t.AsSpan(), -bound, bound);
        };
    }

    /// <summary>Glorot normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)).</summary>
    public static Initializer XavierNormal(float gain = 1f)
    {
        CheckNonNegative(gain, nameof(XavierNormal), "gain");
        return (t, g) =>
        {
            var (fanIn, fanOut) = Fans(t, nameof(XavierNormal));
            g.FillNormal(t.AsSpan(), 0f, gain * MathF.Sqrt(2f / (fanIn + fanOut)));
        };
    }

    /// <summary>He uniform: U(-b, b) with b = gain * sqrt(3 / fan); <paramref name="a"/> is the leaky-ReLU slope.</summary>
    public static Initializer KaimingUniform(float a = 0f, FanMode mode = FanMode.FanIn, Nonlinearity nonlinearity = Nonlinearity.LeakyRelu)
        => (t, g) =>
        {
            float bound = Gain(nonlinearity, a) * MathF.Sqrt(3f / Fan(t, mode, nameof(KaimingUniform)));
            g.FillUniform(t.AsSpan(), -bound, bound);
        };

    /// <summary>He normal: N(0, std^2) with std = gain / sqrt(fan).</summary>
    public static Initializer KaimingNormal(float a = 0f, FanMode mode = FanMode.FanIn, Nonlinearity nonlinearity = Nonlinearity.LeakyRelu)
        => (t, g) => g.FillNormal(t.AsSpan(), 0f, Gain(nonlinearity, a) / MathF.Sqrt(Fan(t, mode, nameof(KaimingNormal))));

    /// <summary>
    /// PyTorch's default for Linear and Conv2d weights: kaiming_uniform with a = sqrt(5), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    /// </summary>
    public static Initializer PyTorchDefaultWeight() => KaimingUniform(MathF.Sqrt(5f));

    /// <summary>PyTorch's default for biases: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with the fan_in of the layer's weight.</summary>
    public static Initializer PyTorchDefaultBias(int fanIn)
    {
        float bound = fanIn > 0 ? 1f / MathF.Sqrt(fanIn) : 0f;
        return (t, g) => g.FillUniform(t.AsSpan(), -bound, bound);
    }

    /// <summary>The recommended gain for a nonlinearity (torch.nn.init.calculate_gain).</summary>
    public static float Gain(Nonlinearity nonlinearity, float negativeSlope = 0.01f) => nonlinearity switch
    {
        Nonlinearity.Linear => 1f,
        Nonlinearity.Tanh => 5f / 3f,
        Nonlinearity.Relu => MathF.Sqrt(2f),
        Nonlinearity.LeakyRelu => MathF.Sqrt(2f / (1f + negativeSlope * negativeSlope)),
        _ => throw new ArgumentOutOfRangeException(nameof(nonlinearity), nonlinearity, "Init.Gain: unknown nonlinearity."),
    };

    /// <summary>(fan_in, fan_out) of a weight of rank &gt;= 2.</summary>
    public static (int FanIn, int FanOut) Fans(Tensor weight, string op = nameof(Fans))
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank < 2)
        {
            throw new ArgumentException($"Init.{op}: fan in and fan out need a weight of rank >= 2; got shape {Shapes.Format(weight.Shape)}.");
        }
        int receptive = 1;
        for (int d = 2; d < weight.Rank; d++)
        {
            receptive *= weight.Shape[d];
        }
        return (weight.Shape[1] * receptive, weight.Shape[0] * receptive);
    }

    private static int Fan(Tensor t, FanMode mode, string op)
    {
        var (fanIn, fanOut) = Fans(t, op);
        int fan = mode == FanMode.FanIn ? fanIn : fanOut;
        return fan > 0 ? fan : throw new ArgumentException($"Init.{op}: weight {Shapes.Format(t.Shape)} has a zero fan.");
    }

    private static void CheckNonNegative(float value, string op, string name)
    {
        if (!(value >= 0f) || float.IsInfinity(value))
        {
            throw new ArgumentException($"Init.{op}: {name} must be finite and >= 0; got {value}.");
        }
    }
}
