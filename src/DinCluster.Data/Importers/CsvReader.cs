using System.Globalization;

namespace DinCluster.Data.Importers;

/// <summary>
/// A streaming CSV reader (RFC 4180 quoting: "a, b" is one cell, "" inside quotes is a quote; a quoted
/// cell may not span lines). One line at a time, cells as spans into the line: no object per cell.
/// Blank lines are passed over. The header is the first line; <see cref="Column"/> finds a column by name.
/// </summary>
internal sealed class CsvReader : IDisposable
{
    private readonly LineReader _lines;
    private readonly char _delimiter;
    private int[] _start = new int[16];
    private int[] _length = new int[16];
    private char[] _scratch = new char[256];
    private string _line = "";
    private bool _quoted;

    public CsvReader(string path, char delimiter = ',')
    {
        _lines = new LineReader(path);
        _delimiter = delimiter;
        if (!Read()) throw new BadLineException(path, null, null, "file is empty (no header line)");
        if (Malformed is not null) throw new BadLineException(path, 1, null, $"header: {Malformed}");
        Header = new string[FieldCount];
        for (var i = 0; i < FieldCount; i++) Header[i] = this[i].Trim().ToString();
    }

    public string File => _lines.File;
    public string[] Header { get; }

    /// <summary>1-based number of the current line (the header is line 1).</summary>
    public long LineNumber => _lines.LineNumber;

    public int FieldCount { get; private set; }

    /// <summary>Why the current line cannot be split (an unterminated quote), else null.</summary>
    public string? Malformed { get; private set; }

    public ReadOnlySpan<char> this[int i] => (_quoted ? _scratch.AsSpan() : _line.AsSpan()).Slice(_start[i], _length[i]);

    /// <summary>Index of a header column; a missing one is a file-level error (no policy can skip it).</summary>
    public int Column(string name, string what)
    {
        var i = Array.IndexOf(Header, name);
        if (i >= 0) return i;
        throw new BadLineException(File, 1, null,
            $"header has no column '{name}' ({what}); the header is: {string.Join(_delimiter, Header)}");
    }

    public int? OptionalColumn(string name) => Array.IndexOf(Header, name) is var i and >= 0 ? i : null;

    /// <summary>Next non-blank line; false at the end of the file.</summary>
    public bool Read()
    {
        if (_lines.Next() is not { } line) return false;
        _line = line;
        Malformed = null;
        if (line.Contains('"')) SplitQuoted(line);
        else SplitPlain(line);
        return true;
    }

    private void SplitPlain(string line)
    {
        _quoted = false;
        var n = 0;
        var start = 0;
        while (true)
        {
            var rest = line.AsSpan(start);
            var at = rest.IndexOf(_delimiter);
            Add(ref n, start, at < 0 ? rest.Length : at);
            if (at < 0) break;
            start += at + 1;
        }
        FieldCount = n;
    }

    private void SplitQuoted(string line)
    {
        _quoted = true;
        if (_scratch.Length < line.Length) _scratch = new char[Math.Max(line.Length, _scratch.Length * 2)];
        int n = 0, o = 0, i = 0;
        while (true)
        {
            var cellStart = o;
            if (i < line.Length && line[i] == '"')
            {
                i++;
                var closed = false;
                while (i < line.Length)
                {
                    if (line[i] == '"')
                    {
                        if (i + 1 < line.Length && line[i + 1] == '"')
                        {
                            _scratch[o++] = '"';
                            i += 2;
                            continue;
                        }
                        i++;
                        closed = true;
                        break;
                    }
                    _scratch[o++] = line[i++];
                }
                if (!closed)
                {
                    Malformed = $"cell {n + 1} opens a quote that is not closed on this line";
                    FieldCount = 0;
                    return;
                }
                // text after the closing quote up to the delimiter is kept, as most readers do
            }
            while (i < line.Length && line[i] != _delimiter) _scratch[o++] = line[i++];
            Add(ref n, cellStart, o - cellStart);
            if (i >= line.Length) break;
            i++; // the delimiter
        }
        FieldCount = n;
    }

    private void Add(ref int n, int start, int length)
    {
        if (n == _start.Length)
        {
            Array.Resize(ref _start, n * 2);
            Array.Resize(ref _length, n * 2);
        }
        _start[n] = start;
        _length[n] = length;
        n++;
    }

    public void Dispose() => _lines.Dispose();

    /// <summary>Parses an integer cell (surrounding spaces allowed).</summary>
    public static bool TryLong(ReadOnlySpan<char> cell, out long value) =>
        long.TryParse(cell, NumberStyles.Integer, CultureInfo.InvariantCulture, out value);

    public static bool TryDouble(ReadOnlySpan<char> cell, out double value) =>
        double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);

    /// <summary>A cell quoted for an error message, cut to 40 characters.</summary>
    public static string Show(ReadOnlySpan<char> cell) => cell.Length <= 40 ? $"'{cell}'" : $"'{cell[..40]}...'";
}
