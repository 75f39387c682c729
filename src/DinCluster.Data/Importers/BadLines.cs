namespace DinCluster.Data.Importers;

/// <summary>Why an importer refused an input line. The snake_case names are the keys of import.json.</summary>
public enum BadLineReason
{
    /// <summary>A cell that must be a number is not (an empty cell included).</summary>
    NotANumber,

    /// <summary>A line with more or fewer cells than the header.</summary>
    WrongColumnCount,

    /// <summary>A label other than 0 or 1.</summary>
    InvalidLabel,

    /// <summary>hist_item_id and hist_category_id of different lengths (samples CSV).</summary>
    HistoryLengthMismatch,

    /// <summary>A CSV line with an unterminated quote, or a JSON / Python-literal line that does not parse.</summary>
    Malformed,

    /// <summary>A JSON line without a field the importer needs (or with a null or mistyped one).</summary>
    MissingField,

    /// <summary>An event whose item is not in the item file (MovieLens movies.csv, Amazon metadata).</summary>
    UnknownItem,

    /// <summary>An item listed twice in the item file (the first one is kept).</summary>
    DuplicateItem,
}

public static class BadLineReasonNames
{
    public static string SnakeCase(this BadLineReason reason) => reason switch
    {
        BadLineReason.NotANumber => "not_a_number",
        BadLineReason.WrongColumnCount => "wrong_column_count",
        BadLineReason.InvalidLabel => "invalid_label",
        BadLineReason.HistoryLengthMismatch => "history_length_mismatch",
        BadLineReason.Malformed => "malformed",
        BadLineReason.MissingField => "missing_field",
        BadLineReason.UnknownItem => "unknown_item",
        BadLineReason.DuplicateItem => "duplicate_item",
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, null),
    };
}

/// <summary>
/// An input line an importer cannot use: "data/ratings.csv: line 17: rating is 'x', not a number".
/// Lines are 1-based and count the header, as editors do. <see cref="Line"/> is null for a file-level
/// problem (no header); <see cref="Reason"/> is null for problems no policy can skip (a missing header column).
/// </summary>
public sealed class BadLineException(string file, long? line, BadLineReason? reason, string detail)
    : Exception(line is null ? $"{file}: {detail}" : $"{file}: line {line}: {detail}")
{
    public string File { get; } = file;
    public long? Line { get; } = line;

    /// <summary>Null for file-level problems, which no policy can skip.</summary>
    public BadLineReason? Reason { get; } = reason;

    public string Detail { get; } = detail;
}

/// <summary>
/// Applies `--on-bad-input` to input lines: Fail throws a <see cref="BadLineException"/> at the first bad
/// line; Skip counts it by reason and keeps the first few messages as examples for import.json.
/// </summary>
public sealed class BadLines(BadInputPolicy policy)
{
    public const int MaxExamples = 10;

    private readonly long[] _counts = new long[Enum.GetValues<BadLineReason>().Length];

    public BadInputPolicy Policy { get; } = policy;
    public List<string> Examples { get; } = [];
    public long Total => _counts.Sum();

    public long Count(BadLineReason reason) => _counts[(int)reason];

    /// <summary>Fail: throws. Skip: counts the line; the caller drops it.</summary>
    public void Report(string file, long line, BadLineReason reason, string detail)
    {
        var bad = new BadLineException(file, line, reason, detail);
        if (Policy == BadInputPolicy.Fail) throw bad;
        _counts[(int)reason]++;
        if (Examples.Count < MaxExamples) Examples.Add(bad.Message);
    }

    /// <summary>Reasons with a non-zero count, by snake_case name.</summary>
    public Dictionary<string, long> Snapshot()
    {
        var named = new Dictionary<string, long>(StringComparer.Ordinal);
        for (var r = 0; r < _counts.Length; r++)
            if (_counts[r] != 0) named[((BadLineReason)r).SnakeCase()] = _counts[r];
        return named;
    }
}
