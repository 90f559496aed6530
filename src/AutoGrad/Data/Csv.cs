using System.Globalization;
using AutoGrad.IO;

namespace AutoGrad.Data;

/// <summary>A classification table read from CSV: numeric features, integer labels, and the names behind both.</summary>
public sealed record CsvTable(TensorDataset Dataset, string[] FeatureNames, string[] ClassNames);

/// <summary>
/// Reads comma-separated classification data such as Iris: one row per sample, numeric feature columns and one label
/// column (by default the last). A first row whose feature fields are not all numbers is a header. Labels that are
/// non-negative integers are used as they are; any other labels become classes numbered in order of first appearance.
/// </summary>
public static class Csv
{
    private const string Format = "CSV";
    private const int MaxClassIndex = 100_000;

    /// <summary>Reads <paramref name="path"/>; <paramref name="labelColumn"/> counts from 0, negative from the end.</summary>
    /// <exception cref="InvalidDataException">A row has the wrong number of fields or a feature is not a number.</exception>
    public static CsvTable ReadClassification(string path, int labelColumn = -1)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var lines = File.ReadAllLines(path);
        var rows = new List<(int Line, string[] Fields)>();
        for (int i = 0; i < lines.Length; i++)
        {
            if (!string.IsNullOrWhiteSpace(lines[i]))
            {
                rows.Add((i + 1, lines[i].Split(',').Select(f => f.Trim().Trim('"')).ToArray()));
            }
        }
        if (rows.Count == 0)
        {
            throw Corrupt.File(path, Format, "the file has no rows.");
        }
        int columns = rows[0].Fields.Length;
        if (columns < 2)
        {
            throw Corrupt.File(path, Format, $"line {rows[0].Line} has {columns} field; need at least one feature and a label.");
        }
        int label = labelColumn < 0 ? labelColumn + columns : labelColumn;
        if (label < 0 || label >= columns)
        {
            throw new ArgumentOutOfRangeException(nameof(labelColumn), labelColumn, $"Csv: label column out of range for {columns} columns in '{path}'.");
        }
        var featureColumns = Enumerable.Range(0, columns).Where(c => c != label).ToArray();
        bool hasHeader = featureColumns.Any(c => !IsNumber(rows[0].Fields[c]));
        string[] featureNames = hasHeader
            ? featureColumns.Select(c => rows[0].Fields[c]).ToArray()
            : featureColumns.Select(c => $"x{c}").ToArray();
        var data = rows.Skip(hasHeader ? 1 : 0).ToList();
        if (data.Count == 0)
        {
            throw Corrupt.File(path, Format, "the file has a header but no data rows.");
        }

        var features = new float[data.Count * featureColumns.Length];
        var rawLabels = new string[data.Count];
        for (int r = 0; r < data.Count; r++)
        {
            var (line, fields) = data[r];
            if (fields.Length != columns)
            {
                throw Corrupt.File(path, Format, $"line {line} has {fields.Length} fields, expected {columns}.");
            }
            for (int f = 0; f < featureColumns.Length; f++)
            {
                string text = fields[featureColumns[f]];
                if (!float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out features[r * featureColumns.Length + f]))
                {
                    throw Corrupt.File(path, Format, $"line {line}, column {featureColumns[f] + 1}: '{Abbreviate(text)}' is not a number.");
                }
            }
            rawLabels[r] = fields[label];
            if (rawLabels[r].Length == 0)
            {
                throw Corrupt.File(path, Format, $"line {line}: the label (column {label + 1}) is empty.");
            }
        }

        int[] labels;
        string[] classNames;
        if (rawLabels.All(l => int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
        {
            labels = rawLabels.Select(l => int.Parse(l, CultureInfo.InvariantCulture)).ToArray();
            if (labels.Max() > MaxClassIndex)
            {
                throw Corrupt.File(path, Format, $"label {labels.Max()} is too large for a class index (at most {MaxClassIndex}).");
            }
            classNames = Enumerable.Range(0, labels.Max() + 1).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        }
        else
        {
            var classes = new List<string>();
            labels = new int[rawLabels.Length];
            for (int r = 0; r < rawLabels.Length; r++)
            {
                int index = classes.IndexOf(rawLabels[r]);
                if (index < 0)
                {
                    index = classes.Count;
                    classes.Add(rawLabels[r]);
                }
                labels[r] = index;
            }
            classNames = [.. classes];
        }
        var tensor = Tensor.FromArray(features, data.Count, featureColumns.Length);
        return new CsvTable(new TensorDataset(tensor, labels), featureNames, classNames);
    }

    private static bool IsNumber(string text) => float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _);

    private static string Abbreviate(string text) => text.Length <= 40 ? text : text[..40] + "...";
}
