namespace AutoGrad.Graph;

/// <summary>
/// What a graph node computes. The exporter, the graph dump and error messages switch on this (with the node's
/// typed <see cref="OpSettings"/>), never on a name string; a node's <see cref="Function.Name"/> is its kind's name
/// unless the node says otherwise (a custom function's own name).
/// </summary>
internal enum OpKind
{
    /// <summary>A user's <see cref="CustomFunction"/>.</summary>
    Custom,

    // arithmetic, with broadcasting
    Add,
    Sub,
    Mul,
    Div,
    Neg,
    AddScalar,
    RSubScalar,
    MulScalar,
    DivScalar,
    RDivScalar,

    // pointwise maps
    Exp,
    Log,
    Pow,
    Sqrt,
    Abs,
    Clamp,
    Relu,
    Tanh,
    Sigmoid,
    LeakyRelu,
    Elu,
    Softplus,
    Gelu,

    // layers
    Linear,
    MatMul,
    Conv2d,
    ConvTranspose2d,
    MaxPool2d,
    AvgPool2d,
    BatchNorm,
    LayerNorm,
    GroupNorm,
    Dropout,
    Softmax,
    LogSoftmax,
    ScaledDotProductAttention,

    // shapes, reductions, indexing
    Reshape,
    Permute,
    Sum,
    Max,
    Min,
    Slice,
    IndexSelect,
    Embedding,
    Concat,
    Gather,
    ScatterAdd,
    Where,

    // comparisons: masks of 1 and 0, recorded without a derivative (an exporter follows them)
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Cumsum,
    ReverseCumsum,

    // losses
    CrossEntropy,
    NllLoss,
    BinaryCrossEntropy,
    BinaryCrossEntropyWithLogits,

    // nodes that only a backward pass with createGraph (or a hook) records
    BackwardHook,
    SumToShape,
    ExpandTo,
    IndexAdd,
    MaxPoolScatter,
    MaxPoolGather,
    AvgPoolGradient,
    ActivationGradient,
}
