using AutoGrad.IO;

namespace AutoGrad.Data;

/// <summary>
/// CIFAR-10's binary version: each record is one label byte (0..9) followed by 3072 pixel bytes, the red, green and
/// blue 32x32 planes in row-major order. The training set is data_batch_1.bin .. data_batch_5.bin, the test set
/// test_batch.bin.
/// </summary>
public static class Cifar10
{
    private const string Format = "CIFAR-10";
    private const int ImageBytes = 3 * 32 * 32;
    private const int RecordBytes = 1 + ImageBytes;

    /// <summary>The class names in label order.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    /// <summary>Reads one batch file into a dataset of [3, 32, 32] samples scaled to [0, 1].</summary>
    /// <exception cref="InvalidDataException">The length is not a whole number of records, or a label is not 0..9.</exception>
    public static TensorDataset ReadBatch(string path) => ReadBatches([path]);

    /// <summary>Reads the training (five batches) or test split from <paramref name="folder"/>.</summary>
    public static TensorDataset Load(string folder, bool train)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        var files = train
            ? Enumerable.Range(1, 5).Select(i => Path.Combine(folder, $"data_batch_{i}.bin")).ToArray()
            : [Path.Combine(folder, "test_batch.bin")];
        foreach (var file in files)
        {
            if (!File.Exists(file))
            {
                throw new FileNotFoundException($"CIFAR-10: '{file}' is missing; expected the binary version's batch files in '{folder}'.", file);
            }
        }
        return ReadBatches(files);
    }

    private static TensorDataset ReadBatches(string[] paths)
    {
        var lengths = paths.Select(p => new FileInfo(p).Length).ToArray();
        for (int i = 0; i < paths.Length; i++)
        {
            if (lengths[i] % RecordBytes != 0)
            {
                throw Corrupt.File(paths[i], Format, $"{lengths[i]} bytes is not a whole number of {RecordBytes}-byte records.");
            }
        }
        long total = lengths.Sum() / RecordBytes;
        if (total * ImageBytes > Array.MaxLength)
        {
            throw Corrupt.File(paths[^1], Format, $"{total} images in {string.Join(", ", paths)} are more than one tensor can hold.");
        }
        var features = Tensor.Zeros((int)total, 3, 32, 32);
        var labels = new int[total];
        var pixels = features.AsSpan();
        var record = new byte[RecordBytes];
        int n = 0;
        foreach (var path in paths)
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            while (n < total && stream.ReadAtLeast(record, RecordBytes, throwOnEndOfStream: false) == RecordBytes)
            {
                if (record[0] > 9)
                {
                    throw Corrupt.File(path, Format, $"record {stream.Position / RecordBytes - 1} has label {record[0]}; labels are 0..9.");
                }
                labels[n] = record[0];
                var image = pixels.Slice(n * ImageBytes, ImageBytes);
                for (int i = 0; i < ImageBytes; i++)
                {
                    image[i] = record[1 + i] / 255f;
                }
                n++;
            }
        }
        if (n != total)
        {
            throw Corrupt.File(paths[^1], Format, $"read {n} records where the file lengths promised {total} (a file changed while being read).");
        }
        return new TensorDataset(features, labels);
    }
}
