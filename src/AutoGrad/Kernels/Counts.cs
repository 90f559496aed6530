namespace AutoGrad.Kernels;

/// <summary>
/// A small number as a type (output channels in a register block, vectors per output row, rows and columns of a tile):
/// a constant per generic instantiation, so the accumulators a smaller block does not use compile away.
/// </summary>
internal interface ICount
{
    static abstract int Value { get; }
}

internal readonly struct One : ICount
{
    public static int Value => 1;
}

internal readonly struct Two : ICount
{
    public static int Value => 2;
}

internal readonly struct Three : ICount
{
    public static int Value => 3;
}

internal readonly struct Four : ICount
{
    public static int Value => 4;
}

internal readonly struct Five : ICount
{
    public static int Value => 5;
}

internal readonly struct Six : ICount
{
    public static int Value => 6;
}

internal readonly struct Seven : ICount
{
    public static int Value => 7;
}

internal readonly struct Eight : ICount
{
    public static int Value => 8;
}
