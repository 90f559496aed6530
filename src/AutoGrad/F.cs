using AutoGrad.Graph;
using AutoGrad.Ops;

namespace AutoGrad;

/// <summary>
/// The functional API (like <c>torch.nn.functional</c> plus the tensor math of <c>torch</c>): every differentiable
/// operation on <see cref="Variable"/>s. Arguments are validated here, with messages that name the op and the shapes.
/// </summary>
public static partial class F
{
    // ---- arithmetic ------------------------------------------------------------------------------------------------

    /// <summary>x + y, broadcasting as NumPy/PyTorch.</summary>
    public static Variable Add(Variable x, Variable y) => Ops.AddFunction.Apply(NotNull(x), NotNull(y));

    /// <summary>x + s.</summary>
    public static Variable Add(Variable x, float s) => AddScalarOp.Apply(NotNull(x), s);

    /// <summary>x - y, broadcasting.</summary>
    public static Variable Sub(Variable x, Variable y) => Ops.SubFunction.Apply(NotNull(x), NotNull(y));

    /// <summary>x - s.</summary>
    public static Variable Sub(Variable x, float s) => AddScalarOp.Apply(NotNull(x), -s);

    /// <summary>s - x.</summary>
    public static Variable Sub(float s, Variable x) => RSubScalarOp.Apply(NotNull(x), s);

    /// <summary>x * y elementwise, broadcasting.</summary>
    public static Variable Mul(Variable x, Variable y) => Ops.MulFunction.Apply(NotNull(x), NotNull(y));

    /// <summary>x * s.</summary>
    public static Variable Mul(Variable x, float s) => MulScalarOp.Apply(NotNull(x), s);

    /// <summary>x / y elementwise, broadcasting.</summary>
    public static Variable Div(Variable x, Variable y) => Ops.DivFunction.Apply(NotNull(x), NotNull(y));

    /// <summary>x / s.</summary>
    public static Variable Div(Variable x, float s) => DivScalarOp.Apply(NotNull(x), s);

    /// <summary>s / x.</summary>
    public static Variable Div(float s, Variable x) => RDivScalarOp.Apply(NotNull(x), s);

    /// <summary>-x.</summary>
    public static Variable Neg(Variable x) => Ops.NegOp.Apply(NotNull(x));

    // ---- elementwise functions -------------------------------------------------------------------------------------

    /// <summary>e^x elementwise.</summary>
    public static Variable Exp(Variable x) => Ops.ExpOp.Apply(NotNull(x));

    /// <summary>Natural logarithm elementwise (-Inf at 0, NaN below).</summary>
    public static Variable Log(Variable x) => Ops.LogOp.Apply(NotNull(x));

    /// <summary>x^exponent elementwise for a constant exponent.</summary>
    public static Variable Pow(Variable x, float exponent) => Ops.PowOp.Apply(NotNull(x), exponent);

    /// <summary>Square root elementwise.</summary>
    public static Variable Sqrt(Variable x) => Ops.SqrtOp.Apply(NotNull(x));

    /// <summary>|x| elementwise; its gradient at 0 is 0.</summary>
    public static Variable Abs(Variable x) => Ops.AbsOp.Apply(NotNull(x));

    /// <summary>Limits each element to [min, max]; a null bound is absent. The gradient passes where min &lt;= x &lt;= max.</summary>
    public static Variable Clamp(Variable x, float? min = null, float? max = null)
    {
        NotNull(x);
        if (min is null && max is null)
        {
            throw new ArgumentException(CallSite.Tag("Clamp: at least one of min and max must be given."));
        }
        if (min is float lo && float.IsNaN(lo) || max is float hi && float.IsNaN(hi))
        {
            throw new ArgumentException(CallSite.Tag($"Clamp: bounds must not be NaN (min={min}, max={max})."));
        }
        return Ops.ClampOp.Apply(x, min ?? float.NegativeInfinity, max ?? float.PositiveInfinity);
    }

    /// <summary>max(x, 0) elementwise.</summary>
    public static Variable Relu(Variable x) => Ops.ReluOp.Apply(NotNull(x));

    /// <summary>Hyperbolic tangent elementwise.</summary>
    public static Variable Tanh(Variable x) => Ops.TanhOp.Apply(NotNull(x));

    /// <summary>The logistic function 1 / (1 + e^-x), finite and exact in the limits for large |x|.</summary>
    public static Variable Sigmoid(Variable x) => Ops.SigmoidOp.Apply(NotNull(x));

    // ---- matrix product --------------------------------------------------------------------------------------------

    /// <summary>
    /// Matrix product with <c>torch.matmul</c>'s rules: 1-D·1-D is a dot product; a 1-D first (second) argument is
    /// treated as a row (column) and that dim is removed from the result; otherwise the last two dims multiply and
    /// the batch dims in front broadcast.
    /// </summary>
    public static Variable MatMul(Variable x, Variable y)
    {
        NotNull(x);
        NotNull(y);
        if (x.Rank == 0 || y.Rank == 0)
        {
            throw new ArgumentException(CallSite.Tag($"MatMul: both arguments need at least 1 dimension; got shapes {Shapes.Format(x.Shape)} and {Shapes.Format(y.Shape)}."));
        }
        if (x.Rank == 1 && y.Rank == 1)
        {
            CheckInner(x, y, x.Shape[0], y.Shape[0]);
            return Reshape(Ops.MatMulFunction.Apply(Reshape(x, 1, -1), Reshape(y, -1, 1)));
        }
        if (x.Rank == 1)
        {
            CheckInner(x, y, x.Shape[0], y.Shape[^2]);
            return Squeeze(Ops.MatMulFunction.Apply(Reshape(x, 1, -1), y), -2);
        }
        if (y.Rank == 1)
        {
            CheckInner(x, y, x.Shape[^1], y.Shape[0]);
            return Squeeze(Ops.MatMulFunction.Apply(x, Reshape(y, -1, 1)), -1);
        }
        CheckInner(x, y, x.Shape[^1], y.Shape[^2]);
        if (x.Rank > 2 && y.Rank == 2)
        {
            // [..., m, k] @ [k, n]: fold the batch into the rows, one large product instead of many small ones.
            var outShape = x.Value.ShapeArray.ToArray();
            outShape[^1] = y.Shape[1];
            return Reshape(Ops.MatMulFunction.Apply(Reshape(x, -1, x.Shape[^1]), y), outShape);
        }
        return Ops.MatMulFunction.Apply(x, y);
    }

    private static void CheckInner(Variable x, Variable y, int kx, int ky)
    {
        if (kx != ky)
        {
            throw new ArgumentException(
                CallSite.Tag($"MatMul: shapes {Shapes.Format(x.Shape)} and {Shapes.Format(y.Shape)} are not aligned: the contracted dims are {kx} and {ky}."));
        }
    }

    // ---- reductions ------------------------------------------------------------------------------------------------

    /// <summary>The sum of all elements (a scalar).</summary>
    public static Variable Sum(Variable x) => Sum(x, null, false);

    /// <summary>Sums over <paramref name="dim"/>; keepDim leaves it as size 1.</summary>
    public static Variable Sum(Variable x, int dim, bool keepDim = false) => Sum(x, [dim], keepDim);

    /// <summary>Sums over <paramref name="dims"/> (null: all dims); keepDim leaves them as size 1.</summary>
    public static Variable Sum(Variable x, int[]? dims, bool keepDim = false)
        => Ops.SumFunction.Apply(NotNull(x), Shapes.NormalizeDims(dims, x.Shape, "Sum"), keepDim);

    /// <summary>The mean of all elements (NaN for an empty tensor, as PyTorch).</summary>
    public static Variable Mean(Variable x) => Mean(x, null, false);

    /// <summary>Averages over <paramref name="dim"/>.</summary>
    public static Variable Mean(Variable x, int dim, bool keepDim = false) => Mean(x, [dim], keepDim);

    /// <summary>Averages over <paramref name="dims"/> (null: all dims).</summary>
    public static Variable Mean(Variable x, int[]? dims, bool keepDim = false)
    {
        var normalized = Shapes.NormalizeDims(dims, NotNull(x).Shape, "Mean");
        int count = 1;
        foreach (int d in normalized)
        {
            count *= x.Shape[d];
        }
        return DivScalarOp.Apply(Ops.SumFunction.Apply(x, normalized, keepDim), count);
    }

    /// <summary>The largest element (NaN if any element is NaN); ties share the gradient evenly.</summary>
    public static Variable Max(Variable x) => Max(x, null, false);

    /// <summary>The largest element along <paramref name="dim"/> (like <c>torch.amax</c>).</summary>
    public static Variable Max(Variable x, int dim, bool keepDim = false) => Max(x, [dim], keepDim);

    /// <summary>The largest element over <paramref name="dims"/> (null: all dims), like <c>torch.amax</c>.</summary>
    public static Variable Max(Variable x, int[]? dims, bool keepDim = false)
        => ExtremumFunction.Apply(NotNull(x), Shapes.NormalizeDims(dims, x.Shape, "Max"), keepDim, isMax: true);

    /// <summary>The smallest element (NaN if any element is NaN); ties share the gradient evenly.</summary>
    public static Variable Min(Variable x) => Min(x, null, false);

    /// <summary>The smallest element along <paramref name="dim"/> (like <c>torch.amin</c>).</summary>
    public static Variable Min(Variable x, int dim, bool keepDim = false) => Min(x, [dim], keepDim);

    /// <summary>The smallest element over <paramref name="dims"/> (null: all dims), like <c>torch.amin</c>.</summary>
    public static Variable Min(Variable x, int[]? dims, bool keepDim = false)
        => ExtremumFunction.Apply(NotNull(x), Shapes.NormalizeDims(dims, x.Shape, "Min"), keepDim, isMax: false);

    // ---- shape -----------------------------------------------------------------------------------------------------

    /// <summary>The same elements in a new shape; one dim may be -1 (inferred). No data is copied.</summary>
    public static Variable Reshape(Variable x, params int[] shape) => Ops.ReshapeFunction.Apply(NotNull(x), shape);

    /// <summary>Swaps two dims.</summary>
    public static Variable Transpose(Variable x, int dim0, int dim1)
    {
        NotNull(x);
        int a = Shapes.NormalizeDim(dim0, x.Rank, "Transpose", x.Shape);
        int b = Shapes.NormalizeDim(dim1, x.Rank, "Transpose", x.Shape);
        var permutation = new int[x.Rank];
        for (int d = 0; d < permutation.Length; d++)
        {
            permutation[d] = d;
        }
        if (x.Rank > 0)
        {
            (permutation[a], permutation[b]) = (permutation[b], permutation[a]);
        }
        return Ops.PermuteFunction.Apply(x, permutation);
    }

    /// <summary>Reorders dims: result dim i is input dim <paramref name="dims"/>[i].</summary>
    public static Variable Permute(Variable x, params int[] dims)
    {
        NotNull(x);
        ArgumentNullException.ThrowIfNull(dims);
        if (dims.Length != x.Rank)
        {
            throw new ArgumentException(CallSite.Tag($"Permute: {dims.Length} dims [{string.Join(", ", dims)}] given for a tensor of shape {Shapes.Format(x.Shape)} (rank {x.Rank})."));
        }
        var normalized = new int[dims.Length];
        var seen = new bool[dims.Length];
        for (int i = 0; i < dims.Length; i++)
        {
            normalized[i] = Shapes.NormalizeDim(dims[i], x.Rank, "Permute", x.Shape);
            if (seen[normalized[i]])
            {
                throw new ArgumentException(CallSite.Tag($"Permute: dim {dims[i]} repeats in [{string.Join(", ", dims)}]."));
            }
            seen[normalized[i]] = true;
        }
        return Ops.PermuteFunction.Apply(x, normalized);
    }

    /// <summary>Removes every size-1 dim.</summary>
    public static Variable Squeeze(Variable x)
    {
        var shape = new List<int>();
        foreach (int d in NotNull(x).Shape)
        {
            if (d != 1)
            {
                shape.Add(d);
            }
        }
        return Reshape(x, shape.ToArray());
    }

    /// <summary>Removes <paramref name="dim"/> if it has size 1 (otherwise returns the same shape, as PyTorch).</summary>
    public static Variable Squeeze(Variable x, int dim)
    {
        NotNull(x);
        int d = Shapes.NormalizeDim(dim, x.Rank, "Squeeze", x.Shape);
        var shape = x.Value.ShapeArray.ToList();
        if (x.Rank > 0 && shape[d] == 1)
        {
            shape.RemoveAt(d);
        }
        return Reshape(x, shape.ToArray());
    }

    /// <summary>Inserts a size-1 dim at <paramref name="dim"/> (-rank-1 .. rank).</summary>
    public static Variable Unsqueeze(Variable x, int dim)
    {
        NotNull(x);
        int d = Shapes.NormalizeDim(dim, x.Rank + 1, "Unsqueeze", x.Shape);
        var shape = x.Value.ShapeArray.ToList();
        shape.Insert(d, 1);
        return Reshape(x, shape.ToArray());
    }

    /// <summary>Joins tensors along an existing dim; all other dims must match.</summary>
    public static Variable Concat(IReadOnlyList<Variable> xs, int dim = 0)
    {
        ArgumentNullException.ThrowIfNull(xs);
        if (xs.Count == 0)
        {
            throw new ArgumentException(CallSite.Tag("Concat: needs at least one tensor."));
        }
        var first = NotNull(xs[0]);
        if (first.Rank == 0)
        {
            throw new ArgumentException(CallSite.Tag("Concat: rank-0 tensors cannot be concatenated; unsqueeze them first."));
        }
        int d = Shapes.NormalizeDim(dim, first.Rank, "Concat", first.Shape);
        for (int i = 1; i < xs.Count; i++)
        {
            var shape = NotNull(xs[i]).Shape;
            bool compatible = shape.Length == first.Rank;
            for (int j = 0; compatible && j < shape.Length; j++)
            {
                compatible = j == d || shape[j] == first.Shape[j];
            }
            if (!compatible)
            {
                throw new ArgumentException(
                    CallSite.Tag($"Concat: tensor {i} has shape {Shapes.Format(shape)} but tensor 0 has {Shapes.Format(first.Shape)}; all dims except dim {d} must match."));
            }
        }
        return Ops.ConcatFunction.Apply(xs.ToArray(), d);
    }

    /// <summary>
    /// Elements start, start+step, ... before end along <paramref name="dim"/>: Python's <c>x[..., start:end:step]</c>.
    /// Negative start/end count from the end, out-of-range bounds are clamped, a null end means the end; step &gt;= 1.
    /// </summary>
    public static Variable Slice(Variable x, int dim, int start, int? end = null, int step = 1)
    {
        NotNull(x);
        if (x.Rank == 0)
        {
            throw new ArgumentException(CallSite.Tag("Slice: a rank-0 tensor cannot be sliced."));
        }
        if (step < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(step), CallSite.Tag($"Slice: step must be >= 1; got {step}."));
        }
        int d = Shapes.NormalizeDim(dim, x.Rank, "Slice", x.Shape);
        int size = x.Shape[d];
        int from = Math.Clamp(start < 0 ? start + size : start, 0, size);
        int to = end is int e ? Math.Clamp(e < 0 ? e + size : e, 0, size) : size;
        int count = to > from ? (to - from + step - 1) / step : 0;
        var indices = new int[count];
        for (int i = 0; i < count; i++)
        {
            indices[i] = from + i * step;
        }
        return SelectFunction.Apply(x, d, indices, OpKind.Slice);
    }

    /// <summary>The entries at <paramref name="indices"/> along <paramref name="dim"/> (repeats allowed; negative counts from the end).</summary>
    public static Variable IndexSelect(Variable x, int dim, int[] indices)
    {
        NotNull(x);
        ArgumentNullException.ThrowIfNull(indices);
        if (x.Rank == 0)
        {
            throw new ArgumentException(CallSite.Tag("IndexSelect: a rank-0 tensor has no dim to select from."));
        }
        int d = Shapes.NormalizeDim(dim, x.Rank, "IndexSelect", x.Shape);
        int size = x.Shape[d];
        var normalized = new int[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            int index = indices[i];
            if (index < -size || index >= size)
            {
                throw new ArgumentOutOfRangeException(nameof(indices),
                    CallSite.Tag($"IndexSelect: index {index} (position {i}) is out of range for dim {d} of size {size} (shape {Shapes.Format(x.Shape)})."));
            }
            normalized[i] = index < 0 ? index + size : index;
        }
        return SelectFunction.Apply(x, d, normalized, OpKind.IndexSelect);
    }

    private static Variable NotNull(Variable x, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(x))] string? name = null)
    {
        ArgumentNullException.ThrowIfNull(x, name);
        return x;
    }
}
