using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using AutoGrad.IO;

namespace AutoGrad.Data;

/// <summary>A classification table read from CSV: numeric features, integer labels, and the names behind both.</summary>
public sealed record CsvTable(TensorDataset Dataset, string[] FeatureNames, string[] ClassNames);

/// <summary>
/// Reads comma-separated classification data such as Iris: one row per sample, numeric feature columns and one label
/// column (by default the last). A first row whose feature fields are not all numbers is a header. Labels that are
/// non-negative integers are used as they are; any other labels become classes numbered in order of first appearance.
/// </summary>
/// <remarks>
/// The rules, so that a file is read the same way everywhere or rejected with the line and field at fault:
/// <list type="bullet">
/// <item>The text is UTF-8 (a byte-order mark is skipped; UTF-16 with a byte-order mark is read too); invalid UTF-8
/// is an error, so two different undecodable labels never merge into one class.</item>
/// <item>Fields are separated by commas and may be quoted as in RFC 4180 (<c>"a, b"</c>, <c>""</c> for a quote);
/// spaces around unquoted fields are dropped; blank lines are skipped; every row has the first row's field count.</item>
/// <item>Numbers are read in the invariant culture: a decimal point, an optional sign and exponent, no thousands
/// separators. A decimal comma (<c>"1,5"</c>) is an error, not two values. NaN, infinities and values beyond
/// float32's range (such as 1e39) are errors unless <c>allowNonFinite</c> is set.</item>
/// <item>Integer labels are class indices: the class table has max + 1 entries, so the largest label may be at most
/// <c>min(100,000, max(1,023, the file's length in bytes))</c>, which keeps the table within a small multiple of the file.</item>
/// </list>
/// </remarks>
public static class Csv
{
    private const string Format = "CSV";
    private const int MaxClassIndex = 100_000;
    private const int SmallFileClassIndex = 1_023;

    /// <summary>Reads <paramref name="path"/>; <paramref name="labelColumn"/> counts from 0, negative from the end.</summary>
    /// <param name="path">The CSV file.</param>
    /// <param name="labelColumn">The label's column: 0-based, or negative to count from the end (-1 is the last).</param>
    /// <param name="allowNonFinite">Keep NaN, infinities and out-of-range values as features instead of rejecting them.</param>
    /// <exception cref="InvalidDataException">The text is not UTF-8, a row has the wrong number of fields, a quote is
    /// misplaced, a feature is not a finite number, or a label is empty or too large a class index.</exception>
    public static CsvTable ReadClassification(string path, int labelColumn = -1, bool allowNonFinite = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var bytes = File.ReadAllBytes(path);
        var text = Decode(path, bytes);
        var reader = new TableReader(path, labelColumn, allowNonFinite);
        var parser = new RecordParser(path, text);
        var fields = new List<ReadOnlyMemory<char>>();
        while (parser.Next(fields, out int line))
        {
            reader.Add(fields, line);
        }
        return reader.Finish(bytes.Length);
    }

    private static ReadOnlyMemory<char> Decode(string path, byte[] bytes)
    {
        if (bytes.Length >= 2 && (bytes[0], bytes[1]) is (0xFF, 0xFE) or (0xFE, 0xFF))
        {
            try
            {
                return new UnicodeEncoding(bigEndian: bytes[0] == 0xFE, byteOrderMark: false, throwOnInvalidBytes: true)
                    .GetString(bytes, 2, bytes.Length - 2).AsMemory();
            }
            catch (DecoderFallbackException)
            {
                throw Corrupt.File(path, Format, "the text starts with a UTF-16 byte-order mark but is not valid UTF-16.");
            }
        }
        int start = bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? 3 : 0;
        var chars = new char[bytes.Length - start];
        var status = System.Text.Unicode.Utf8.ToUtf16(bytes.AsSpan(start), chars, out int read, out int written, replaceInvalidSequences: false);
        if (status != System.Buffers.OperationStatus.Done)
        {
            int at = start + read;
            int line = 1 + bytes.AsSpan(0, at).Count((byte)'\n');
            throw Corrupt.File(path, Format,
                $"line {line}: byte {at} (0x{bytes[at]:X2}) is not valid UTF-8; AutoGrad reads CSV as UTF-8.");
        }
        return chars.AsMemory(0, written);
    }

    /// <summary>Splits the text into records of fields (RFC 4180 quoting), skipping blank lines.</summary>
    private sealed class RecordParser(string path, ReadOnlyMemory<char> text)
    {
        private int _at;
        private int _line = 1;
        private bool _quotedLast;

        public bool Next(List<ReadOnlyMemory<char>> fields, out int line)
        {
            var span = text.Span;
            while (_at < span.Length)
            {
                fields.Clear();
                line = _line;
                bool end;
                do
                {
                    end = ReadField(span, fields);
                }
                while (!end);
                if (fields.Count > 1 || fields[0].Length > 0 || _quotedLast)
                {
                    return true;
                }
            }
            line = _line;
            return false;
        }

        // Reads one field and the separator after it; true when the record ended (line break or end of text).
        private bool ReadField(ReadOnlySpan<char> span, List<ReadOnlyMemory<char>> fields)
        {
            while (_at < span.Length && span[_at] is ' ' or '\t')
            {
                _at++;
            }
            _quotedLast = _at < span.Length && span[_at] == '"';
            if (_quotedLast)
            {
                int fieldLine = _line;
                _at++;
                var value = new StringBuilder();
                int runStart = _at;
                while (true)
                {
                    int quote = span[_at..].IndexOf('"');
                    if (quote < 0)
                    {
                        throw Corrupt.File(path, Format, $"line {fieldLine}: a quoted field is not closed.");
                    }
                    _line += span.Slice(_at, quote).Count('\n');
                    _at += quote + 1;
                    if (_at < span.Length && span[_at] == '"')
                    {
                        value.Append(span[runStart.._at]); // keeps one quote of the pair
                        _at++;
                        runStart = _at;
                        continue;
                    }
                    break;
                }
                fields.Add(value.Length == 0
                    ? text.Slice(runStart, _at - 1 - runStart)
                    : value.Append(span[runStart..(_at - 1)]).ToString().AsMemory());
                while (_at < span.Length && span[_at] is ' ' or '\t')
                {
                    _at++;
                }
                if (_at < span.Length && span[_at] is not (',' or '\r' or '\n'))
                {
                    throw Corrupt.File(path, Format, $"line {_line}: '{span[_at]}' follows a closing quote; expected a comma or the end of the line.");
                }
                return Separator(span);
            }
            int stop = span[_at..].IndexOfAny(',', '\n', '\r');
            int fieldEnd = stop < 0 ? span.Length : _at + stop;
            var field = span[_at..fieldEnd].TrimEnd(" \t");
            if (field.Contains('"'))
            {
                throw Corrupt.File(path, Format, $"line {_line}: a quote inside the unquoted field '{Abbreviate(field.ToString())}' (quote the whole field).");
            }
            fields.Add(text.Slice(_at, field.Length));
            _at = fieldEnd;
            return Separator(span);
        }

        private bool Separator(ReadOnlySpan<char> span)
        {
            if (_at >= span.Length)
            {
                return true;
            }
            char c = span[_at++];
            if (c == ',')
            {
                return false;
            }
            if (c == '\r' && _at < span.Length && span[_at] == '\n')
            {
                _at++;
            }
            _line++;
            return true;
        }
    }

    /// <summary>Turns records into features and labels as they arrive: memory grows with the data, time is linear.</summary>
    private sealed class TableReader
    {
        private readonly string _path;
        private readonly int _labelColumn;
        private readonly bool _allowNonFinite;

        private readonly List<float> _features = [];
        private readonly List<int> _labelIds = [];
        private readonly Dictionary<string, int> _classIds = new(StringComparer.Ordinal);
        private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _classLookup;
        private readonly List<string> _classes = [];
        private int _columns = -1;
        private int _label;
        private int[] _featureColumns = [];
        private string[] _featureNames = [];
        private bool _sawHeaderOrData;

        public TableReader(string path, int labelColumn, bool allowNonFinite)
        {
            (_path, _labelColumn, _allowNonFinite) = (path, labelColumn, allowNonFinite);
            _classLookup = _classIds.GetAlternateLookup<ReadOnlySpan<char>>();
        }

        public void Add(List<ReadOnlyMemory<char>> fields, int line)
        {
            if (_columns < 0)
            {
                Start(fields, line);
                if (_featureColumns.Any(c => !float.TryParse(fields[c].Span, NumberStyles.Float, CultureInfo.InvariantCulture, out _)))
                {
                    _featureNames = _featureColumns.Select(c => fields[c].ToString()).ToArray();
                    return;
                }
                _featureNames = _featureColumns.Select(c => $"x{c}").ToArray();
            }
            if (fields.Count != _columns)
            {
                throw Corrupt.File(_path, Format, $"line {line} has {fields.Count} fields, expected {_columns}.");
            }
            foreach (int c in _featureColumns)
            {
                _features.Add(ParseFeature(fields[c].Span, line, c));
            }
            var label = fields[_label].Span;
            if (label.Length == 0)
            {
                throw Corrupt.File(_path, Format, $"line {line}: the label (column {_label + 1}) is empty.");
            }
            if (!_classLookup.TryGetValue(label, out int id))
            {
                id = _classes.Count;
                string name = label.ToString();
                _classIds.Add(name, id);
                _classes.Add(name);
            }
            _labelIds.Add(id);
        }

        private void Start(List<ReadOnlyMemory<char>> fields, int line)
        {
            _sawHeaderOrData = true;
            _columns = fields.Count;
            if (_columns < 2)
            {
                throw Corrupt.File(_path, Format, $"line {line} has {_columns} field; need at least one feature and a label.");
            }
            _label = _labelColumn < 0 ? _labelColumn + _columns : _labelColumn;
            if (_label < 0 || _label >= _columns)
            {
                throw new ArgumentOutOfRangeException("labelColumn", _labelColumn, $"Csv: label column out of range for {_columns} columns in '{_path}'.");
            }
            _featureColumns = Enumerable.Range(0, _columns).Where(c => c != _label).ToArray();
        }

        private float ParseFeature(ReadOnlySpan<char> text, int line, int column)
        {
            if (!float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float value))
            {
                string hint = text.Contains(',') ? " (numbers use a decimal point: AutoGrad reads them in the invariant culture)" : "";
                throw Corrupt.File(_path, Format, $"line {line}, column {column + 1}: '{Abbreviate(text.ToString())}' is not a number{hint}.");
            }
            if (!_allowNonFinite && !float.IsFinite(value))
            {
                throw Corrupt.File(_path, Format,
                    $"line {line}, column {column + 1}: '{Abbreviate(text.ToString())}' is not a finite float32 (NaN, an infinity, or beyond ±3.4e38); " +
                    "pass allowNonFinite: true to keep such values.");
            }
            return value;
        }

        public CsvTable Finish(long fileLength)
        {
            if (!_sawHeaderOrData)
            {
                throw Corrupt.File(_path, Format, "the file has no rows.");
            }
            int rows = _labelIds.Count;
            if (rows == 0)
            {
                throw Corrupt.File(_path, Format, "the file has a header but no data rows.");
            }
            int[] labels = new int[rows];
            string[] classNames;
            var indices = new int[_classes.Count];
            if (_classes.TrueForAll(IsClassIndex))
            {
                long limit = Math.Min(MaxClassIndex, Math.Max(SmallFileClassIndex, fileLength));
                int max = 0;
                for (int i = 0; i < indices.Length; i++)
                {
                    if (!int.TryParse(_classes[i], NumberStyles.None, CultureInfo.InvariantCulture, out indices[i]) || indices[i] > limit)
                    {
                        throw Corrupt.File(_path, Format,
                            $"label {Abbreviate(_classes[i])} is too large for a class index: integer labels index a table of classes, " +
                            $"at most {limit} in a file of {fileLength} bytes (name the classes instead).");
                    }
                    max = Math.Max(max, indices[i]);
                }
                classNames = Enumerable.Range(0, max + 1).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
            }
            else
            {
                for (int i = 0; i < indices.Length; i++)
                {
                    indices[i] = i;
                }
                classNames = [.. _classes];
            }
            for (int r = 0; r < rows; r++)
            {
                labels[r] = indices[_labelIds[r]];
            }
            var features = CollectionsMarshal.AsSpan(_features).ToArray();
            var tensor = Tensor.FromArray(features, rows, _featureColumns.Length);
            return new CsvTable(new TensorDataset(tensor, labels), _featureNames, classNames);
        }

        private static bool IsClassIndex(string label) => label.AsSpan().IndexOfAnyExceptInRange('0', '9') < 0;
    }

    private static string Abbreviate(string text) => text.Length <= 40 ? text : text[..40] + "...";
}
