namespace AutoGrad;

// The tensor ops of FTensorOps.cs as methods, on Tensor (values, no graph) and on Variable (recorded), PyTorch's
// spellings: x.ArgMax(1), x.Eq(y), (logits.ArgMax(1).Eq(labels)).Mean().

public sealed partial class Tensor
{
    private Variable AsConstant => new(this);

    /// <summary>See <see cref="F.ArgMax(Variable, int?, bool)"/>.</summary>
    public Tensor ArgMax(int? dim = null, bool keepDim = false) => F.ArgMax(AsConstant, dim, keepDim);

    /// <summary>See <see cref="F.ArgMin(Variable, int?, bool)"/>.</summary>
    public Tensor ArgMin(int? dim = null, bool keepDim = false) => F.ArgMin(AsConstant, dim, keepDim);

    /// <summary>See <see cref="F.TopK(Variable, int, int, bool)"/>.</summary>
    public (Tensor Values, Tensor Indices) TopK(int k, int dim = -1, bool largest = true)
    {
        var (values, indices) = F.TopK(AsConstant, k, dim, largest);
        return (values.Value, indices);
    }

    /// <summary>1 where equal (broadcast), else 0.</summary>
    public Tensor Eq(Tensor other) => F.Eq(AsConstant, new Variable(other)).Value;

    /// <summary>1 where equal to <paramref name="value"/>, else 0.</summary>
    public Tensor Eq(float value) => Eq(Scalar(value));

    /// <summary>1 where not equal (broadcast), else 0.</summary>
    public Tensor Ne(Tensor other) => F.Ne(AsConstant, new Variable(other)).Value;

    /// <summary>1 where not equal to <paramref name="value"/>, else 0.</summary>
    public Tensor Ne(float value) => Ne(Scalar(value));

    /// <summary>1 where less (broadcast), else 0.</summary>
    public Tensor Lt(Tensor other) => F.Lt(AsConstant, new Variable(other)).Value;

    /// <summary>1 where less than <paramref name="value"/>, else 0.</summary>
    public Tensor Lt(float value) => Lt(Scalar(value));

    /// <summary>1 where less or equal (broadcast), else 0.</summary>
    public Tensor Le(Tensor other) => F.Le(AsConstant, new Variable(other)).Value;

    /// <summary>1 where at most <paramref name="value"/>, else 0.</summary>
    public Tensor Le(float value) => Le(Scalar(value));

    /// <summary>1 where greater (broadcast), else 0.</summary>
    public Tensor Gt(Tensor other) => F.Gt(AsConstant, new Variable(other)).Value;

    /// <summary>1 where greater than <paramref name="value"/>, else 0.</summary>
    public Tensor Gt(float value) => Gt(Scalar(value));

    /// <summary>1 where greater or equal (broadcast), else 0.</summary>
    public Tensor Ge(Tensor other) => F.Ge(AsConstant, new Variable(other)).Value;

    /// <summary>1 where at least <paramref name="value"/>, else 0.</summary>
    public Tensor Ge(float value) => Ge(Scalar(value));

    /// <summary>See <see cref="F.Gather(Variable, int, Tensor)"/>.</summary>
    public Tensor Gather(int dim, Tensor index) => F.Gather(AsConstant, dim, index).Value;

    /// <summary>See <see cref="F.Cumsum(Variable, int)"/>.</summary>
    public Tensor Cumsum(int dim) => F.Cumsum(AsConstant, dim).Value;

    /// <summary>See <see cref="F.Tril(Variable, int)"/>.</summary>
    public Tensor Tril(int diagonal = 0) => F.Tril(AsConstant, diagonal).Value;

    /// <summary>See <see cref="F.Triu(Variable, int)"/>.</summary>
    public Tensor Triu(int diagonal = 0) => F.Triu(AsConstant, diagonal).Value;

    /// <summary>See <see cref="F.Expand(Variable, int[])"/>.</summary>
    public Tensor Expand(params int[] shape) => F.Expand(AsConstant, shape).Value;

    /// <summary>See <see cref="F.Repeat(Variable, int[])"/>.</summary>
    public Tensor Repeat(params int[] repeats) => F.Repeat(AsConstant, repeats).Value;
}

public partial class Variable
{
    /// <summary>See <see cref="F.ArgMax(Variable, int?, bool)"/>.</summary>
    public Tensor ArgMax(int? dim = null, bool keepDim = false) => F.ArgMax(this, dim, keepDim);

    /// <summary>See <see cref="F.ArgMin(Variable, int?, bool)"/>.</summary>
    public Tensor ArgMin(int? dim = null, bool keepDim = false) => F.ArgMin(this, dim, keepDim);

    /// <summary>See <see cref="F.TopK(Variable, int, int, bool)"/>.</summary>
    public (Variable Values, Tensor Indices) TopK(int k, int dim = -1, bool largest = true) => F.TopK(this, k, dim, largest);

    /// <summary>See <see cref="F.Eq(Variable, Variable)"/>.</summary>
    public Variable Eq(Variable other) => F.Eq(this, other);

    /// <summary>See <see cref="F.Ne(Variable, Variable)"/>.</summary>
    public Variable Ne(Variable other) => F.Ne(this, other);

    /// <summary>See <see cref="F.Lt(Variable, Variable)"/>.</summary>
    public Variable Lt(Variable other) => F.Lt(this, other);

    /// <summary>See <see cref="F.Le(Variable, Variable)"/>.</summary>
    public Variable Le(Variable other) => F.Le(this, other);

    /// <summary>See <see cref="F.Gt(Variable, Variable)"/>.</summary>
    public Variable Gt(Variable other) => F.Gt(this, other);

    /// <summary>See <see cref="F.Ge(Variable, Variable)"/>.</summary>
    public Variable Ge(Variable other) => F.Ge(this, other);

    /// <summary>See <see cref="F.MaskedFill(Variable, Tensor, float)"/>.</summary>
    public Variable MaskedFill(Tensor mask, float value) => F.MaskedFill(this, mask, value);

    /// <summary>See <see cref="F.Gather(Variable, int, Tensor)"/>.</summary>
    public Variable Gather(int dim, Tensor index) => F.Gather(this, dim, index);

    /// <summary>See <see cref="F.Cumsum(Variable, int)"/>.</summary>
    public Variable Cumsum(int dim) => F.Cumsum(this, dim);

    /// <summary>See <see cref="F.Tril(Variable, int)"/>.</summary>
    public Variable Tril(int diagonal = 0) => F.Tril(this, diagonal);

    /// <summary>See <see cref="F.Triu(Variable, int)"/>.</summary>
    public Variable Triu(int diagonal = 0) => F.Triu(this, diagonal);

    /// <summary>See <see cref="F.Expand(Variable, int[])"/>.</summary>
    public Variable Expand(params int[] shape) => F.Expand(this, shape);

    /// <summary>See <see cref="F.Repeat(Variable, int[])"/>.</summary>
    public Variable Repeat(params int[] repeats) => F.Repeat(this, repeats);

    /// <summary>See <see cref="F.Split(Variable, int, int)"/>.</summary>
    public Variable[] Split(int splitSize, int dim = 0) => F.Split(this, splitSize, dim);

    /// <summary>See <see cref="F.Chunk(Variable, int, int)"/>.</summary>
    public Variable[] Chunk(int chunks, int dim = 0) => F.Chunk(this, chunks, dim);
}
