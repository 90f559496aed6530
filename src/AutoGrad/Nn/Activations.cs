namespace AutoGrad.Nn;

/// <summary>max(x, 0).</summary>
public sealed class ReLU : Module
{

    /// <inheritdoc/>
    public override Variable Forward(Variable input) => F.Relu(input);
}

/// <summary>x for x &gt;= 0, slope * x otherwise.</summary>
public sealed class LeakyReLU(float negativeSlope = 0.01f) : Module
{
    /// <summary>The slope for negative inputs.</summary>
    public float NegativeSlope { get; } = negativeSlope;


    /// <inheritdoc/>
    public override Variable Forward(Variable input) => F.LeakyRelu(input, NegativeSlope);

    /// <inheritdoc/>
    protected override string Describe() => $"negative_slope={NegativeSlope}";
}

/// <summary>The hyperbolic tangent.</summary>
public sealed class Tanh : Module
{

    /// <inheritdoc/>
    public override Variable Forward(Variable input) => F.Tanh(input);
}

/// <summary>The logistic function 1 / (1 + e^-x).</summary>
public sealed class Sigmoid : Module
{

    /// <inheritdoc/>
    public override Variable Forward(Variable input) => F.Sigmoid(input);
}

/// <summary>The Gaussian error linear unit, exact (erf) or with the tanh approximation.</summary>
public sealed class GELU(GeluApproximation approximate = GeluApproximation.None) : Module
{
    /// <summary>Which form is computed.</summary>
    public GeluApproximation Approximate { get; } = approximate;


    /// <inheritdoc/>
    public override Variable Forward(Variable input) => F.Gelu(input, Approximate);

    /// <inheritdoc/>
    protected override string Describe() => $"approximate={Approximate}";
}

/// <summary>Softmax along <c>dim</c> (default the last).</summary>
public sealed class Softmax(int dim = -1) : Module
{
    /// <summary>The dim normalized over.</summary>
    public int Dim { get; } = dim;


    /// <inheritdoc/>
    public override Variable Forward(Variable input) => F.Softmax(input, Dim);

    /// <inheritdoc/>
    protected override string Describe() => $"dim={Dim}";
}

/// <summary>Log-softmax along <c>dim</c> (default the last).</summary>
public sealed class LogSoftmax(int dim = -1) : Module
{
    /// <summary>The dim normalized over.</summary>
    public int Dim { get; } = dim;


    /// <inheritdoc/>
    public override Variable Forward(Variable input) => F.LogSoftmax(input, Dim);

    /// <inheritdoc/>
    protected override string Describe() => $"dim={Dim}";
}

/// <summary>Returns its input unchanged.</summary>
public sealed class Identity : Module
{

    /// <inheritdoc/>
    public override Variable Forward(Variable input) => input;
}
