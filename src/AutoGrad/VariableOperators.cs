namespace AutoGrad;

// Operators and method forms of the functional API, so expressions read like PyTorch: (x * w + b).Relu().Sum().
public partial class Variable
{
    /// <summary>Elementwise sum with broadcasting.</summary>
    public static Variable operator +(Variable x, Variable y) => F.Add(x, y);

    /// <summary>Adds a constant.</summary>
    public static Variable operator +(Variable x, float y) => F.Add(x, y);

    /// <summary>Adds a constant.</summary>
    public static Variable operator +(float x, Variable y) => F.Add(y, x);

    /// <summary>Elementwise difference with broadcasting.</summary>
    public static Variable operator -(Variable x, Variable y) => F.Sub(x, y);

    /// <summary>Subtracts a constant.</summary>
    public static Variable operator -(Variable x, float y) => F.Sub(x, y);

    /// <summary>A constant minus each element.</summary>
    public static Variable operator -(float x, Variable y) => F.Sub(x, y);

    /// <summary>Negation.</summary>
    public static Variable operator -(Variable x) => F.Neg(x);

    /// <summary>Elementwise product with broadcasting.</summary>
    public static Variable operator *(Variable x, Variable y) => F.Mul(x, y);

    /// <summary>Multiplies by a constant.</summary>
    public static Variable operator *(Variable x, float y) => F.Mul(x, y);

    /// <summary>Multiplies by a constant.</summary>
    public static Variable operator *(float x, Variable y) => F.Mul(y, x);

    /// <summary>Elementwise quotient with broadcasting.</summary>
    public static Variable operator /(Variable x, Variable y) => F.Div(x, y);

    /// <summary>Divides by a constant.</summary>
    public static Variable operator /(Variable x, float y) => F.Div(x, y);

    /// <summary>A constant divided by each element.</summary>
    public static Variable operator /(float x, Variable y) => F.Div(x, y);

    /// <inheritdoc cref="F.Exp"/>
    public Variable Exp() => F.Exp(this);

    /// <inheritdoc cref="F.Log"/>
    public Variable Log() => F.Log(this);

    /// <inheritdoc cref="F.Pow"/>
    public Variable Pow(float exponent) => F.Pow(this, exponent);

    /// <inheritdoc cref="F.Sqrt"/>
    public Variable Sqrt() => F.Sqrt(this);

    /// <inheritdoc cref="F.Abs"/>
    public Variable Abs() => F.Abs(this);

    /// <inheritdoc cref="F.Clamp"/>
    public Variable Clamp(float? min = null, float? max = null) => F.Clamp(this, min, max);

    /// <inheritdoc cref="F.Relu"/>
    public Variable Relu() => F.Relu(this);

    /// <inheritdoc cref="F.Tanh"/>
    public Variable Tanh() => F.Tanh(this);

    /// <inheritdoc cref="F.Sigmoid"/>
    public Variable Sigmoid() => F.Sigmoid(this);

    /// <inheritdoc cref="F.MatMul"/>
    public Variable MatMul(Variable other) => F.MatMul(this, other);

    /// <inheritdoc cref="F.Sum(Variable)"/>
    public Variable Sum() => F.Sum(this);

    /// <inheritdoc cref="F.Sum(Variable, int, bool)"/>
    public Variable Sum(int dim, bool keepDim = false) => F.Sum(this, dim, keepDim);

    /// <inheritdoc cref="F.Sum(Variable, int[], bool)"/>
    public Variable Sum(int[] dims, bool keepDim = false) => F.Sum(this, dims, keepDim);

    /// <inheritdoc cref="F.Mean(Variable)"/>
    public Variable Mean() => F.Mean(this);

    /// <inheritdoc cref="F.Mean(Variable, int, bool)"/>
    public Variable Mean(int dim, bool keepDim = false) => F.Mean(this, dim, keepDim);

    /// <inheritdoc cref="F.Mean(Variable, int[], bool)"/>
    public Variable Mean(int[] dims, bool keepDim = false) => F.Mean(this, dims, keepDim);

    /// <inheritdoc cref="F.Max(Variable)"/>
    public Variable Max() => F.Max(this);

    /// <inheritdoc cref="F.Max(Variable, int, bool)"/>
    public Variable Max(int dim, bool keepDim = false) => F.Max(this, dim, keepDim);

    /// <inheritdoc cref="F.Max(Variable, int[], bool)"/>
    public Variable Max(int[] dims, bool keepDim = false) => F.Max(this, dims, keepDim);

    /// <inheritdoc cref="F.Min(Variable)"/>
    public Variable Min() => F.Min(this);

    /// <inheritdoc cref="F.Min(Variable, int, bool)"/>
    public Variable Min(int dim, bool keepDim = false) => F.Min(this, dim, keepDim);

    /// <inheritdoc cref="F.Min(Variable, int[], bool)"/>
    public Variable Min(int[] dims, bool keepDim = false) => F.Min(this, dims, keepDim);

    /// <inheritdoc cref="F.Reshape"/>
    public Variable Reshape(params int[] shape) => F.Reshape(this, shape);

    /// <inheritdoc cref="F.Transpose"/>
    public Variable Transpose(int dim0, int dim1) => F.Transpose(this, dim0, dim1);

    /// <inheritdoc cref="F.Permute"/>
    public Variable Permute(params int[] dims) => F.Permute(this, dims);

    /// <inheritdoc cref="F.Squeeze(Variable)"/>
    public Variable Squeeze() => F.Squeeze(this);

    /// <inheritdoc cref="F.Squeeze(Variable, int)"/>
    public Variable Squeeze(int dim) => F.Squeeze(this, dim);

    /// <inheritdoc cref="F.Unsqueeze"/>
    public Variable Unsqueeze(int dim) => F.Unsqueeze(this, dim);

    /// <inheritdoc cref="F.Slice"/>
    public Variable Slice(int dim, int start, int? end = null, int step = 1) => F.Slice(this, dim, start, end, step);

    /// <inheritdoc cref="F.IndexSelect"/>
    public Variable IndexSelect(int dim, int[] indices) => F.IndexSelect(this, dim, indices);
}
