namespace AutoGrad.IO;

/// <summary>Builds the <see cref="InvalidDataException"/> every reader throws: it names the file, the format and the problem.</summary>
internal static class Corrupt
{
    public static InvalidDataException File(string path, string format, string problem)
        => new($"{format} file '{path}': {problem}");
}
