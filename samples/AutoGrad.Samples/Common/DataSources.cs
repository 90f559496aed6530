using AutoGrad.Data;

namespace AutoGrad.Samples.Common;

/// <summary>Finds the data sets: the shipped ones under data/ and Fashion-MNIST where its script or Debian puts it.</summary>
public static class DataSources
{
    public const string FashionSystemFolder = "/usr/share/datasets/fashion-mnist";

    /// <summary>The repository's data/ folder: searched upward from the working directory and from the program.</summary>
    public static string FindDataFolder(string? explicitFolder)
    {
        if (explicitFolder is not null)
        {
            return Directory.Exists(explicitFolder)
                ? explicitFolder
                : throw new DirectoryNotFoundException($"--data-dir '{explicitFolder}' does not exist.");
        }
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "data", "iris.csv")))
                {
                    return Path.Combine(dir.FullName, "data");
                }
            }
        }
        throw new DirectoryNotFoundException(
            "Could not find the repository's data/ folder (looked upward from the working directory for data/iris.csv); run from the repository or pass --data-dir.");
    }

    public static string Iris(string dataFolder) => Require(Path.Combine(dataFolder, "iris.csv"), "git checkout data/iris.csv (it ships with the repository)");

    /// <summary>The shipped MNIST digits: (train 8,000, test 2,000).</summary>
    public static (TensorDataset Train, TensorDataset Test) Mnist(string dataFolder)
    {
        string folder = Path.Combine(dataFolder, "mnist");
        const string fix = "bash data/mnist/get-mnist.sh (the files ship with the repository)";
        return (
            Idx.ReadImageDataset(Require(Path.Combine(folder, "train-images-idx3-ubyte.gz"), fix), Require(Path.Combine(folder, "train-labels-idx1-ubyte.gz"), fix)),
            Idx.ReadImageDataset(Require(Path.Combine(folder, "test-images-idx3-ubyte.gz"), fix), Require(Path.Combine(folder, "test-labels-idx1-ubyte.gz"), fix)));
    }

    /// <summary>
    /// Fashion-MNIST (train 60,000, test 10,000) from data/fashion-mnist, or else from Debian's folder unless the data
    /// folder was given explicitly.
    /// </summary>
    public static (TensorDataset Train, TensorDataset Test) FashionMnist(string dataFolder, bool allowSystemFolder)
    {
        string local = Path.Combine(dataFolder, "fashion-mnist");
        bool useSystem = allowSystemFolder && !System.IO.File.Exists(Path.Combine(local, "train-images-idx3-ubyte.gz")) && Directory.Exists(FashionSystemFolder);
        string folder = useSystem ? FashionSystemFolder : local;
        const string fix = "bash data/get-fashion-mnist.sh (or: apt-get install dataset-fashion-mnist)";
        string In(string name) => Require(Path.Combine(folder, name), fix);
        return (
            Idx.ReadImageDataset(In("train-images-idx3-ubyte.gz"), In("train-labels-idx1-ubyte.gz")),
            Idx.ReadImageDataset(In("t10k-images-idx3-ubyte.gz"), In("t10k-labels-idx1-ubyte.gz")));
    }

    public static readonly string[] FashionClasses = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>The first <paramref name="limit"/> samples (for quick smoke runs), or the whole set.</summary>
    public static TensorDataset Limit(TensorDataset data, int? limit)
        => limit is { } n && n < data.Count ? data.Select(Enumerable.Range(0, n).ToArray()) : data;

    private static string Require(string path, string howToGet)
        => System.IO.File.Exists(path) ? path : throw new FileNotFoundException($"Missing data file '{path}'. Get it with: {howToGet}", path);
}
